#!/usr/bin/env node
'use strict';
// Store benchmarks of kinto-push, each on a freshly started server, on 127.0.0.1 only:
//   ingest: acknowledged events/s for each store (sqlite full, sqlite normal, memory, redis
//           with one node, redis with two nodes sharing the publishers) with 1, 10 and 100
//           events per POST, P publishers in parallel, for a bounded time; each Redis row
//           starts its own redis-server (appendonly yes, appendfsync everysec);
//   resume: time for one client to resume 1,000 events, from memory and from disk;
//   redis memory: bytes Redis holds per stored event (MEMORY USAGE), after 1,000 events.
// Every configuration runs --reps times, interleaved; the table gives medians.
//
//   node store-bench.js --bin ../build/release/server/kinto-push [--reps 3] [--seconds 5]
//                       [--publishers 8] [--out results.json]

const { spawn, execFileSync } = require('node:child_process');
const net = require('node:net');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const http = require('node:http');
const WebSocket = require('ws');

const args = process.argv.slice(2);
function option(name, fallback) {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
}
const BIN = option('bin', process.env.KINTO_PUSH_BIN);
const REPS = Number(option('reps', 3));
const SECONDS = Number(option('seconds', 5));
const PUBLISHERS = Number(option('publishers', 8));
const OUT = option('out', null);
if (!BIN) {
  console.error('usage: node store-bench.js --bin PATH_TO_kinto-push [--reps N] [--seconds S] [--publishers P]');
  process.exit(2);
}

function start(storeArgs) {
  return new Promise((resolve, reject) => {
    const proc = spawn(BIN, ['--listen', '127.0.0.1:0', ...storeArgs], { stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    const timer = setTimeout(() => { proc.kill('SIGKILL'); reject(new Error(`no start: ${log}`)); }, 10_000);
    proc.stderr.on('data', (c) => {
      log += c;
      const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(log);
      if (m) { clearTimeout(timer); resolve({ proc, port: Number(m[1]) }); }
    });
  });
}

const startServer = start;

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => { const { port } = srv.address(); srv.close(() => resolve(port)); });
  });
}

// A private redis-server in `dir`; resolves with {proc, port, url} once it accepts connections.
async function startRedis(dir) {
  const port = await freePort();
  const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '',
    '--appendonly', 'yes', '--appendfsync', 'everysec'], { stdio: ['ignore', 'pipe', 'ignore'] });
  await new Promise((resolve, reject) => {
    let log = '';
    const timer = setTimeout(() => { proc.kill('SIGKILL'); reject(new Error(`redis-server: ${log}`)); }, 10_000);
    proc.stdout.on('data', (c) => {
      log += c;
      if (/Ready to accept connections/.test(log)) { clearTimeout(timer); resolve(); }
    });
  });
  return { proc, port, url: `redis://127.0.0.1:${port}/0` };
}

function redisCli(redis, ...command) {
  return execFileSync('redis-cli', ['-h', '127.0.0.1', '-p', String(redis.port), ...command], { encoding: 'utf8' }).trim();
}

function stop(server) {
  return new Promise((resolve) => {
    const timer = setTimeout(() => server.proc.kill('SIGKILL'), 10_000);
    server.proc.once('exit', () => { clearTimeout(timer); resolve(); });
    server.proc.kill('SIGTERM');
  });
}

let seq = 0;
function transaction(eventsPerPost) {
  const events = [];
  for (let i = 0; i < eventsPerPost; i++) {
    const n = ++seq;
    const ts = 1717000000000 + n;
    events.push({
      payload: { timestamp: ts, action: 'create', uri: `/buckets/bench/collections/c${n % 10}/records/r${n}`, user_id: 'bench',
        resource_name: 'record', bucket_id: 'bench', collection_id: `c${n % 10}`, record_id: `r${n}` },
      impacted_objects: [{ new: { id: `r${n}`, last_modified: ts, title: 'x'.repeat(100) } }],
    });
  }
  return JSON.stringify({ events });
}

function post(agent, port, body) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: '/v1/events', method: 'POST', agent,
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.on('error', reject);
    req.end(body);
  });
}

