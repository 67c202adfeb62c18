'use strict';
// `kinto-push tail` (docs/cli.md): the real binary in tail mode against the real server (and,
// for the verdicts a real server cannot be made to give on demand, a small fake one): output
// identical to the server's frames, resume across server restarts and tail crashes, --exec,
// exit codes, TLS checks. Every wait has a timeout; every process is stopped by PID.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const { spawn, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const https = require('node:https');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const WebSocket = require('ws');
const {
  startServer, publishOk, getJSON, recordEvent, collectionChannel, withTimeout, delay,
} = require('./support/server');

const BIN = process.env.KINTO_PUSH_BIN;
const WAIT_MS = 10_000;

// Tail processes still running when the test process exits are killed, by PID only.
const tails = new Set();
process.on('exit', () => {
  for (const proc of tails) {
    try { process.kill(proc.pid, 'SIGKILL'); } catch { /* already gone */ }
  }
});

function tempDir() {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'kinto-push-tail-'));
}

// Polls `check` (a cheap, synchronous look at a file) until it returns a truthy value.
async function until(check, what, timeoutMs = WAIT_MS) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms: ${what}`);
    await delay(20);
  }
}

function readJSON(file) {
  try { return JSON.parse(fs.readFileSync(file, 'utf8')); } catch { return undefined; }
}

// `kinto-push tail ARGS`: stdout split into lines, stderr kept, and waits on both.
function startTail(args, { env = {} } = {}) {
  if (!BIN) throw new Error('KINTO_PUSH_BIN must name the kinto-push binary');
  const childEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('KINTO_PUSH_')) childEnv[k] = v;
  Object.assign(childEnv, env);
  const proc = spawn(BIN, ['tail', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: childEnv });
  tails.add(proc);
  const tail = {
    proc,
    lines: [],
    stderr: '',
    exitInfo: null,
    watchers: new Set(),
  };
  let partial = '';
  const poke = () => { for (const w of [...tail.watchers]) w(); };
  proc.stdout.setEncoding('utf8');
  proc.stdout.on('data', (chunk) => {
    partial += chunk;
    const parts = partial.split('\n');
    partial = parts.pop();
    tail.lines.push(...parts);
    poke();
  });
  proc.stderr.setEncoding('utf8');
  proc.stderr.on('data', (chunk) => { tail.stderr += chunk; poke(); });
  proc.on('error', () => {});
  tail.exited = new Promise((resolve) => {
    proc.on('close', (code, signal) => {
      tails.delete(proc);
      tail.exitInfo = { code, signal };
      poke();
      resolve(tail.exitInfo);
    });
  });
  // Resolves once `predicate()` holds (checked on every output and at exit).
  tail.waitFor = (predicate, what, timeoutMs = WAIT_MS) => withTimeout(new Promise((resolve, reject) => {
    const check = () => {
      let value;
      try { value = predicate(); } catch (e) { tail.watchers.delete(check); reject(e); return; }
      if (value) {
        tail.watchers.delete(check);
        resolve(value);
      } else if (tail.exitInfo) {
        tail.watchers.delete(check);
        reject(new Error(`tail exited (${JSON.stringify(tail.exitInfo)}) while waiting for ${what}\n${tail.stderr}`));
      }
    };
    tail.watchers.add(check);
    check();
  }), timeoutMs, `${what}\nstderr:\n${tail.stderr}`).catch((e) => {
    throw new Error(`${e.message}\nstderr so far:\n${tail.stderr}`);
  });
  tail.waitLines = (count, timeoutMs) => tail.waitFor(() => tail.lines.length >= count, `${count} stdout lines`, timeoutMs)
    .then(() => tail.lines.slice(0, count));
  tail.waitStderr = (re, timeoutMs) => tail.waitFor(() => re.exec(tail.stderr), `stderr matching ${re}`, timeoutMs);
  tail.events = () => tail.lines.map((l) => JSON.parse(l));
  // Resolves with {code, signal} once it exited (within the timeout).
  tail.waitExit = (timeoutMs = WAIT_MS) => withTimeout(tail.exited, timeoutMs, `tail exit\n${tail.stderr}`);
  tail.signal = (sig) => { if (!tail.exitInfo) try { process.kill(proc.pid, sig); } catch { /* gone */ } };
  // SIGTERM, then SIGKILL of this PID if it has not exited within 8 s.
  tail.stop = async () => {
    if (tail.exitInfo) return tail.exitInfo;
    tail.signal('SIGTERM');
    try {
      return await tail.waitExit(8_000);
    } catch {
      tail.signal('SIGKILL');
      return tail.waitExit(5_000);
    }
  };
  return tail;
}

// A raw WebSocket client that keeps every frame's exact text.
async function rawClient(wsUrl, channel) {
  const ws = new WebSocket(wsUrl);
  const frames = [];
  const watchers = new Set();
  ws.on('message', (data) => {
    frames.push(data.toString('utf8'));
    for (const w of [...watchers]) w();
  });
  await withTimeout(new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); }),
    5_000, 'raw client open');
  const waitFor = (predicate, what) => withTimeout(new Promise((resolve) => {
    const check = () => { if (predicate()) { watchers.delete(check); resolve(); } };
    watchers.add(check);
    check();
  }), WAIT_MS, what);
  ws.send(JSON.stringify({ type: 'subscribe', id: 'raw', channel }));
  await waitFor(() => frames.some((f) => JSON.parse(f).type === 'subscribed'), 'raw client subscribed');
  const events = () => frames.filter((f) => JSON.parse(f).type === 'event');
  return {
    events,
    waitEvents: (count) => waitFor(() => events().length >= count, `${count} raw events`).then(() => events()),
    close: () => ws.terminate(),
  };
}

// A port nothing listens on.
async function closedPort() {
  const server = net.createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

// A stand-in server speaking just enough of the protocol: `onConnection(ws, req, index)` plays
// the server's part. With `tls` ({cert, key}) it serves wss.
async function fakeServer(onConnection, { tls } = {}) {
  const server = tls ? https.createServer(tls) : http.createServer();
  const wss = new WebSocket.Server({ server });
  let index = 0;
  const sockets = new Set();
  server.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  wss.on('connection', (ws, req) => onConnection(ws, req, index++));
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return {
    port,
    url: `${tls ? 'wss' : 'ws'}://127.0.0.1:${port}/v1/ws`,
    async close() {
      for (const ws of wss.clients) ws.terminate();
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => wss.close(() => server.close(resolve)));
    },
  };
}

