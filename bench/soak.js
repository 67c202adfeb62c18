#!/usr/bin/env node
'use strict';
// Soak run of kinto-push (not in CI): steady publishing and reconnecting clients for a long
// time, on 127.0.0.1 only, against one server started here. Every --sample seconds it records
// the server's RSS (/proc/PID/status) and open file descriptors (/proc/PID/fd) in a CSV, and at
// the end prints the first and last values and the slope of a least-squares line fitted to the
// samples after the warm-up (the first fifth of the run), per hour.
//
//   node bench/soak.js --bin build/release/server/kinto-push [--minutes 30] [--sample 10]
//        [--rate 100] [--clients 100] [--channels 20] [--store sqlite|memory] [--warmup 300]
//        [--out soak.csv]
//
// Publishing: --rate events/s, one record event per POST, spread over --channels collection
// channels. Clients: --clients connections, each subscribed to one collection channel (and a
// tenth also to its bucket), each leaving after 5 to 30 s and resuming from its last offset on
// a new connection (checked: no hole, no duplicate). Plus one short-lived connection per
// second that subscribes and leaves. Bounded: it stops after --minutes, and exits non-zero if
// the server died or a client saw a hole or a duplicate.

const { spawn } = require('node:child_process');
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
const MINUTES = Number(option('minutes', 30));
const SAMPLE_S = Number(option('sample', 10));
const RATE = Number(option('rate', 100));
const CLIENTS = Number(option('clients', 100));
const CHANNELS = Number(option('channels', 20));
const STORE = option('store', 'sqlite');
// The history fills up first (--history-size 1000 per channel: 1000 * CHANNELS / RATE s).
const WARMUP_S = Number(option('warmup', 300));
const OUT = option('out', `soak-${new Date().toISOString().replace(/[:.]/g, '-')}.csv`);
if (!BIN) {
  console.error('usage: node bench/soak.js --bin PATH_TO_kinto-push [--minutes 30] [--sample 10] [--rate 100] ...');
  process.exit(2);
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kinto-push-soak-'));
const storeArg = STORE === 'memory' ? 'memory' : `sqlite:${path.join(dir, 'history.sqlite3')}`;
const channelOf = (i) => `/buckets/soak/collections/c${i % CHANNELS}`;
const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });

