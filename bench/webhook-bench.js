#!/usr/bin/env node
'use strict';
// Webhook benchmark of kinto-push (issue 20), on 127.0.0.1 only, each repetition on a freshly
// started server (--shards 2, --webhook-allow-private, --history-size 100000):
//
//   fanout:  --webhooks W (100) webhooks, each on a receiver of its own (Node `http` servers
//            spread over --receiver-procs child processes) and subscribed to every one of
//            --channels C (20) collection channels; --rate R (200) Kinto record events/s,
//            one per POST /v1/events, round-robin over the C channels, for --warmup s then
//            --seconds s (measured), then a bounded drain. Reports deliveries/s (requests and
//            events acknowledged, counted by the receivers and by /metrics), the lag per
//            event (receiver arrival minus publish time, p50/p99/max, events published in the
//            measured window), server CPU per delivered event (utime+stime of
//            /proc/PID/stat over the window), server RSS/PSS (peak and end), receivers' and
//            publisher's CPU, and the loss check: every receiver got every offset of every
//            channel (missing, duplicates).
//   backlog: one webhook, max_batch 100, since {"timestamp": 0}, on a channel holding
//            --backlog N (100,000) events published beforehand (1,000 per POST); one receiver
//            answering 200 at once. Reports events/s drained (from the creation request to the
//            arrival of the last offset), requests/s, server CPU.
//
//   cd bench && node webhook-bench.js --bin ../build/release/server/kinto-push \
//        [--shape fanout|backlog|both] [--store sqlite|memory] [--reps 3] [--seconds 30]
//        [--warmup 5] [--rate 200] [--webhooks 100] [--channels 20] [--channels-per-webhook 20] [--max-batch 1]
//        [--receiver-procs 2] [--backlog 100000] [--drain 90] [--durability full|normal]
//        [--out results.json]
//
// Every loop is bounded in count and time; the server and the receiver processes are started
// here and stopped by PID (SIGTERM, then SIGKILL after 10 s). Receivers do not verify the
// signatures (that is the consumer's CPU, not the server's). No dependency beyond Node.

const { spawn, fork, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const http = require('node:http');
const { performance } = require('node:perf_hooks');
const { LAG_STEP_MS } = require('./webhook-receivers');   // the receivers' lag histogram step

const args = process.argv.slice(2);
function option(name, fallback) {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
}
const nowMs = () => performance.timeOrigin + performance.now();   // wall clock, sub-ms, same across processes
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));


// ---------------------------------------------------------------------------------------
// Coordinator
// ---------------------------------------------------------------------------------------
const BIN = option('bin', process.env.KINTO_PUSH_BIN);
const SHAPE = option('shape', 'both');
const STORE = option('store', 'sqlite');
const REPS = Number(option('reps', 3));
const SECONDS = Number(option('seconds', 30));
const WARMUP = Number(option('warmup', 5));
const RATE = Number(option('rate', 200));
const WEBHOOKS = Number(option('webhooks', 100));
const CHANNELS = Number(option('channels', 20));
const PER_WEBHOOK = Number(option('channels-per-webhook', CHANNELS));   // channels each webhook follows
const MAX_BATCH = Number(option('max-batch', 1));
const RECEIVER_PROCS = Number(option('receiver-procs', 2));
const BACKLOG = Number(option('backlog', 100_000));
const DRAIN = Number(option('drain', 90));
const SHARDS = Number(option('shards', 2));
const DURABILITY = option('durability', null);   // sqlite: full (the server's default) or normal
const OUT = option('out', null);
if (!BIN || !['fanout', 'backlog', 'both'].includes(SHAPE) || !['sqlite', 'memory'].includes(STORE)
    || !(REPS >= 1 && REPS <= 20) || !(SECONDS > 0 && SECONDS <= 600) || !(RATE > 0 && RATE <= 20_000)
    || !(WEBHOOKS >= 1 && WEBHOOKS <= 1000) || !(CHANNELS >= 1 && CHANNELS <= 100) || !(PER_WEBHOOK >= 1 && PER_WEBHOOK <= CHANNELS)
    || !(RECEIVER_PROCS >= 1 && RECEIVER_PROCS <= 16) || !(BACKLOG >= 1 && BACKLOG <= 1_000_000)) {
  console.error('usage: node webhook-bench.js --bin PATH_TO_kinto-push [--shape fanout|backlog|both] [--store sqlite|memory] [--reps N] ...');
  process.exit(2);
}
const TICK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