// Reads a client's frames as parsed objects, one at a time.
function frameReader(ws) {
  const queue = [];
  const waiters = [];
  ws.on('message', (data) => {
    const frame = JSON.parse(data.toString('utf8'));
    const w = waiters.shift();
    if (w) w(frame); else queue.push(frame);
  });
  return () => withTimeout(new Promise((resolve) => {
    if (queue.length) resolve(queue.shift()); else waiters.push(resolve);
  }), WAIT_MS, 'a frame from tail');
}

function welcome(ws) {
  ws.send(JSON.stringify({ type: 'welcome', session: 'fake', server: 'fake/0', heartbeat: 25 }));
}

function fakeEvent(channel, offset, timestamp) {
  return JSON.stringify({
    type: 'event', channel, offset, timestamp,
    payload: { timestamp, action: 'update', uri: `${channel}/records/r${offset}`, resource_name: 'record' },
    impacted_objects: [{ new: { id: `r${offset}`, last_modified: timestamp } }],
  });
}

// ---------------------------------------------------------------------------------------------

test('tail prints each event as one line, byte for byte the frame a WebSocket client gets', async () => {
  const server = await startServer();
  const channel = collectionChannel('tail', 'out');
  const raw = await rawClient(server.wsUrl, channel);
  const tail = startTail(['--url', server.url, '--channel', channel]);
  try {
    await tail.waitStderr(/subscribed to \/buckets\/tail\/collections\/out .*live events only/);
    await tail.waitStderr(/connected to ws:\/\/127\.0\.0\.1:\d+\/v1\/ws/);
    await publishOk(server.url, recordEvent({ bucket: 'tail', collection: 'out', action: 'create', fields: { text: 'é "quoted" \n' } }));
    await publishOk(server.url, recordEvent({ bucket: 'tail', collection: 'elsewhere' }));   // another channel
    await publishOk(server.url, { events: [
      recordEvent({ bucket: 'tail', collection: 'out' }),
      recordEvent({ bucket: 'tail', collection: 'out', action: 'delete' }),
    ] });
    const expected = await raw.waitEvents(3);
    const lines = await tail.waitLines(3);
    assert.deepEqual(lines, expected);
    assert.deepEqual(tail.events().map((e) => e.offset), [1, 2, 3]);
    assert.ok(tail.events().every((e) => e.type === 'event' && e.channel === channel));

    const exit = await tail.stop();
    assert.deepEqual(exit, { code: 0, signal: null }, tail.stderr);
    assert.match(tail.stderr, /stopping on SIGTERM/);
    assert.equal(tail.lines.length, 3, 'nothing more than the events on stdout');
  } finally {
    raw.close();
    await tail.stop();
    await server.stop();
  }
});