// `nodes` servers with the same store arguments; publisher i posts to server i % nodes.
async function ingest(storeArgs, eventsPerPost, nodes = 1) {
  const servers = [];
  for (let i = 0; i < nodes; i++) servers.push(await startServer(storeArgs));
  const agent = new http.Agent({ keepAlive: true, maxSockets: PUBLISHERS });
  let acked = 0;
  let failed = 0;
  const started = process.hrtime.bigint();
  const until = Date.now() + SECONDS * 1000;
  const worker = async (i) => {
    const port = servers[i % nodes].port;
    while (Date.now() < until) {
      const status = await post(agent, port, transaction(eventsPerPost));
      if (status === 202) acked += eventsPerPost; else failed++;
    }
  };
  await Promise.all(Array.from({ length: PUBLISHERS }, (_, i) => worker(i)));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  agent.destroy();
  for (const server of servers) await stop(server);
  return { eventsPerSecond: acked / seconds, failed };
}

// Bytes Redis holds per event: 1,000 events (10 per POST) on /buckets/bench (and 100 on each
// of its 10 collections), then MEMORY USAGE of the firehose-like bucket stream and of the
// idempotency keys, and used_memory's growth over all the stored parts.
async function redisMemory() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kp-bench-'));
  const redis = await startRedis(dir);
  const server = await startServer(['--store', redis.url, '--history-size', '5000']);
  const usedBefore = Number(/used_memory:(\d+)/.exec(redisCli(redis, 'INFO', 'memory'))[1]);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  for (let i = 0; i < 100; i++) await post(agent, server.port, transaction(10));
  agent.destroy();
  const stream = Number(redisCli(redis, 'MEMORY', 'USAGE', 'kp:s:/buckets/bench', 'SAMPLES', '0'));
  const keys = redisCli(redis, '--scan', '--pattern', 'kp:dedupe:*').split('\n').filter(Boolean);
  let dedupe = 0;
  for (const key of keys.slice(0, 100)) dedupe += Number(redisCli(redis, 'MEMORY', 'USAGE', key));
  const usedAfter = Number(/used_memory:(\d+)/.exec(redisCli(redis, 'INFO', 'memory'))[1]);
  await stop(server);
  redis.proc.kill('SIGKILL');
  fs.rmSync(dir, { recursive: true, force: true });
  const body = JSON.parse(transaction(1)).events[0];
  return {
    bodyBytes: JSON.stringify({ payload: body.payload, impacted_objects: body.impacted_objects }).length,
    streamBytesPerEvent: stream / 1000,
    dedupeBytesPerEvent: dedupe / Math.min(100, keys.length),
    usedBytesPerEvent: (usedAfter - usedBefore) / 1000,   // 3 stream entries + 1 key per event
  };
}