// --- /proc sampling ---
function cpuSeconds(pid) {   // utime + stime of a process, in seconds
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICK;   // fields 14 and 15 of stat
  } catch { return NaN; }
}
function memoryKiB(pid) {
  let rss = NaN; let pss = NaN;
  try { rss = Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))[1]); } catch { /* gone */ }
  try { pss = Number(/Pss:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))[1]); } catch { /* gone */ }
  return { rss, pss };
}
function memorySampler(pid) {
  const peak = { rss: 0, pss: 0 };
  const take = () => {
    const m = memoryKiB(pid);
    if (m.rss > peak.rss) peak.rss = m.rss;
    if (m.pss > peak.pss) peak.pss = m.pss;
    return m;
  };
  const timer = setInterval(take, 500);
  return { peak, stop() { clearInterval(timer); return take(); } };
}
function selfCpuSeconds() { const u = process.cpuUsage(); return (u.user + u.system) / 1e6; }

// --- server ---
function startServer(dir) {
  const storeArgs = STORE === 'sqlite' ? ['--store', `sqlite:${path.join(dir, 'kp.sqlite3')}`] : ['--store', 'memory'];
  return new Promise((resolve, reject) => {
    const proc = spawn(BIN, ['--listen', '127.0.0.1:0', ...storeArgs, '--shards', String(SHARDS),
      '--webhook-allow-private', '--history-size', String(Math.max(100_000, BACKLOG)),
      ...(DURABILITY && STORE === 'sqlite' ? ['--durability', DURABILITY] : [])],
    { stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    let port = 0;
    const timer = setTimeout(() => { proc.kill('SIGKILL'); reject(new Error(`no start: ${log}`)); }, 15_000);
    proc.stderr.on('data', (c) => {
      log = (log + c).slice(-20_000);
      const m = !port && /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(log);
      if (m) { port = Number(m[1]); clearTimeout(timer); resolve({ proc, port, log: () => log }); }
    });
    proc.once('exit', (code) => { if (!port) { clearTimeout(timer); reject(new Error(`exited ${code}: ${log}`)); } });
  });
}
function stopProcess(proc) {
  return new Promise((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) { resolve(); return; }
    const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
    proc.once('exit', () => { clearTimeout(timer); resolve(); });
    proc.kill('SIGTERM');
  });
}

// Webhook i follows PER_WEBHOOK consecutive channels from (i * PER_WEBHOOK) % CHANNELS, so
// with PER_WEBHOOK < CHANNELS every channel has about WEBHOOKS * PER_WEBHOOK / CHANNELS webhooks.
function channelsOf(i) {
  return Array.from({ length: PER_WEBHOOK }, (_, j) => `/buckets/bench/collections/c${(i * PER_WEBHOOK + j) % CHANNELS}`);
}

// --- receivers ---
async function startReceivers(total, procs) {
  const children = [];
  const perProc = Array.from({ length: procs }, (_, p) => Math.floor(total / procs) + (p < total % procs ? 1 : 0)).filter((n) => n > 0);
  for (const n of perProc) {
    const child = fork(path.join(__dirname, 'webhook-receivers.js'), ['--servers', String(n)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const ports = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('receiver did not start')), 10_000);
      child.once('message', (m) => { clearTimeout(timer); resolve(m.ports); });
    });
    children.push({ child, ports, pending: new Map() });
    child.on('message', (m) => {
      const c = children.find((x) => x.child === child);
      const done = c.pending.get(m.id);
      if (done) { c.pending.delete(m.id); done(m); }
    });
  }
  let nextId = 1;
  const ask = (c, message) => new Promise((resolve, reject) => {
    const id = nextId++;
    const timer = setTimeout(() => reject(new Error(`receiver ${c.child.pid} did not answer ${message.type}`)), 60_000);
    c.pending.set(id, (m) => { clearTimeout(timer); resolve(m); });
    c.child.send({ ...message, id });
  });
  // Receiver i lives in process i % procs, at that process's next port.
  const ports = [];
  for (let i = 0; i < total; i++) ports.push(children[i % children.length].ports[Math.floor(i / children.length)]);
  return {
    ports,
    pids: children.map((c) => c.child.pid),
    window(from, to) { for (const c of children) c.child.send({ type: 'window', from, to }); },
    async progress() {
      const answers = await Promise.all(children.map((c) => ask(c, { type: 'progress' })));
      return { distinct: answers.reduce((s, a) => s + a.distinct, 0), lastNew: Math.max(...answers.map((a) => a.lastNew)) };
    },
    async report(expected) {
      // Receiver k of process c is receiver k * procs + c: it expects the channels of that webhook.
      const answers = await Promise.all(children.map((c, ci) => ask(c, { type: 'report', expected,
        channels: c.ports.map((_, k) => channelsOf(k * children.length + ci)) })));
      const sum = (k) => answers.reduce((s, a) => s + a[k], 0);
      const lag = new Map();
      for (const a of answers) for (const [b, n] of a.lagBuckets) lag.set(b, (lag.get(b) || 0) + n);
      return { missing: sum('missing'), duplicates: sum('duplicates'), requests: sum('requests'), events: sum('events'),
        windowRequests: sum('windowRequests'), windowEvents: sum('windowEvents'), resyncs: sum('resyncs'),
        receiversMissing: sum('receiversMissing'), lag, lagMax: Math.max(...answers.map((a) => a.lagMax)),
        lastNew: Math.max(...answers.map((a) => a.lastNew)) };
    },
    cpu() { return children.reduce((s, c) => s + cpuSeconds(c.child.pid), 0); },
    async stop() { await Promise.all(children.map((c) => stopProcess(c.child))); },
  };
}
function percentile(lag, p) {
  const sorted = [...lag.entries()].sort((a, b) => a[0] - b[0]);
  const total = sorted.reduce((s, [, n]) => s + n, 0);
  if (!total) return NaN;
  let seen = 0;
  for (const [b, n] of sorted) { seen += n; if (seen >= p * total) return b * LAG_STEP_MS; }
  return sorted[sorted.length - 1][0] * LAG_STEP_MS;
}

