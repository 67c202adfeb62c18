'use strict';
// The JavaScript client (clients/js/kinto-push.js) against the real server: subscribe and
// receive, resume across a restart of a SQLite server (no hole, no duplicate), recovered:false
// surfaced as `resync`, backoff bounds, close() stopping reconnection; and, against a scripted
// WebSocket, the close codes it must not retry blindly and its duplicate filter.

const { test, describe, before } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { pathToFileURL } = require('node:url');
const WebSocket = require('ws');
const {
  startServer, publishOk, getJSON, recordEvent, collectionChannel, delay, withTimeout,
} = require('./support/server');

const LIBRARY = pathToFileURL(path.join(__dirname, '..', '..', 'clients', 'js', 'kinto-push.js')).href;
const FAST = { initialMs: 50, maxMs: 400, factor: 2, jitter: true };

let lib;
before(async () => { lib = await import(LIBRARY); });

function tempStore() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kinto-push-js-'));
  return { dir, url: `sqlite:${path.join(dir, 'h.sqlite3')}` };
}

// Resolves with the arguments of the next `name` event of `client` that satisfies `predicate`.
function nextEvent(client, name, predicate = () => true, timeoutMs = 10_000) {
  let listener;
  return withTimeout(new Promise((resolve) => {
    listener = (...args) => { if (predicate(...args)) resolve(args); };
    client.on(name, listener);
  }), timeoutMs, `client event "${name}"`).finally(() => client.off(name, listener));
}

// Records a client's events per channel; count(n) waits until n arrived.
function recorder(client) {
  const rec = { events: [], metas: [], errors: [], disconnects: [], resyncs: [], waiters: [] };
  client.on('event', (frame, meta) => {
    rec.events.push(frame);
    rec.metas.push(meta);
    for (const w of rec.waiters.slice()) if (rec.events.length >= w.n) { rec.waiters.splice(rec.waiters.indexOf(w), 1); w.resolve(); }
  });
  client.on('error', (e) => rec.errors.push(e));
  client.on('disconnect', (d) => rec.disconnects.push(d));
  client.on('resync', (r) => rec.resyncs.push(r));
  rec.count = (n, timeoutMs = 10_000) => {
    if (rec.events.length >= n) return Promise.resolve();
    return withTimeout(new Promise((resolve) => rec.waiters.push({ n, resolve })), timeoutMs,
      `${n} events (have ${rec.events.length})`);
  };
  return rec;
}

function newClient(url, options = {}) {
  return new lib.KintoPushClient(url, { WebSocket, backoff: FAST, ...options });
}

