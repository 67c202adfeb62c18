'use strict';
// Smoke test of the load generator (bench/loadgen, kp-loadgen) against the real server on
// 127.0.0.1:0: a few seconds of live fan-out, a short resume, its bounds and its refusals.
// It checks the tool's own accounting (every accepted event reached every subscriber of its
// channel, nothing lost or duplicated) and that it stops by itself.

const test = require('node:test');
const assert = require('node:assert');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { startServer } = require('../integration/support/server.js');
const { startRedis } = require('../integration/support/redis.js');

const LOADGEN = process.env.KP_LOADGEN_BIN;
const RUN_TIMEOUT_MS = 60_000;

// Runs kp-loadgen with `args` (and --json to a temp file); resolves with exit code, output, report.
function loadgen(args) {
  if (!LOADGEN) throw new Error('KP_LOADGEN_BIN must name the kp-loadgen binary');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kp-loadgen-'));
  const json = path.join(dir, 'report.json');
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const proc = spawn(LOADGEN, [...args, '--json', json], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    proc.stdout.on('data', (c) => { out += c; });
    proc.stderr.on('data', (c) => { err += c; });
    const timer = setTimeout(() => { proc.kill('SIGKILL'); reject(new Error(`kp-loadgen hung:\n${out}\n${err}`)); },
      RUN_TIMEOUT_MS);
    proc.on('error', reject);
    proc.on('exit', (code) => {
      clearTimeout(timer);
      let report = null;
      try { report = JSON.parse(fs.readFileSync(json, 'utf8')); } catch { /* no report */ }
      fs.rmSync(dir, { recursive: true, force: true });
      resolve({ code, out, err, report, ms: Date.now() - started });
    });
  });
}

test('live fan-out: every accepted event reaches every subscriber of its channel, once', async () => {
  const server = await startServer();
  try {
    const r = await loadgen(['--url', server.url, '--subscribers', '50', '--channels', '2', '--rate', '200',
      '--events', '600', '--threads', '2', '--publishers', '2', '--max-seconds', '30', '--server-pid', String(server.pid)]);
    assert.strictEqual(r.code, 0, `${r.out}\n${r.err}`);
    const { connections, publish, delivery, measured, server_memory: memory } = r.report;
    assert.strictEqual(connections.established, 50);
    assert.strictEqual(connections.failed, 0);
    assert.strictEqual(publish.accepted, 600);
    assert.strictEqual(publish.failed, 0);
    // 600 events round-robin over 2 channels, 25 subscribers each: 300 x 25 x 2
    assert.strictEqual(delivery.expected, 15_000);
    assert.strictEqual(delivery.deliveries, 15_000);
    assert.strictEqual(delivery.lost, 0);
    assert.strictEqual(delivery.duplicated, 0);
    assert.strictEqual(delivery.dropped_connections, 0);
    assert.strictEqual(delivery.latency.count, 15_000);
    assert.ok(delivery.latency.p50_ms > 0 && delivery.latency.p50_ms <= delivery.latency.p99_ms);
    assert.ok(delivery.latency.p99_ms <= delivery.latency.max_ms);
    // ~3 s at 200 events/s
    assert.ok(publish.rate_achieved > 100 && publish.rate_achieved < 260, `rate ${publish.rate_achieved}`);
    // the server was measured
    assert.ok(measured.server_cpu_seconds > 0, 'server CPU seconds');
    assert.ok(measured.server_cpu_us_per_delivery > 0);
    // the user-space part is a part: utime is counted in ticks, so it may round to 0 on a short run
    assert.ok(measured.server_user_cpu_seconds >= 0 && measured.server_user_cpu_seconds <= measured.server_cpu_seconds);
    assert.ok(measured.server_user_cpu_us_per_delivery <= measured.server_cpu_us_per_delivery);
    assert.match(r.out, /us in user space\)/);
    assert.ok(memory.hwm_kib > 0 && memory.pss_kib_connected > 0);
    assert.match(r.out, /deliveries\s+15000 of 15000 expected/);
  } finally {
    await server.stop();
  }
});

test('SSE subscribers and a typical record payload: every event arrives once, bytes on the wire counted', async () => {
  const server = await startServer();
  try {
    const r = await loadgen(['--url', server.url, '--transport', 'sse', '--payload', 'typical', '--subscribers', '40',
      '--channels', '2', '--rate', '200', '--events', '400', '--threads', '2', '--publishers', '2',
      '--max-seconds', '30', '--server-pid', String(server.pid)]);
    assert.strictEqual(r.code, 0, `${r.out}\n${r.err}`);
    const { connections, publish, delivery, transport, payload } = r.report;
    assert.strictEqual(transport, 'sse');
    assert.strictEqual(payload, 'typical');
    assert.strictEqual(connections.established, 40);
    assert.strictEqual(publish.accepted, 400);
    // 400 events over 2 channels, 20 subscribers each
    assert.strictEqual(delivery.deliveries, 8_000);
    assert.strictEqual(delivery.lost, 0);
    assert.strictEqual(delivery.duplicated, 0);
    // each delivery is an SSE message of the record event: several hundred bytes
    assert.ok(delivery.wire.bytes_per_delivery > 300 && delivery.wire.bytes_per_delivery < 2000,
      `bytes per delivery ${delivery.wire.bytes_per_delivery}`);
    assert.match(r.out, /transport sse, payload typical/);
  } finally {
    await server.stop();
  }
});