// --- HTTP to the server ---
function request(agent, port, method, urlPath, body) {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : (typeof body === 'string' ? body : JSON.stringify(body));
    const headers = data === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) };
    const req = http.request({ host: '127.0.0.1', port, path: urlPath, method, agent, headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.setTimeout(30_000, () => req.destroy(new Error(`${method} ${urlPath}: no answer in 30 s`)));
    req.on('error', reject);
    req.end(data);
  });
}
async function metrics(port) {
  const { body } = await request(undefined, port, 'GET', '/metrics');
  const value = (re) => { const m = re.exec(body); return m ? Number(m[1]) : 0; };
  return { requests: value(/^kinto_push_webhook_deliveries_total\{result="success"\} (\S+)/m),
    events: value(/^kinto_push_webhook_events_total (\S+)/m),
    retries: value(/^kinto_push_webhook_retries_total (\S+)/m) };
}

// A Kinto record update (about 400 bytes), its publish time in the new record's `sent_at`.
let seq = 0;
function recordEvent(collection) {
  const n = ++seq;
  const ts = 1765000000000 + n;
  return {
    payload: { timestamp: ts, action: 'update', uri: `/buckets/bench/collections/${collection}/records/r${n}`,
      user_id: 'account:bench', resource_name: 'record', bucket_id: 'bench', collection_id: collection, record_id: `r${n}` },
    impacted_objects: [{ new: { id: `r${n}`, last_modified: ts, title: 'x'.repeat(100), sent_at: nowMs() },
      old: { id: `r${n}`, last_modified: ts - 1, title: 'before' } }],
  };
}

const median = (xs) => { const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b); return s.length ? (s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2) : NaN; };