function range(from, to) {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

test('subscribe and receive; positions go to the storage; unsubscribe stops the flow', async () => {
  const server = await startServer();
  const storage = lib.memoryStorage();
  const client = newClient(server.url, { storage });
  try {
    const rec = recorder(client);
    const handled = [];
    const connected = nextEvent(client, 'connect');
    const channel = collectionChannel('js', 'basic');
    const subscribed = await withTimeout(client.subscribe(channel, (e) => handled.push(e)), 5_000, 'subscribed');
    const [welcome] = await connected;
    assert.equal(welcome.type, 'welcome');
    assert.equal(client.state, 'open');
    assert.equal(subscribed.channel, channel);
    assert.equal(subscribed.offset, 0);
    assert.equal(client.url, `${server.wsUrl}`);

    const sent = [];
    for (let i = 0; i < 3; i++) {
      const event = recordEvent({ bucket: 'js', collection: 'basic', action: i ? 'update' : 'create', fields: { title: `t${i}` } });
      sent.push(event);
      await publishOk(server.url, event);
    }
    await rec.count(3);
    assert.deepEqual(rec.events.map((e) => e.offset), [1, 2, 3]);
    assert.deepEqual(rec.events.map((e) => e.timestamp), sent.map((e) => e.payload.timestamp));
    assert.deepEqual(rec.events.map((e) => e.payload.record_id), sent.map((e) => e.payload.record_id));
    assert.ok(rec.metas.every((m) => m.replay === false), 'live events are not replay');
    assert.deepEqual(handled.map((e) => e.offset), [1, 2, 3], 'the channel handler got the same events');
    const epoch = (await getJSON(server.url, '/v1/')).body.epoch;
    const expected = { epoch, offset: 3, timestamp: sent[2].payload.timestamp };
    assert.deepEqual(client.position(channel), expected);
    assert.deepEqual(storage.get(channel), expected);

    await withTimeout(client.unsubscribe(channel), 5_000, 'unsubscribe');
    assert.deepEqual(client.channels(), []);
    assert.equal(storage.get(channel), null, 'unsubscribe forgets the position');
    await publishOk(server.url, recordEvent({ bucket: 'js', collection: 'basic' }));
    await delay(300);
    assert.equal(rec.events.length, 3, 'no event after unsubscribe');
    assert.deepEqual(rec.errors, []);
  } finally {
    await client.close();
    await server.stop();
  }
});

test('SQLite server restarted on the same port: the client resumes with no hole and no duplicate', async () => {
  const store = tempStore();
  const channel = collectionChannel('js', 'restart');
  const event = () => recordEvent({ bucket: 'js', collection: 'restart' });
  let server = await startServer(['--store', store.url]);
  const port = server.port;
  const storage = lib.memoryStorage();
  const client = newClient(server.url, { storage });
  let second;
  try {
    const rec = recorder(client);
    await withTimeout(client.subscribe(channel), 5_000, 'subscribed');
    for (let i = 0; i < 3; i++) await publishOk(server.url, event());
    await rec.count(3);

    // The server stops (1001); while no server listens on the port, 4 events are stored by
    // another instance on the same SQLite file; then the server comes back on the same port.
    const disconnected = nextEvent(client, 'disconnect');
    await server.stop();
    const [info] = await disconnected;
    assert.equal(info.code, 1001);
    assert.equal(info.willReconnect, true);
    assert.ok(info.delayMs >= 0 && info.delayMs <= FAST.maxMs, `delay ${info.delayMs}`);
    const elsewhere = await startServer(['--store', store.url]);
    for (let i = 0; i < 4; i++) await publishOk(elsewhere.url, event());
    await elsewhere.stop();

    const resubscribed = nextEvent(client, 'subscribed');
    server = await startServer(['--store', store.url], { port });
    // Two more while the client may or may not be back yet: live or replay, never lost.
    for (let i = 0; i < 2; i++) await publishOk(server.url, event());
    const [frame, meta] = await resubscribed;
    assert.equal(frame.recovered, true);
    assert.equal(meta.resumed, true);
    assert.deepEqual(meta.since, { epoch: frame.epoch, offset: 3 });
    await rec.count(9);
    await publishOk(server.url, event());
    await rec.count(10);
    assert.deepEqual(rec.events.map((e) => e.offset), range(1, 10), 'no hole, no duplicate');
    assert.deepEqual(rec.metas.slice(3, 7).map((m) => m.replay), [true, true, true, true],
      'the events stored while the client was away are replayed');
    assert.equal(rec.metas[9].replay, false);
    assert.deepEqual(rec.resyncs, []);
    assert.ok(rec.disconnects.every((d) => d.willReconnect && d.delayMs <= FAST.maxMs));

    // A new client with the same storage resumes from the stored position.
    await client.close();
    await publishOk(server.url, event());
    second = newClient(server.url, { storage });
    const rec2 = recorder(second);
    const [sub2] = await Promise.all([nextEvent(second, 'subscribed'), second.subscribe(channel)]);
    assert.deepEqual(sub2[1].since, { epoch: frame.epoch, offset: 10 });
    await rec2.count(1);
    assert.deepEqual(rec2.events.map((e) => e.offset), [11]);
    assert.equal(rec2.metas[0].replay, true);
  } finally {
    await client.close();
    await second?.close();
    await server.stop();
    fs.rmSync(store.dir, { recursive: true, force: true });
  }
});

test('a memory server restarted (new epoch): recovered:false surfaces as resync, then the client carries on', async () => {
  const channel = collectionChannel('js', 'epoch');
  let server = await startServer();
  const port = server.port;
  const client = newClient(server.url);
  try {
    const rec = recorder(client);
    await withTimeout(client.subscribe(channel), 5_000, 'subscribed');
    const sent = [recordEvent({ bucket: 'js', collection: 'epoch' }), recordEvent({ bucket: 'js', collection: 'epoch' })];
    for (const e of sent) await publishOk(server.url, e);
    await rec.count(2);
    const oldEpoch = (await getJSON(server.url, '/v1/')).body.epoch;

    const resync = nextEvent(client, 'resync');
    await server.stop();
    server = await startServer([], { port });
    const newEpoch = (await getJSON(server.url, '/v1/')).body.epoch;
    assert.notEqual(newEpoch, oldEpoch);
    const [info] = await resync;
    assert.deepEqual(info, {
      channel,
      timestamp: sent[1].payload.timestamp,
      epoch: newEpoch,
      offset: 0,
      previous: { epoch: oldEpoch, offset: 2, timestamp: sent[1].payload.timestamp },
    });
    assert.deepEqual(client.position(channel), { epoch: newEpoch, offset: 0, timestamp: sent[1].payload.timestamp });

    // Offset 1 of the new epoch is not taken for a duplicate of the old offset 1.
    const next = recordEvent({ bucket: 'js', collection: 'epoch' });
    await publishOk(server.url, next);
    await rec.count(3);
    assert.equal(rec.events[2].offset, 1);
    assert.equal(rec.events[2].timestamp, next.payload.timestamp);
    assert.equal(rec.metas[2].replay, false);
  } finally {
    await client.close();
    await server.stop();
  }
});

test('backoff delays stay within [0, maxMs] and grow', () => {
  const options = { initialMs: 100, maxMs: 5_000, factor: 2, jitter: true };
  // Exact bounds without jitter: 100, 200, 400, …, capped at maxMs.
  const bounds = range(0, 12).map((n) => lib.backoffDelay(n, { ...options, jitter: false }));
  assert.deepEqual(bounds.slice(0, 6), [100, 200, 400, 800, 1600, 3200]);
  assert.ok(bounds.slice(6).every((b) => b === 5_000));
  // Full jitter: random in [0, bound].
  assert.equal(lib.backoffDelay(3, options, () => 0), 0);
  assert.equal(lib.backoffDelay(3, options, () => 0.5), 400);
  let previousMean = -1;
  for (let n = 0; n <= 40; n++) {
    const samples = range(1, 300).map(() => lib.backoffDelay(n, options));
    assert.ok(samples.every((d) => d >= 0 && d <= options.maxMs), `attempt ${n} within [0, maxMs]`);
    assert.ok(samples.every((d) => d <= bounds[Math.min(n, 12)]), `attempt ${n} within its bound`);
    const mean = samples.reduce((a, b) => a + b, 0) / samples.length;
    if (n <= 5) assert.ok(mean > previousMean, `the mean delay grows (attempt ${n}: ${mean})`);
    previousMean = mean;
  }
  // The largest random value still stays within maxMs, however many attempts.
  assert.equal(lib.backoffDelay(1e6, options, () => 0.9999999999), 4999.9999995);
  assert.ok(lib.backoffDelay(1e6, options, () => 1) <= options.maxMs);
  // Defaults.
  assert.deepEqual({ ...lib.DEFAULT_BACKOFF }, { initialMs: 500, maxMs: 30_000, factor: 2, jitter: true });
});

test('close() stops reconnecting', async () => {
  let server = await startServer();
  const port = server.port;
  const client = newClient(server.url);
  let restarted;
  try {
    await withTimeout(client.subscribe(collectionChannel('js', 'close')), 5_000, 'subscribed');
    const rec = recorder(client);
    await server.stop();
    // Attempts fail while nothing listens on the port.
    await nextEvent(client, 'disconnect', (d) => d.code === 1006);
    assert.equal(client.state, 'reconnecting');
    await client.close();
    assert.equal(client.state, 'closed');
    const states = [];
    client.on('state', (s) => states.push(s));
    client.on('connect', () => states.push('connect'));
    restarted = await startServer([], { port });
    await delay(3 * FAST.maxMs);
    assert.deepEqual(states, [], 'no attempt after close()');
    assert.ok(rec.disconnects.every((d) => d.willReconnect));
  } finally {
    await client.close();
    await restarted?.stop();
    await server.stop();
  }
});

// ---------------------------------------------------------------------------------------------
// A scripted WebSocket: the test plays the server.

describe('against a scripted server', () => {
  class FakeSocket {
    static sockets = [];
    constructor(url) {
      this.url = url;
      this.readyState = 0;
      this.sent = [];
      FakeSocket.sockets.push(this);
      queueMicrotask(() => { this.readyState = 1; this.onopen?.({}); });
    }
    send(text) { this.sent.push(JSON.parse(text)); }
    close(code = 1000, reason = '') { this.serverClose(code, reason); }
    // Test side.
    frame(obj) { this.onmessage?.({ data: JSON.stringify(obj) }); }
    welcome() { this.frame({ type: 'welcome', session: 's', server: 'fake', heartbeat: 25 }); }
    serverClose(code, reason = '') {
      if (this.readyState === 3) return;
      this.readyState = 3;
      this.onclose?.({ code, reason });
    }
  }
  const settle = () => delay(20);
  const fakeClient = (options = {}) => new lib.KintoPushClient('ws://fake.invalid/v1/ws',
    { WebSocket: FakeSocket, backoff: { initialMs: 1, maxMs: 5 }, pingIntervalMs: 0, ...options });

  test('4000 is not retried; 4001 is retried only after setToken(); 1011 is retried', async () => {
    FakeSocket.sockets = [];
    const client = fakeClient({ token: 'old' });
    const rec = recorder(client);
    try {
      await settle();
      assert.equal(FakeSocket.sockets.length, 1);
      assert.equal(new URL(FakeSocket.sockets[0].url).searchParams.get('access_token'), 'old');
      FakeSocket.sockets[0].welcome();
      FakeSocket.sockets[0].serverClose(1011, 'internal');
      await settle();
      assert.equal(FakeSocket.sockets.length, 2, '1011 reconnects');

      FakeSocket.sockets[1].welcome();
      FakeSocket.sockets[1].serverClose(4001, 'expired');
      await settle();
      assert.equal(client.state, 'unauthorized');
      assert.equal(FakeSocket.sockets.length, 2, '4001 waits for new credentials');
      assert.ok(rec.errors.some((e) => e.type === 'close' && e.code === 4001));
      assert.deepEqual(rec.disconnects.at(-1), { code: 4001, reason: 'expired', willReconnect: false });
      client.setToken('new');
      await settle();
      assert.equal(FakeSocket.sockets.length, 3);
      assert.equal(new URL(FakeSocket.sockets[2].url).searchParams.get('access_token'), 'new');

      FakeSocket.sockets[2].welcome();
      FakeSocket.sockets[2].serverClose(4000, 'protocol');
      await settle();
      assert.equal(client.state, 'failed');
      assert.equal(FakeSocket.sockets.length, 3, '4000 is not retried');
      assert.ok(rec.errors.some((e) => e.type === 'close' && e.code === 4000));
      for (const code of [1001, 4008, 4029, 1006]) {
        client.connect();
        await settle();
        const socket = FakeSocket.sockets.at(-1);
        socket.welcome();
        const before = FakeSocket.sockets.length;
        socket.serverClose(code);
        await settle();
        assert.equal(FakeSocket.sockets.length, before + 1, `${code} reconnects`);
        FakeSocket.sockets.at(-1).serverClose(4000);
        await settle();
      }
    } finally {
      await client.close();
    }
  });

  test('duplicates are dropped by offset; resubscribe sends the last position; errors reject subscribe', async () => {
    FakeSocket.sockets = [];
    const client = fakeClient();
    const rec = recorder(client);
    try {
      const channel = '/buckets/b/collections/c';
      const subscribed = client.subscribe(channel);
      await settle();
      let socket = FakeSocket.sockets[0];
      socket.welcome();
      await settle();
      assert.deepEqual(socket.sent, [{ type: 'subscribe', channel, id: socket.sent[0].id }]);
      socket.frame({ type: 'subscribed', id: socket.sent[0].id, channel, epoch: 'e1', offset: 5, recovered: true });
      assert.equal((await subscribed).offset, 5);
      const event = (offset) => ({ type: 'event', channel, offset, timestamp: 100 + offset, payload: {}, impacted_objects: [] });
      for (const offset of [6, 7, 7, 6, 8]) socket.frame(event(offset));
      socket.frame(event(9));
      assert.deepEqual(rec.events.map((e) => e.offset), [6, 7, 8, 9]);

      socket.serverClose(1006);
      await settle();
      socket = FakeSocket.sockets[1];
      socket.welcome();
      await settle();
      assert.deepEqual(socket.sent[0].since, { epoch: 'e1', offset: 9 });
      socket.frame({ type: 'subscribed', id: socket.sent[0].id, channel, epoch: 'e1', offset: 11, recovered: true });
      for (const offset of [9, 10, 11, 12]) socket.frame(event(offset));
      assert.deepEqual(rec.events.map((e) => e.offset), [6, 7, 8, 9, 10, 11, 12]);
      assert.deepEqual(rec.metas.slice(4).map((m) => m.replay), [true, true, false]);

      const refused = client.subscribe('/buckets/secret');
      await settle();
      const frame = socket.sent.at(-1);
      socket.frame({ type: 'error', id: frame.id, code: 'forbidden', message: 'no' });
      await assert.rejects(withTimeout(refused, 1_000, 'refused'), (e) => e.code === 'forbidden');
      assert.deepEqual(client.channels(), [channel]);
      assert.ok(rec.errors.some((e) => e.code === 'forbidden' && e.channel === '/buckets/secret'));
    } finally {
      await client.close();
    }
  });
});