test('tail follows several channels and resumes across a server restart without holes or duplicates', async () => {
  const dir = tempDir();
  const store = `sqlite:${path.join(dir, 'history.sqlite3')}`;
  const a = collectionChannel('restart', 'a');
  const b = '/buckets/restart';
  let server = await startServer(['--store', store]);
  const { port } = server;
  const tail = startTail(['--url', server.wsUrl, '--channel', a, '--channel', b]);
  try {
    await tail.waitStderr(/subscribed to \/buckets\/restart at/);
    await tail.waitStderr(/subscribed to \/buckets\/restart\/collections\/a at/);
    for (let i = 0; i < 3; i++) await publishOk(server.url, recordEvent({ bucket: 'restart', collection: 'a' }));
    await tail.waitLines(6);   // each event on both channels

    const stopped = await server.stop();
    assert.equal(stopped.code, 0);
    await tail.waitStderr(/closed the connection with 1001.*reconnecting in \d+ ms/);

    server = await startServer(['--store', store], { port });
    // Published while tail may still be reconnecting: replay or live, never both.
    for (let i = 0; i < 3; i++) await publishOk(server.url, recordEvent({ bucket: 'restart', collection: 'a' }));
    await tail.waitLines(12);
    await tail.waitFor(() => (tail.stderr.match(/recovered: true/g) || []).length >= 2, 'two recovered subscriptions');
    // One more, live: everything before it has arrived, so the counts below are final.
    await publishOk(server.url, recordEvent({ bucket: 'restart', collection: 'a' }));
    await tail.waitLines(14);

    const events = tail.events();
    for (const channel of [a, b]) {
      const mine = events.filter((e) => e.channel === channel);
      assert.deepEqual(mine.map((e) => e.offset), [1, 2, 3, 4, 5, 6, 7], `offsets of ${channel}`);
      const history = await getJSON(server.url, `/v1/history?channel=${encodeURIComponent(channel)}&since=0`);
      assert.deepEqual(mine, history.body.events, `${channel}: what tail printed is what the server stored`);
    }
    assert.deepEqual((await tail.stop()).code, 0);
  } finally {
    await tail.stop();
    await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('tail killed with SIGKILL resumes from its --state file: what was published meanwhile, once', async () => {
  const dir = tempDir();
  const state = path.join(dir, 'state.json');
  const server = await startServer();
  const channel = collectionChannel('tail', 'crash');
  const args = ['--url', server.wsUrl, '--channel', channel, '--state', state];
  let tail = startTail(args);
  try {
    await tail.waitStderr(/subscribed to .*live events only/);
    const epoch = (await getJSON(server.url, '/v1/')).body.epoch;
    assert.deepEqual(readJSON(state), { [channel]: { epoch, offset: 0, timestamp: null } },
      'the position is saved as soon as the subscription holds');
    const first = [recordEvent({ bucket: 'tail', collection: 'crash' }), recordEvent({ bucket: 'tail', collection: 'crash' })];
    for (const e of first) await publishOk(server.url, e);
    await tail.waitLines(2);
    await until(() => readJSON(state)?.[channel]?.offset === 2, 'state at offset 2');
    assert.deepEqual(readJSON(state)[channel], { epoch, offset: 2, timestamp: first[1].payload.timestamp });
    tail.signal('SIGKILL');
    assert.equal((await tail.waitExit()).signal, 'SIGKILL');

    for (let i = 0; i < 3; i++) await publishOk(server.url, recordEvent({ bucket: 'tail', collection: 'crash' }));
    tail = startTail(args);
    await tail.waitStderr(/recovered: true \(resuming after offset 2, 3 events to replay\)/);
    await tail.waitLines(3);
    await publishOk(server.url, recordEvent({ bucket: 'tail', collection: 'crash' }));
    await tail.waitLines(4);
    assert.deepEqual(tail.events().map((e) => e.offset), [3, 4, 5, 6]);
    await until(() => readJSON(state)?.[channel]?.offset === 6, 'state at offset 6');
    assert.equal((await tail.stop()).code, 0);
    assert.deepEqual(fs.readdirSync(dir), ['state.json'], 'no temporary file left behind');
  } finally {
    await tail.stop();
    await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('tail says when the history no longer covers its position, then carries on from the head', async () => {
  const dir = tempDir();
  const state = path.join(dir, 'state.json');
  const server = await startServer(['--history-size', '2']);
  const channel = collectionChannel('tail', 'resync');
  const args = ['--url', server.wsUrl, '--channel', channel, '--state', state];
  let tail = startTail(args);
  try {
    await tail.waitStderr(/subscribed to .*live events only/);
    const first = recordEvent({ bucket: 'tail', collection: 'resync' });
    await publishOk(server.url, first);
    await tail.waitLines(1);
    await until(() => readJSON(state)?.[channel]?.offset === 1, 'state at offset 1');
    assert.equal((await tail.stop()).code, 0);

    for (let i = 0; i < 5; i++) await publishOk(server.url, recordEvent({ bucket: 'tail', collection: 'resync' }));
    tail = startTail(args);
    const ts = first.payload.timestamp;
    await tail.waitStderr(/recovered: false/);
    const resync = await tail.waitStderr(/RESYNC NEEDED on (\S+): .*/);
    assert.equal(resync[1], channel);
    assert.ok(resync[0].includes(`GET /v1${channel}/records?_since=${ts}`), resync[0]);
    assert.ok(resync[0].includes('carries on from offset 6'), resync[0]);
    await until(() => readJSON(state)?.[channel]?.offset === 6, 'state at the head');
    assert.equal(readJSON(state)[channel].timestamp, ts, 'the last timestamp handled stays in the state');

    await publishOk(server.url, recordEvent({ bucket: 'tail', collection: 'resync' }));
    await tail.waitLines(1);
    assert.deepEqual(tail.events().map((e) => e.offset), [7]);
  } finally {
    await tail.stop();
    await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('--exec runs once per event, one at a time, in order, with the event on stdin and in the environment', async () => {
  const dir = tempDir();
  const state = path.join(dir, 'state.json');
  const hook = path.join(dir, 'hook.sh');
  fs.writeFileSync(hook, [
    'if [ -e "$HOOK_DIR/lock" ]; then echo overlap >> "$HOOK_DIR/errors"; fi',
    ': > "$HOOK_DIR/lock"',
    'cat > "$HOOK_DIR/stdin-$KINTO_PUSH_OFFSET"',
    'echo "$KINTO_PUSH_CHANNEL|$KINTO_PUSH_OFFSET|$KINTO_PUSH_ACTION|$KINTO_PUSH_TIMESTAMP|$KINTO_PUSH_EPOCH" >> "$HOOK_DIR/runs"',
    'sleep 0.05',
    'rm "$HOOK_DIR/lock"',
    'echo "done $KINTO_PUSH_OFFSET"',
    '[ "$KINTO_PUSH_OFFSET" != 2 ]',
    '',
  ].join('\n'));
  const server = await startServer();
  const channel = collectionChannel('tail', 'exec');
  const raw = await rawClient(server.wsUrl, channel);
  const tail = startTail(['--url', server.wsUrl, '--channel', channel, '--state', state, '--exec', `sh ${hook}`],
    { env: { HOOK_DIR: dir, KINTO_PUSH_OFFSET: 'inherited values are replaced' } });
  try {
    await tail.waitStderr(/subscribed to/);
    const epoch = (await getJSON(server.url, '/v1/')).body.epoch;
    const events = [
      recordEvent({ bucket: 'tail', collection: 'exec', action: 'create' }),
      recordEvent({ bucket: 'tail', collection: 'exec', action: 'update' }),
      recordEvent({ bucket: 'tail', collection: 'exec', action: 'delete' }),
      recordEvent({ bucket: 'tail', collection: 'exec', action: 'update' }),
    ];
    await publishOk(server.url, { events });   // one transaction: all four arrive together
    const frames = await raw.waitEvents(4);
    await tail.waitLines(4);
    assert.deepEqual(tail.lines, ['done 1', 'done 2', 'done 3', 'done 4'],
      'the command\'s output, and no event lines, on stdout');
    assert.match(tail.stderr, new RegExp(`--exec failed for ${channel} offset 2: exit code 1`));

    const runs = fs.readFileSync(path.join(dir, 'runs'), 'utf8').trim().split('\n');
    assert.deepEqual(runs, events.map((e, i) =>
      `${channel}|${i + 1}|${e.payload.action}|${e.payload.timestamp}|${epoch}`));
    for (let i = 0; i < 4; i++) {
      assert.equal(fs.readFileSync(path.join(dir, `stdin-${i + 1}`), 'utf8'), `${frames[i]}\n`);
    }
    assert.equal(fs.existsSync(path.join(dir, 'errors')), false, 'no two commands overlapped');
    await until(() => readJSON(state)?.[channel]?.offset === 4, 'state at offset 4 (a failed command is done too)');
    assert.equal((await tail.stop()).code, 0);
  } finally {
    raw.close();
    await tail.stop();
    await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('--exec: a tail stopped while a command runs saves nothing for it, and runs it again at the next start', async () => {
  const dir = tempDir();
  const state = path.join(dir, 'state.json');
  const hook = path.join(dir, 'hook.sh');
  // Offset 2 blocks until the file "release" exists (or the command is killed).
  fs.writeFileSync(hook, [
    'echo "start $KINTO_PUSH_OFFSET" >> "$HOOK_DIR/runs"',
    'echo "start $KINTO_PUSH_OFFSET"',
    'if [ "$KINTO_PUSH_OFFSET" = 2 ]; then while [ ! -e "$HOOK_DIR/release" ]; do sleep 0.02; done; fi',
    'echo "end $KINTO_PUSH_OFFSET" >> "$HOOK_DIR/runs"',
    '',
  ].join('\n'));
  const server = await startServer();
  const channel = collectionChannel('tail', 'unfinished');
  const args = ['--url', server.wsUrl, '--channel', channel, '--state', state, '--exec', `sh ${hook}`];
  let tail = startTail(args, { env: { HOOK_DIR: dir } });
  try {
    await tail.waitStderr(/subscribed to/);
    for (let i = 0; i < 3; i++) await publishOk(server.url, recordEvent({ bucket: 'tail', collection: 'unfinished' }));
    await tail.waitFor(() => tail.lines.includes('start 2'), 'the command of offset 2 running');
    tail.signal('SIGTERM');
    const exit = await tail.waitExit();
    assert.equal(exit.code, 0, tail.stderr);
    assert.match(tail.stderr, /--exec stopped for .* offset 2 \(it runs again at the next start\)/);
    assert.equal(readJSON(state)[channel].offset, 1, 'offset 2 did not finish: not saved');

    fs.writeFileSync(path.join(dir, 'release'), '');
    tail = startTail(args, { env: { HOOK_DIR: dir } });
    await tail.waitFor(() => tail.lines.includes('start 3'), 'offset 3 running');
    await until(() => readJSON(state)?.[channel]?.offset === 3, 'state at offset 3');
    const runs = fs.readFileSync(path.join(dir, 'runs'), 'utf8').trim().split('\n');
    assert.deepEqual(runs, ['start 1', 'end 1', 'start 2', 'start 2', 'end 2', 'start 3', 'end 3']);
    assert.equal((await tail.stop()).code, 0);
  } finally {
    await tail.stop();
    await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('usage errors exit with 2 and say what is wrong', async () => {
  const cases = [
    [[], /at least one --channel/],
    [['--channel', '/buckets/a/records'], /--channel \/buckets\/a\/records: not a channel/],
    [['--channel', '/buckets', '--nope'], /unknown option --nope/],
    [['--channel', '/buckets', '--url', 'ftp://127.0.0.1'], /--url ftp:\/\/127\.0\.0\.1: unsupported scheme/],
    [['--channel', '/buckets', '--max-retries', 'x'], /--max-retries x: must be a whole number/],
    [['--channel', '/buckets', '--state'], /--state needs a value/],
    [['--channel', '/buckets', '--url', 'wss://127.0.0.1:1', '--ca-file', '/nonexistent/ca.pem'],
      /--ca-file \/nonexistent\/ca\.pem: cannot be read/],
  ];
  for (const [args, message] of cases) {
    const tail = startTail(args);
    const exit = await tail.waitExit();
    assert.equal(exit.code, 2, `${args.join(' ')}: ${tail.stderr}`);
    assert.match(tail.stderr, message);
    assert.equal(tail.lines.length, 0);
  }
  const help = startTail(['--help']);
  assert.equal((await help.waitExit()).code, 0);
  assert.match(help.lines.join('\n'), /Usage: kinto-push tail --channel CH/);
});

test('a corrupt --state file stops tail with 1 and names the file', async () => {
  const dir = tempDir();
  const state = path.join(dir, 'state.json');
  fs.writeFileSync(state, '{"/buckets": {"epoch": "e1", "offs');
  try {
    const tail = startTail(['--channel', '/buckets', '--state', state, '--url', `ws://127.0.0.1:${await closedPort()}`]);
    const exit = await tail.waitExit();
    assert.equal(exit.code, 1);
    assert.ok(tail.stderr.includes(`${state} is not a kinto-push tail state file`), tail.stderr);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('--max-retries: tail gives up with 5 when the server cannot be reached', async () => {
  const port = await closedPort();
  const started = Date.now();
  const tail = startTail(['--url', `ws://127.0.0.1:${port}`, '--channel', '/buckets', '--max-retries', '2']);
  const exit = await tail.waitExit();
  assert.equal(exit.code, 5, tail.stderr);
  assert.equal((tail.stderr.match(/reconnecting in \d+ ms/g) || []).length, 2, tail.stderr);
  assert.match(tail.stderr, new RegExp(`could not connect to ws://127\\.0\\.0\\.1:${port}/v1/ws after 2 retries`));
  assert.ok(Date.now() - started < 5_000);
});

test('verdicts of the server: 4000 exits 4, 4001 exits 3, a refused subscribe exits 3', async () => {
  const cases = [
    { name: 'close 4000', code: 4, stderr: /closed the connection with 4000 \(bad frame\): protocol error/,
      play: (ws, next) => { welcome(ws); next().then(() => ws.close(4000, 'bad frame')); } },
    { name: 'close 4001', code: 3, stderr: /4001 \(token expired\): credentials missing, invalid or expired/,
      play: (ws) => { welcome(ws); ws.close(4001, 'token expired'); } },
    { name: 'error forbidden', code: 3, stderr: /subscribe to \/buckets\/x refused: forbidden: not for you/,
      play: (ws, next) => {
        welcome(ws);
        next().then((f) => ws.send(JSON.stringify({ type: 'error', id: f.id, code: 'forbidden', message: 'not for you' })));
      } },
    { name: 'not JSON', code: 4, stderr: /not a JSON object/,
      play: (ws) => { welcome(ws); ws.send('hello'); } },
  ];
  for (const c of cases) {
    let closeCode;
    let authorization;
    const fake = await fakeServer((ws, req) => {
      authorization = req.headers.authorization;
      ws.on('close', (code) => { closeCode = code; });
      c.play(ws, frameReader(ws));
    });
    try {
      const tail = startTail(['--url', fake.url, '--channel', '/buckets/x', '--token', 'tok.en']);
      const exit = await tail.waitExit();
      assert.equal(exit.code, c.code, `${c.name}: ${tail.stderr}`);
      assert.match(tail.stderr, c.stderr, c.name);
      assert.equal(authorization, 'Bearer tok.en', `${c.name}: the token goes in the upgrade`);
      if (c.name === 'not JSON') {
        await until(() => closeCode !== undefined, 'the close');
        assert.equal(closeCode, 1002);
      }
    } finally {
      await fake.close();
    }
  }
});

test('tail closes with 1000 on SIGINT, and resumes after 1011 from the position it handled', async () => {
  const channel = '/buckets/fake/collections/c';
  const subscribes = [];
  let closed;
  const fake = await fakeServer((ws, req, index) => {
    const next = frameReader(ws);
    welcome(ws);
    next().then((subscribe) => {
      subscribes.push(subscribe);
      if (index === 0) {
        ws.send(JSON.stringify({ type: 'subscribed', id: subscribe.id, channel, epoch: 'e1', offset: 5, recovered: true }));
        ws.send(fakeEvent(channel, 6, 1000));
        ws.send(fakeEvent(channel, 6, 1000));   // a duplicate is dropped
        ws.send(fakeEvent(channel, 7, 1001));
        setTimeout(() => ws.close(1011, 'oops'), 50);
      } else {
        ws.send(JSON.stringify({ type: 'subscribed', id: subscribe.id, channel, epoch: 'e2', offset: 20, recovered: false }));
        ws.send(fakeEvent(channel, 21, 1002));
        ws.on('close', (code) => { closed = code; });
      }
    });
  });
  const tail = startTail(['--url', fake.url, '--channel', channel]);
  try {
    await tail.waitLines(3);
    assert.deepEqual(tail.events().map((e) => e.offset), [6, 7, 21]);
    assert.equal(subscribes.length, 2);
    assert.equal(subscribes[0].since, undefined, 'no position yet: live only');
    assert.deepEqual(subscribes[1].since, { epoch: 'e1', offset: 7 }, 'resumes after the last handled event');
    assert.match(tail.stderr, /closed the connection with 1011 \(oops\); reconnecting in \d+ ms/);
    assert.match(tail.stderr, /RESYNC NEEDED on \/buckets\/fake\/collections\/c: .*after offset 7 \(epoch e1\); last timestamp 1001/);
    tail.signal('SIGINT');
    const exit = await tail.waitExit();
    assert.equal(exit.code, 0);
    await until(() => closed !== undefined, 'the close seen by the server');
    assert.equal(closed, 1000);
  } finally {
    await tail.stop();
    await fake.close();
  }
});

test('wss: the certificate and host name are checked; --ca-file and --insecure', async (t) => {
  let openssl = true;
  try { execFileSync('openssl', ['version'], { stdio: 'ignore' }); } catch { openssl = false; }
  if (!openssl) return t.skip('no openssl command to make a test certificate');
  const dir = tempDir();
  const makeCert = (name, san) => {
    const cert = path.join(dir, `${name}.pem`);
    const key = path.join(dir, `${name}-key.pem`);
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
      '-keyout', key, '-out', cert, '-days', '2', '-subj', `/CN=${name}`, '-addext', `subjectAltName=${san}`],
    { stdio: 'ignore' });
    return { cert, key, tls: { cert: fs.readFileSync(cert), key: fs.readFileSync(key) } };
  };
  const good = makeCert('good', 'IP:127.0.0.1');
  const other = makeCert('other', 'DNS:other.example');
  const channel = '/buckets/tls';
  const play = (ws) => {
    const next = frameReader(ws);
    welcome(ws);
    next().then((s) => {
      ws.send(JSON.stringify({ type: 'subscribed', id: s.id, channel, epoch: 'e1', offset: 0, recovered: true }));
      ws.send(fakeEvent(channel, 1, 5));
    });
  };
  const goodServer = await fakeServer(play, { tls: good.tls });
  const otherServer = await fakeServer(play, { tls: other.tls });
  try {
    for (const extra of [['--ca-file', good.cert], ['--insecure']]) {
      const tail = startTail(['--url', goodServer.url, '--channel', channel, ...extra]);
      await tail.waitLines(1);
      assert.equal(JSON.parse(tail.lines[0]).offset, 1);
      assert.match(tail.stderr, /connected to wss:\/\/127\.0\.0\.1/);
      assert.equal((await tail.stop()).code, 0);
    }
    let tail = startTail(['--url', goodServer.url, '--channel', channel, '--max-retries', '3']);
    assert.equal((await tail.waitExit()).code, 1, tail.stderr);
    assert.match(tail.stderr, /certificate of 127\.0\.0\.1 is not trusted: self.signed certificate/);

    tail = startTail(['--url', otherServer.url, '--channel', channel, '--ca-file', other.cert]);
    assert.equal((await tail.waitExit()).code, 1, tail.stderr);
    assert.match(tail.stderr, /certificate of 127\.0\.0\.1 is not valid for that name/);

    tail = startTail(['--url', otherServer.url, '--channel', channel, '--insecure']);
    await tail.waitLines(1);
    assert.equal((await tail.stop()).code, 0);

    // The real server with --tls-cert, when this build has it: https:// URL, --ca-file.
    const help = execFileSync(BIN, ['--help'], { encoding: 'utf8' });
    if (help.includes('--tls-cert')) {
      const server = await startServer(['--tls-cert', good.cert, '--tls-key', good.key]);
      try {
        const col = collectionChannel('tail', 'tls');
        tail = startTail(['--url', `https://127.0.0.1:${server.port}`, '--channel', col, '--ca-file', good.cert]);
        await tail.waitStderr(/subscribed to \/buckets\/tail\/collections\/tls/);
        const status = await new Promise((resolve, reject) => {
          const req = https.request({ host: '127.0.0.1', port: server.port, path: '/v1/events', method: 'POST',
            ca: good.tls.cert, headers: { 'Content-Type': 'application/json' } },
          (res) => { res.resume(); resolve(res.statusCode); });
          req.on('error', reject);
          req.end(JSON.stringify(recordEvent({ bucket: 'tail', collection: 'tls' })));
        });
        assert.equal(status, 202);
        await tail.waitLines(1);
        assert.equal(JSON.parse(tail.lines[0]).offset, 1);
        assert.match(tail.stderr, new RegExp(`connected to wss://127\\.0\\.0\\.1:${server.port}/v1/ws`));
        assert.equal((await tail.stop()).code, 0);
      } finally {
        await tail.stop();
        await server.stop();
      }
    }
  } finally {
    await goodServer.close();
    await otherServer.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('subscriber authentication on the real server: no token and a bad token exit with 3', async (t) => {
  const help = execFileSync(BIN, ['--help'], { encoding: 'utf8' });
  if (!help.includes('--jwt-secret')) return t.skip('this build has no subscriber authentication');
  const server = await startServer(['--jwt-secret', 'tail-test-secret-0123456789abcdef']);
  try {
    const channel = collectionChannel('tail', 'auth');
    let tail = startTail(['--url', server.url, '--channel', channel, '--max-retries', '0']);
    assert.equal((await tail.waitExit()).code, 3, tail.stderr);
    assert.match(tail.stderr, /subscribe to \/buckets\/tail\/collections\/auth refused: unauthorized.*\(no --token given\)/);

    tail = startTail(['--url', server.url, '--channel', channel, '--token', 'not.a.jwt', '--max-retries', '0']);
    assert.equal((await tail.waitExit()).code, 3, tail.stderr);
    assert.match(tail.stderr, /4001/);
  } finally {
    await server.stop();
  }
});