// ---------------------------------------------------------------------------------------
async function fanoutRun(rep) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kp-wh-bench-'));
  const server = await startServer(dir);
  const receivers = await startReceivers(WEBHOOKS, RECEIVER_PROCS);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
  try {
    for (const [i, port] of receivers.ports.entries()) {
      const res = await request(agent, server.port, 'POST', '/v1/webhooks',
        { url: `http://127.0.0.1:${port}/hook`, channels: channelsOf(i), max_batch: MAX_BATCH });
      if (res.status !== 201) throw new Error(`POST /v1/webhooks: ${res.status} ${res.body}`);
    }
    const memory = memorySampler(server.proc.pid);
    const published = {};   // channel -> [first, last]
    let offered = 0; let failed = 0; let skipped = 0; let outstanding = 0;
    const failedStatuses = {};
    const publish = (collection) => {
      outstanding++;
      request(agent, server.port, 'POST', '/v1/events', recordEvent(collection)).then((res) => {
        if (res.status !== 202) { failed++; failedStatuses[res.status] = (failedStatuses[res.status] || 0) + 1; return; }
        const { channel, offset } = JSON.parse(res.body).published[0];
        const range = published[channel] || (published[channel] = [offset, offset]);
        if (offset < range[0]) range[0] = offset;
        if (offset > range[1]) range[1] = offset;
      }, () => { failed++; }).finally(() => { outstanding--; });
    };
    const start = nowMs();
    const warmEnd = start + WARMUP * 1000;
    const end = warmEnd + SECONDS * 1000;
    receivers.window(warmEnd, end);
    let at = null;   // CPU and metrics at the start of the measured window
    await new Promise((resolve) => {
      const timer = setInterval(() => {
        const now = nowMs();
        if (at === null && now >= warmEnd) {
          at = { server: cpuSeconds(server.proc.pid), receivers: receivers.cpu(), self: selfCpuSeconds(), time: now };
          metrics(server.port).then((m) => { at.metrics = m; }, () => {});
        }
        const due = Math.min(Math.floor(((Math.min(now, end) - start) / 1000) * RATE), Math.round((WARMUP + SECONDS) * RATE));
        while (offered < due) {
          if (outstanding >= 1000) { skipped += due - offered; offered = due; break; }   // publishing itself is stuck
          publish(`c${offered % CHANNELS}`);
          offered++;
        }
        if (now >= end) { clearInterval(timer); resolve(); }
      }, 2);
    });
    const after = { server: cpuSeconds(server.proc.pid), receivers: receivers.cpu(), self: selfCpuSeconds(), time: nowMs() };
    after.metrics = await metrics(server.port);
    for (let i = 0; i < 3000 && outstanding > 0; i++) await sleep(10);
    // Drain: until every receiver has every published offset, at most DRAIN seconds.
    const countOf = (channel) => (published[channel] ? published[channel][1] - published[channel][0] + 1 : 0);
    let expectedTotal = 0;
    for (let i = 0; i < WEBHOOKS; i++) for (const channel of channelsOf(i)) expectedTotal += countOf(channel);
    const drainStart = nowMs();
    let progress = await receivers.progress();
    while (progress.distinct < expectedTotal && nowMs() - drainStart < DRAIN * 1000) {
      await sleep(200);
      progress = await receivers.progress();
    }
    const endMemory = memory.stop();
    const report = await receivers.report(published);
    const seconds = (after.time - at.time) / 1000;
    const deliveredRequests = after.metrics.requests - (at.metrics?.requests ?? NaN);
    const deliveredEvents = after.metrics.events - (at.metrics?.events ?? NaN);
    const serverCpu = after.server - at.server;
    const result = {
      rep, store: STORE, offeredEventsPerSecond: RATE, publishedEvents: offered - skipped - failed, failedPosts: failed, failedStatuses, skippedOffers: skipped,
      measuredSeconds: seconds,
      receiverRequestsPerSecond: report.windowRequests / seconds,
      receiverEventsPerSecond: report.windowEvents / seconds,
      metricsRequestsPerSecond: deliveredRequests / seconds,
      metricsEventsPerSecond: deliveredEvents / seconds,
      lagP50Ms: percentile(report.lag, 0.5), lagP99Ms: percentile(report.lag, 0.99), lagMaxMs: report.lagMax,
      serverCpuSeconds: serverCpu, serverCpuCores: serverCpu / seconds,
      serverCpuUsPerDeliveredEvent: (serverCpu * 1e6) / deliveredEvents,
      receiversCpuCores: (after.receivers - at.receivers) / seconds,
      publisherCpuCores: (after.self - at.self) / seconds,
      serverRssPeakKiB: memory.peak.rss, serverPssPeakKiB: memory.peak.pss,
      serverRssEndKiB: endMemory.rss, serverPssEndKiB: endMemory.pss,
      expectedDeliveries: expectedTotal, missing: report.missing, receiversMissing: report.receiversMissing,
      duplicates: report.duplicates, resyncs: report.resyncs, retries: after.metrics.retries,
      drainSeconds: (Math.max(report.lastNew, end) - end) / 1000,
    };
    return result;
  } finally {
    agent.destroy();
    await receivers.stop();
    await stopProcess(server.proc);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function backlogRun(rep) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kp-wh-bench-'));
  const server = await startServer(dir);
  const receivers = await startReceivers(1, 1);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 2 });
  try {
    const collection = 'backlog';
    const channel = `/buckets/bench/collections/${collection}`;
    let first = Infinity; let last = 0;
    const publishStart = nowMs();
    for (let done = 0; done < BACKLOG;) {
      const n = Math.min(1000, BACKLOG - done);
      const res = await request(agent, server.port, 'POST', '/v1/events', { events: Array.from({ length: n }, () => recordEvent(collection)) });
      if (res.status !== 202) throw new Error(`POST /v1/events: ${res.status} ${res.body.slice(0, 300)}`);
      for (const p of JSON.parse(res.body).published) {
        if (p.channel === channel) { first = Math.min(first, p.offset); last = Math.max(last, p.offset); }
      }
      done += n;
    }
    const publishSeconds = (nowMs() - publishStart) / 1000;
    const memory = memorySampler(server.proc.pid);
    const before = { server: cpuSeconds(server.proc.pid), receivers: receivers.cpu(), metrics: await metrics(server.port) };
    const t0 = nowMs();
    const res = await request(agent, server.port, 'POST', '/v1/webhooks',
      { url: `http://127.0.0.1:${receivers.ports[0]}/hook`, channels: [channel], max_batch: 100, since: { timestamp: 0 } });
    if (res.status !== 201) throw new Error(`POST /v1/webhooks: ${res.status} ${res.body}`);
    const expected = last - first + 1;
    let progress = await receivers.progress();
    while (progress.distinct < expected && nowMs() - t0 < DRAIN * 1000) {
      await sleep(50);
      progress = await receivers.progress();
    }
    const after = { server: cpuSeconds(server.proc.pid), receivers: receivers.cpu(), metrics: await metrics(server.port) };
    const endMemory = memory.stop();
    const report = await receivers.report({ [channel]: [first, last] });
    const seconds = (report.lastNew - t0) / 1000;
    const serverCpu = after.server - before.server;
    return {
      rep, store: STORE, backlog: expected, publishSeconds, drainSeconds: seconds,
      eventsPerSecond: expected / seconds, requestsPerSecond: report.requests / seconds,
      eventsPerRequest: report.events / report.requests,
      serverCpuSeconds: serverCpu, serverCpuCores: serverCpu / seconds,
      serverCpuUsPerEvent: (serverCpu * 1e6) / expected,
      receiverCpuCores: (after.receivers - before.receivers) / seconds,
      serverRssPeakKiB: memory.peak.rss, serverPssPeakKiB: memory.peak.pss, serverRssEndKiB: endMemory.rss, serverPssEndKiB: endMemory.pss,
      missing: report.missing, duplicates: report.duplicates, resyncs: report.resyncs,
      metricsEvents: after.metrics.events - before.metrics.events,
    };
  } finally {
    agent.destroy();
    await receivers.stop();
    await stopProcess(server.proc);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function summarize(runs) {
  const out = {};
  for (const key of Object.keys(runs[0])) {
    if (typeof runs[0][key] !== 'number' || key === 'rep') continue;
    const xs = runs.map((r) => r[key]);
    out[key] = { median: median(xs), min: Math.min(...xs), max: Math.max(...xs) };
  }
  return out;
}

async function main() {
  let commit = 'unknown';
  try { commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: __dirname, encoding: 'utf8' }).trim(); } catch { /* not a checkout */ }
  const results = {
    date: new Date().toISOString(), commit, binary: path.resolve(BIN),
    machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, kernel: os.release(), loadavgAtStart: os.loadavg() },
    options: { shape: SHAPE, store: STORE, reps: REPS, seconds: SECONDS, warmup: WARMUP, rate: RATE, webhooks: WEBHOOKS,
      channels: CHANNELS, channelsPerWebhook: PER_WEBHOOK, maxBatch: MAX_BATCH, durability: DURABILITY ?? 'full (default)', receiverProcs: RECEIVER_PROCS, backlog: BACKLOG, shards: SHARDS, drain: DRAIN },
    fanout: [], backlog: [],
  };
  for (let rep = 1; rep <= REPS; rep++) {
    if (SHAPE !== 'backlog') {
      const r = await fanoutRun(rep);
      results.fanout.push(r);
      console.error(`fanout rep ${rep}: ${JSON.stringify(r)}`);
    }
    if (SHAPE !== 'fanout') {
      const r = await backlogRun(rep);
      results.backlog.push(r);
      console.error(`backlog rep ${rep}: ${JSON.stringify(r)}`);
    }
  }
  results.machine.loadavgAtEnd = os.loadavg();
  if (results.fanout.length) results.fanoutMedians = summarize(results.fanout);
  if (results.backlog.length) results.backlogMedians = summarize(results.backlog);
  const text = JSON.stringify(results, null, 1);
  if (OUT) fs.writeFileSync(OUT, `${text}\n`);
  console.log(text);
}

main().catch((e) => { console.error(e); process.exit(1); });