test('SSE resume: the stream comes back from last_event_id and replays exactly what was missed', async () => {
  const server = await startServer();
  try {
    const r = await loadgen(['--url', server.url, '--transport', 'sse', '--mode', 'resume', '--subscribers', '10',
      '--channels', '2', '--events', '50', '--rate', '0', '--max-seconds', '30']);
    assert.strictEqual(r.code, 0, `${r.out}\n${r.err}`);
    assert.strictEqual(r.report.resume.replay.contiguous, true, r.out);
    assert.strictEqual(r.report.resume.replay.replayed, 500);
  } finally {
    await server.stop();
  }
});

test('two nodes on one Redis: subscribers on either node get every event published to either, once', async () => {
  const redis = await startRedis();
  const nodes = [];
  try {
    for (let i = 0; i < 2; i++) nodes.push(await startServer(['--store', redis.url]));
    const r = await loadgen(['--url', nodes.map((n) => n.url).join(','), '--subscribers', '40', '--channels', '2',
      '--rate', '200', '--events', '400', '--threads', '2', '--publishers', '2', '--max-seconds', '30',
      '--server-pid', [...nodes.map((n) => n.pid), redis.pid].join(',')]);
    assert.strictEqual(r.code, 0, `${r.out}\n${r.err}`);
    const { connections, publish, delivery, measured } = r.report;
    assert.deepStrictEqual(r.report.urls, nodes.map((n) => n.url));
    assert.ok(r.out.includes(`against kinto-push at ${nodes.map((n) => n.url).join(',')}:`), r.out);
    assert.strictEqual(connections.established, 40);
    assert.strictEqual(publish.accepted, 400);
    // 400 events over 2 channels, 20 subscribers each (10 on each node)
    assert.strictEqual(delivery.expected, 8_000);
    assert.strictEqual(delivery.deliveries, 8_000);
    assert.strictEqual(delivery.lost, 0);
    assert.strictEqual(delivery.duplicated, 0);
    assert.ok(measured.server_cpu_seconds > 0, 'the nodes and Redis were measured');
  } finally {
    for (const node of nodes) await node.stop();
    await redis.remove();
  }
});

test('resume: clients come back with since and get every missed offset once, in order', async () => {
  const server = await startServer(['--history-size', '500']);
  try {
    const r = await loadgen(['--url', server.url, '--mode', 'resume', '--subscribers', '20', '--channels', '2',
      '--events', '200', '--rate', '0', '--max-seconds', '30', '--server-pid', String(server.pid)]);
    assert.strictEqual(r.code, 0, `${r.out}\n${r.err}`);
    const { replay, publish } = r.report.resume;
    assert.strictEqual(publish.accepted, 400);
    assert.strictEqual(replay.complete, 20);
    assert.strictEqual(replay.exact, 20);
    assert.strictEqual(replay.replayed, 20 * 200);
    assert.strictEqual(replay.gaps, 0);
    assert.strictEqual(replay.duplicated, 0);
    assert.strictEqual(replay.not_recovered, 0);
    assert.strictEqual(replay.contiguous, true);
  } finally {
    await server.stop();
  }
});

test('resume beyond the history is reported as not recovered, not as contiguous', async () => {
  const server = await startServer(['--history-size', '50']);
  try {
    const r = await loadgen(['--url', server.url, '--mode', 'resume', '--subscribers', '4', '--channels', '1',
      '--events', '100', '--rate', '0', '--max-seconds', '20']);
    const { replay } = r.report.resume;
    assert.strictEqual(replay.not_recovered, 4);
    assert.strictEqual(replay.replayed, 0);
    assert.strictEqual(replay.contiguous, false);
  } finally {
    await server.stop();
  }
});

test('--max-seconds bounds a run that asked for more, and the run says it was cut', async () => {
  const server = await startServer();
  try {
    const r = await loadgen(['--url', server.url, '--subscribers', '5', '--rate', '10', '--events', '100000',
      '--max-seconds', '3']);
    assert.ok(r.ms < 15_000, `took ${r.ms} ms`);
    assert.strictEqual(r.report.publish.cut_short, true);
    assert.ok(r.report.publish.accepted < 100_000);
    // what was published in time was delivered
    assert.strictEqual(r.report.delivery.lost, 0);
    assert.strictEqual(r.report.delivery.deliveries, r.report.publish.accepted * 5);
  } finally {
    await server.stop();
  }
});

test('a server that is not there: no connection, exit status 1', async () => {
  // a port nothing listens on: bind one, note it, close it
  const net = require('node:net');
  const port = await new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); });
  });
  const r = await loadgen(['--url', `http://127.0.0.1:${port}`, '--subscribers', '3', '--events', '0', '--max-seconds', '10']);
  assert.strictEqual(r.code, 1);
  assert.strictEqual(r.report.connections.established, 0);
  assert.strictEqual(r.report.connections.failed, 3);
});

test('bad command lines are refused with status 2 and a reason', async () => {
  const cases = [
    [['--subscribers', '10'], /--url is required/],
    [['--url', 'http://10.0.0.1:80'], /loopback/],
    [['--url', 'http://127.0.0.1:8080', '--threads', '0'], /--threads 0: must be a whole number from 1 to 64/],
    [['--url', 'http://127.0.0.1:8080', '--target', 'nchan', '--mode', 'resume'], /kinto-push only/],
    [['--url', 'http://127.0.0.1:8080', '--source-addrs', '192.168.1.2'], /loopback/],
    [['--url', 'http://127.0.0.1:8080', '--channels', '5', '--subscribers', '2'], /must not exceed/],
    [['--url', 'http://127.0.0.1:8080', '--bogus', '1'], /unknown option --bogus/],
  ];
  for (const [args, message] of cases) {
    const r = await loadgen(args);
    assert.strictEqual(r.code, 2, args.join(' '));
    assert.match(r.err, message);
    assert.strictEqual(r.report, null);
  }
});