function subscribeAndCount(port, channel, since, count) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/v1/ws`);
    let got = 0;
    let t0;
    const timer = setTimeout(() => { ws.terminate(); reject(new Error(`resume got ${got}/${count}`)); }, 30_000);
    ws.on('open', () => {
      t0 = process.hrtime.bigint();
      ws.send(JSON.stringify({ type: 'subscribe', id: '1', channel, since }));
    });
    ws.on('message', (data) => {
      const frame = JSON.parse(data);
      if (frame.type === 'subscribed' && !frame.recovered) reject(new Error('not recovered'));
      if (frame.type === 'event' && ++got === count) {
        const ms = Number(process.hrtime.bigint() - t0) / 1e6;
        clearTimeout(timer);
        ws.close();
        resolve(ms);
      }
    });
    ws.on('error', reject);
  });
}

// Resume 1,000 events: `memory` keeps them in the SQLite store's memory tail; `disk` restarts
// the server first, so that every page comes from the file.
async function resume(where) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kp-bench-'));
  const storeArgs = ['--store', `sqlite:${dir}/h.sqlite3`, '--history-size', '5000', '--durability', 'normal',
    '--history-cache', where === 'memory' ? '2000' : '100'];
  let server = await startServer(storeArgs);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const epochRes = await new Promise((resolve) => http.get({ host: '127.0.0.1', port: server.port, path: '/v1/' }, (res) => {
    let t = ''; res.on('data', (c) => { t += c; }); res.on('end', () => resolve(JSON.parse(t)));
  }));
  for (let i = 0; i < 100; i++) await post(agent, server.port, transaction(10));   // 1,000 events over c0..c9
  agent.destroy();
  // Channel /buckets/bench holds all 1,000 (plus the collection channels).
  if (where === 'disk') {
    await stop(server);
    server = await startServer(storeArgs);
  }
  const ms = await subscribeAndCount(server.port, '/buckets/bench', { epoch: epochRes.epoch, offset: 0 }, 1000);
  await stop(server);
  fs.rmSync(dir, { recursive: true, force: true });
  return { ms };
}

function median(values) {
  const s = [...values].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

(async () => {
  const stores = {
    'sqlite full': (dir) => ['--store', `sqlite:${dir}/h.sqlite3`, '--durability', 'full'],
    'sqlite normal': (dir) => ['--store', `sqlite:${dir}/h.sqlite3`, '--durability', 'normal'],
    memory: () => ['--store', 'memory'],
    'redis, 1 node': (dir, redis) => ['--store', redis.url],
    'redis, 2 nodes': (dir, redis) => ['--store', redis.url],
  };
  const nodesOf = (name) => (name === 'redis, 2 nodes' ? 2 : 1);
  const sizes = [1, 10, 100];
  const runs = {};
  for (let rep = 0; rep < REPS; rep++) {
    for (const size of sizes) {
      for (const [name, argsOf] of Object.entries(stores)) {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kp-bench-'));
        const redis = name.startsWith('redis') ? await startRedis(dir) : null;
        const r = await ingest(argsOf(dir, redis), size, nodesOf(name));
        if (redis) redis.proc.kill('SIGKILL');
        fs.rmSync(dir, { recursive: true, force: true });
        const key = `${name}|${size}`;
        (runs[key] ||= []).push(r.eventsPerSecond);
        console.error(`rep ${rep + 1} ingest ${name}, ${size}/POST: ${Math.round(r.eventsPerSecond)} events/s (${r.failed} failed)`);
      }
    }
    for (const where of ['memory', 'disk']) {
      const r = await resume(where);
      (runs[`resume|${where}`] ||= []).push(r.ms);
      console.error(`rep ${rep + 1} resume 1000 from ${where}: ${r.ms.toFixed(1)} ms`);
    }
  }
  const lines = [];
  lines.push(`Acknowledged events/s (median of ${REPS} runs of ${SECONDS} s, ${PUBLISHERS} publishers, 10 collections):`, '');
  lines.push('| store | 1 event/POST | 10 events/POST | 100 events/POST |', '|---|---:|---:|---:|');
  for (const name of Object.keys(stores))
    lines.push(`| ${name} | ${sizes.map((s) => Math.round(median(runs[`${name}|${s}`])).toLocaleString('en')).join(' | ')} |`);
  lines.push('', `Resume of 1,000 events on one channel (median of ${REPS}, ms from subscribe to the 1,000th event):`, '');
  lines.push('| from | ms |', '|---|---:|');
  for (const where of ['memory', 'disk']) lines.push(`| ${where} | ${median(runs[`resume|${where}`]).toFixed(1)} |`);
  const memory = await redisMemory();
  lines.push('', 'Redis memory per event (one run; bodies of about ' + memory.bodyBytes + ' bytes):', '');
  lines.push('| what | bytes |', '|---|---:|');
  lines.push(`| one stream entry (MEMORY USAGE of a 1,000-entry stream / 1,000) | ${Math.round(memory.streamBytesPerEvent)} |`);
  lines.push(`| one idempotency key (MEMORY USAGE, mean of 100) | ${Math.round(memory.dedupeBytesPerEvent)} |`);
  lines.push(`| used_memory growth per Kinto event (3 channels + 1 key) | ${Math.round(memory.usedBytesPerEvent)} |`);
  runs.redisMemory = memory;
  console.log(lines.join('\n'));
  if (OUT) fs.writeFileSync(OUT, JSON.stringify({ date: new Date().toISOString(), reps: REPS, seconds: SECONDS, publishers: PUBLISHERS, runs }, null, 2));
})().catch((e) => { console.error(e); process.exit(1); });