function start() {
  return new Promise((resolve, reject) => {
    const proc = spawn(BIN, ['--listen', '127.0.0.1:0', '--store', storeArg, '--shards', '2'],
      { stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    const timer = setTimeout(() => { proc.kill('SIGKILL'); reject(new Error(`no start: ${log}`)); }, 10_000);
    proc.stderr.on('data', (c) => {
      log += c;
      if (log.length > 65536) log = log.slice(-32768);
      const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(log);
      if (m && timer) { clearTimeout(timer); resolve({ proc, port: Number(m[1]), log: () => log }); }
    });
    proc.on('exit', (code, signal) => reject(new Error(`exited ${code} ${signal}: ${log}`)));
  });
}

function post(port, body) {
  return new Promise((resolve) => {
    const data = JSON.stringify(body);
    const req = http.request({ host: '127.0.0.1', port, path: '/v1/events', method: 'POST', agent,
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.on('error', () => resolve(0));
    req.setTimeout(10_000, () => req.destroy());
    req.end(data);
  });
}

let seq = 0;
function event(channelIndex) {
  seq += 1;
  const ts = 1717000000000 + seq;
  const cid = `c${channelIndex % CHANNELS}`;
  const rid = `r${seq % 5000}`;
  return {
    payload: { timestamp: ts, action: 'update', uri: `/buckets/soak/collections/${cid}/records/${rid}`,
      user_id: 'account:soak', resource_name: 'record', bucket_id: 'soak', collection_id: cid, record_id: rid },
    impacted_objects: [{ new: { id: rid, last_modified: ts, text: 'x'.repeat(200) }, old: { id: rid, last_modified: ts - 1 } }],
  };
}

function readProc(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const rss = Number(/VmRSS:\s+(\d+)/.exec(status)[1]);
  const fds = fs.readdirSync(`/proc/${pid}/fd`).length;
  return { rssKiB: rss, fds };
}

// Least-squares slope of y over x.
function slope(xs, ys) {
  const n = xs.length;
  if (n < 2) return 0;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) { num += (xs[i] - mx) * (ys[i] - my); den += (xs[i] - mx) ** 2; }
  return den ? num / den : 0;
}

const stats = { published: 0, refused: 0, delivered: 0, reconnects: 0, holes: 0, duplicates: 0, notRecovered: 0, churn: 0, errors: 0 };

// One logical subscriber, reconnecting with `since` (epoch, last offset) after a random life.
function subscriber(port, index, stopAt) {
  const channels = [channelOf(index)];
  if (index % 10 === 0) channels.push('/buckets/soak');
  const last = new Map();
  let epoch = null;
  const connectOnce = () => new Promise((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/v1/ws`);
    const life = 5_000 + Math.random() * 25_000;
    let timer = null;
    ws.on('open', () => {
      for (const channel of channels) {
        const frame = { type: 'subscribe', id: channel, channel };
        if (epoch && last.has(channel)) frame.since = { epoch, offset: last.get(channel) };
        ws.send(JSON.stringify(frame));
      }
      timer = setTimeout(() => ws.close(), Math.min(life, Math.max(0, stopAt - Date.now())));
    });
    ws.on('message', (data) => {
      const f = JSON.parse(data);
      if (f.type === 'subscribed') {
        if (epoch && f.epoch !== epoch) stats.notRecovered += 1;
        epoch = f.epoch;
        if (f.recovered === false || !last.has(f.channel)) last.set(f.channel, f.offset);
        if (f.recovered === false) stats.notRecovered += 1;
      } else if (f.type === 'event') {
        const prev = last.get(f.channel) ?? 0;
        if (f.offset === prev + 1) stats.delivered += 1;
        else if (f.offset <= prev) stats.duplicates += 1;
        else stats.holes += 1;
        last.set(f.channel, Math.max(prev, f.offset));
      } else if (f.type === 'error') {
        stats.errors += 1;
      }
    });
    ws.on('error', () => { stats.errors += 1; });
    ws.on('close', () => { clearTimeout(timer); resolve(); });
  });
  return (async () => {
    while (Date.now() < stopAt) {
      await connectOnce();
      stats.reconnects += 1;
    }
  })();
}

async function main() {
  const server = await start();
  const { proc, port } = server;
  let died = null;
  proc.on('exit', (code, signal) => { died = `exited ${code} ${signal}`; });
  const started = Date.now();
  const stopAt = started + MINUTES * 60_000;
  console.log(`soak: ${MINUTES} min, ${RATE} events/s on ${CHANNELS} channels, ${CLIENTS} reconnecting clients, ` +
              `store ${STORE}, server pid ${proc.pid}, samples every ${SAMPLE_S} s to ${OUT}`);

  const out = fs.createWriteStream(OUT);
  out.write('seconds,rss_kib,fds,published,delivered,reconnects,churn,holes,duplicates\n');
  const samples = [];
  const sample = () => {
    if (died) return;
    const s = { t: (Date.now() - started) / 1000, ...readProc(proc.pid) };
    samples.push(s);
    out.write(`${s.t.toFixed(1)},${s.rssKiB},${s.fds},${stats.published},${stats.delivered},${stats.reconnects},` +
              `${stats.churn},${stats.holes},${stats.duplicates}\n`);
  };
  sample();
  const sampler = setInterval(sample, SAMPLE_S * 1000);

  // Publisher: RATE events/s, paced by the clock.
  const publisher = (async () => {
    let i = 0;
    while (Date.now() < stopAt && !died) {
      const due = started + (i * 1000) / RATE;
      const wait = due - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const status = await post(port, event(i));
      if (status === 202) stats.published += 1; else stats.refused += 1;
      i += 1;
    }
  })();
  const subscribers = Array.from({ length: CLIENTS }, (_, i) => subscriber(port, i, stopAt));
  // Churn: one short-lived connection per second.
  const churn = setInterval(() => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/v1/ws`);
    ws.on('open', () => ws.send(JSON.stringify({ type: 'subscribe', id: '1', channel: channelOf(stats.churn) })));
    ws.on('message', (d) => { if (JSON.parse(d).type === 'subscribed') ws.close(); });
    ws.on('error', () => {});
    ws.on('close', () => { stats.churn += 1; });
  }, 1000);

  await publisher;
  clearInterval(churn);
  await Promise.all(subscribers);
  clearInterval(sampler);
  const during = samples.length;   // the slopes use the samples taken under load only
  await new Promise((r) => setTimeout(r, 2_000));   // let the last connections end
  sample();
  out.end();
  if (!died) proc.kill('SIGTERM');

  const warm = samples.slice(0, during).filter((s) => s.t >= Math.min(WARMUP_S, (MINUTES * 60) / 2));
  const hours = (xs) => xs.map((s) => s.t / 3600);
  const rssSlope = slope(hours(warm), warm.map((s) => s.rssKiB / 1024));
  const fdSlope = slope(hours(warm), warm.map((s) => s.fds));
  const first = samples[0];
  const lastS = samples[samples.length - 1];
  const maxRss = Math.max(...samples.map((s) => s.rssKiB)) / 1024;
  const maxFds = Math.max(...samples.map((s) => s.fds));
  const summary = {
    minutes: ((Date.now() - started) / 60000).toFixed(1), samples: samples.length,
    rss_mib: { first: (first.rssKiB / 1024).toFixed(1), after_warmup: warm.length ? (warm[0].rssKiB / 1024).toFixed(1) : null,
      last: (lastS.rssKiB / 1024).toFixed(1), max: maxRss.toFixed(1), slope_mib_per_hour_after_warmup: rssSlope.toFixed(2) },
    fds: { first: first.fds, under_load_last: samples[during - 1].fds, after_the_clients_left: lastS.fds, max: maxFds,
      slope_per_hour_after_warmup: fdSlope.toFixed(2) },
    ...stats, died,
  };
  console.log(JSON.stringify(summary, null, 2));
  fs.rmSync(dir, { recursive: true, force: true });
  process.exit(died || stats.holes || stats.duplicates ? 1 : 0);
}

main().catch((e) => { console.error(e); process.exit(1); });
