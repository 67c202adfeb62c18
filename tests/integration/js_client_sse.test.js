'use strict';
// The JavaScript client (clients/js/kinto-push.js) over Server-Sent Events, against the real
// server: subscribe and receive; subscribing and unsubscribing reopen the stream (its channels
// are in its URL) with no hole and no duplicate while events keep coming; resume across a
// restart of a SQLite server on the same port; recovered:false as `resync`; refusals (400,
// 401, 403) surfacing as over WebSocket; `auto` falling back to SSE behind a proxy that strips
// WebSocket upgrades. Then, against a scripted fetch: the stream's query (channels,
// last_event_id, since_timestamp), the parser across chunk boundaries, refusals naming no
// channel.

const { test, describe, before } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { pathToFileURL } = require('node:url');
const WebSocket = require('ws');
const {
  startServer, publishOk, getJSON, recordEvent, collectionChannel, bucketChannel, delay, withTimeout,
} = require('./support/server');
const { jwt, nowS } = require('./support/jwt');
const { startProxy } = require('./support/tcp_proxy');
const { clientModules, relativeImports } = require('./support/client_modules');

const LIBRARY = pathToFileURL(path.join(__dirname, '..', '..', 'clients', 'js', 'kinto-push.js')).href;
const FAST = { initialMs: 50, maxMs: 400, factor: 2, jitter: true };
const SECRET = 'js-client-sse-secret';

let lib;
before(async () => { lib = await import(LIBRARY); });

function tempStore() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kinto-push-js-sse-'));
  return { dir, url: `sqlite:${path.join(dir, 'h.sqlite3')}` };
}

function nextEvent(client, name, predicate = () => true, timeoutMs = 10_000) {
  let listener;
  return withTimeout(new Promise((resolve) => {
    listener = (...args) => { if (predicate(...args)) resolve(args); };
    client.on(name, listener);
  }), timeoutMs, `client event "${name}"`).finally(() => client.off(name, listener));
}

// Records a client's events; count(n, channel?) waits until n arrived (on `channel`).
function recorder(client) {
  const rec = { events: [], metas: [], errors: [], disconnects: [], resyncs: [], waiters: [] };
  const of = (channel) => rec.events.filter((e) => !channel || e.channel === channel);
  client.on('event', (frame, meta) => {
    rec.events.push(frame);
    rec.metas.push(meta);
    for (const w of rec.waiters.slice()) if (w.done()) { rec.waiters.splice(rec.waiters.indexOf(w), 1); w.resolve(); }
  });
  client.on('error', (e) => rec.errors.push(e));
  client.on('disconnect', (d) => rec.disconnects.push(d));
  client.on('resync', (r) => rec.resyncs.push(r));
  rec.offsets = (channel) => of(channel).map((e) => e.offset);
  rec.until = (done, what, timeoutMs = 10_000) => {
    if (done()) return Promise.resolve();
    return withTimeout(new Promise((resolve) => rec.waiters.push({ done, resolve })), timeoutMs, what());
  };
  rec.count = (n, channel = null, timeoutMs = 10_000) => rec.until(() => of(channel).length >= n,
    () => `${n} events${channel ? ` on ${channel}` : ''} (have ${of(channel).length})`, timeoutMs);
  // Waits for the event `offset` of `channel`.
  rec.offset = (channel, offset, timeoutMs = 10_000) => rec.until(() => of(channel).some((e) => e.offset === offset),
    () => `offset ${offset} on ${channel} (have ${rec.offsets(channel).slice(-3)})`, timeoutMs);
  return rec;
}

function sseClient(url, options = {}) {
  return new lib.KintoPushClient(url, { transport: 'sse', backoff: FAST, ...options });
}

function range(from, to) {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

test('over SSE: subscribe and receive; a second channel and an unsubscribe reopen the stream with no hole and no duplicate', async () => {
  const server = await startServer();
  const storage = lib.memoryStorage();
  const client = sseClient(server.url, { storage });
  const a = collectionChannel('sse', 'a');
  const b = collectionChannel('sse', 'b');
  const bucket = bucketChannel('sse');
  try {
    const rec = recorder(client);
    const connected = nextEvent(client, 'connect');
    const subscribed = await withTimeout(client.subscribe(a), 5_000, 'subscribed');
    const [welcome] = await connected;
    assert.equal(welcome.transport, 'sse');
    assert.match(welcome.server, /^kinto-push\//);
    assert.equal(client.transport, 'sse');
    assert.equal(client.state, 'open');
    assert.equal(subscribed.channel, a);
    assert.equal(subscribed.offset, 0);
    assert.equal(client.sseUrl, `${server.url}/v1/sse`);

    const sent = [];
    for (let i = 0; i < 3; i++) {
      const event = recordEvent({ bucket: 'sse', collection: 'a' });
      sent.push(event);
      await publishOk(server.url, event);
    }
    await rec.count(3);
    assert.deepEqual(rec.offsets(a), [1, 2, 3]);
    assert.deepEqual(rec.events.map((e) => e.payload.record_id), sent.map((e) => e.payload.record_id));
    assert.ok(rec.events.every((e) => e.type === 'event'));
    const epoch = (await getJSON(server.url, '/v1/')).body.epoch;
    assert.deepEqual(storage.get(a), { epoch, offset: 3, timestamp: sent[2].payload.timestamp });

    // Events keep coming on `a` (and `b`) while `b` and the bucket are subscribed and `b` is
    // unsubscribed again: each change opens a new stream, resumed from the client's positions.
    // Three publishers at once, without pause: events are stored while each stream reopens.
    let publishing = true;
    let published = 3;
    let onA = 3;
    const publisher = Promise.all([0, 1, 2].map(async () => {
      while (publishing) {
        const toA = published % 2 === 1;
        published += 1;
        if (toA) onA += 1;
        await publishOk(server.url, recordEvent({ bucket: 'sse', collection: toA ? 'a' : 'b' }));
      }
    }));
    await delay(50);
    const [subB, subBucket] = await withTimeout(Promise.all([client.subscribe(b), client.subscribe(bucket)]), 5_000, 'b and the bucket');
    assert.equal(subB.channel, b);
    assert.equal(subBucket.channel, bucket);
    await rec.count(2, b);
    await client.unsubscribe(b);
    const sinceUnsubscribe = rec.offsets(a).length;
    await rec.count(sinceUnsubscribe + 3, a);
    publishing = false;
    await publisher;
    await rec.count(onA, a);
    await publishOk(server.url, recordEvent({ bucket: 'sse', collection: 'a' }));
    await rec.count(onA + 1, a);
    await rec.offset(bucket, published + 1);
    assert.deepEqual(rec.offsets(a), range(1, onA + 1), 'channel a: no hole, no duplicate across the reopenings');
    const onB = rec.offsets(b);
    assert.deepEqual(onB, range(onB[0], onB.at(-1)), 'channel b: consecutive while subscribed');
    const onBucket = rec.offsets(bucket);
    assert.deepEqual(onBucket, range(onBucket[0], onBucket.at(-1)), 'the bucket: consecutive');
    assert.equal(onBucket.at(-1), published + 1, 'the bucket saw every event since it subscribed');
    assert.deepEqual(client.channels().sort(), [a, bucket].sort());
    assert.equal(storage.get(b), null, 'unsubscribe forgets the position');
    assert.equal(client.connections, 1, 'reopening for a new channel set is not a reconnection');
    assert.deepEqual(rec.disconnects, []);
    assert.deepEqual(rec.errors, []);
  } finally {
    await client.close();
    await server.stop();
  }
});

test('over SSE: a SQLite server restarted on the same port: the client resumes with no hole and no duplicate', async () => {
  const store = tempStore();
  const channel = collectionChannel('sse', 'restart');
  const event = () => recordEvent({ bucket: 'sse', collection: 'restart' });
  let server = await startServer(['--store', store.url]);
  const port = server.port;
  const storage = lib.memoryStorage();
  const client = sseClient(server.url, { storage });
  let second;
  try {
    const rec = recorder(client);
    await withTimeout(client.subscribe(channel), 5_000, 'subscribed');
    for (let i = 0; i < 3; i++) await publishOk(server.url, event());
    await rec.count(3);

    // The server stops (event: error, shutdown: the client reports 1001, as over WebSocket);
    // 4 events are stored by another instance on the same file while the port is free; the
    // server comes back on the same port and 2 more are published, maybe before the client
    // is back.
    const disconnected = nextEvent(client, 'disconnect');
    await server.stop();
    const [info] = await disconnected;
    assert.equal(info.code, 1001);
    assert.equal(info.willReconnect, true);
    const elsewhere = await startServer(['--store', store.url]);
    for (let i = 0; i < 4; i++) await publishOk(elsewhere.url, event());
    await elsewhere.stop();
    const resubscribed = nextEvent(client, 'subscribed');
    server = await startServer(['--store', store.url], { port });
    for (let i = 0; i < 2; i++) await publishOk(server.url, event());
    const [frame, meta] = await resubscribed;
    assert.equal(frame.recovered, true);
    assert.equal(meta.resumed, true);
    assert.deepEqual(meta.since, { epoch: frame.epoch, offset: 3 });
    await rec.count(9);
    await publishOk(server.url, event());
    await rec.count(10);
    assert.deepEqual(rec.offsets(), range(1, 10), 'no hole, no duplicate');
    assert.deepEqual(rec.metas.slice(3, 7).map((m) => m.replay), [true, true, true, true]);
    assert.equal(rec.metas[9].replay, false);
    assert.deepEqual(rec.resyncs, []);
    assert.equal(client.connections, 2);

    // A new client with the same storage resumes from the stored position.
    await client.close();
    await publishOk(server.url, event());
    second = sseClient(server.url, { storage });
    const rec2 = recorder(second);
    const [sub2] = await Promise.all([nextEvent(second, 'subscribed'), second.subscribe(channel)]);
    assert.deepEqual(sub2[1].since, { epoch: frame.epoch, offset: 10 });
    await rec2.count(1);
    assert.deepEqual(rec2.offsets(), [11]);
    assert.equal(rec2.metas[0].replay, true);
  } finally {
    await client.close();
    await second?.close();
    await server.stop();
    fs.rmSync(store.dir, { recursive: true, force: true });
  }
});

test('over SSE: a memory server restarted (new epoch): recovered:false surfaces as resync', async () => {
  const channel = collectionChannel('sse', 'epoch');
  let server = await startServer();
  const port = server.port;
  const client = sseClient(server.url);
  try {
    const rec = recorder(client);
    await withTimeout(client.subscribe(channel), 5_000, 'subscribed');
    const sent = [recordEvent({ bucket: 'sse', collection: 'epoch' }), recordEvent({ bucket: 'sse', collection: 'epoch' })];
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
    const next = recordEvent({ bucket: 'sse', collection: 'epoch' });
    await publishOk(server.url, next);
    await rec.count(3);
    assert.equal(rec.events[2].offset, 1, 'offset 1 of the new epoch is not taken for a duplicate');
    assert.equal(rec.metas[2].replay, false);
  } finally {
    await client.close();
    await server.stop();
  }
});

test('over SSE: refusals: 403 and 400 reject that subscribe only, 401 waits for setToken(), an expired JWT ends the stream', async () => {
  const server = await startServer(['--jwt-secret', SECRET]);
  const allowed = collectionChannel('open', 'a');
  const token = (exp = nowS() + 3600) => jwt({ sub: 'u', exp, channels: ['/buckets/open/collections/*'] }, { secret: SECRET });
  let client = sseClient(server.url, { token: token() });
  try {
    let rec = recorder(client);
    await withTimeout(client.subscribe(allowed), 5_000, 'allowed');
    await publishOk(server.url, recordEvent({ bucket: 'open', collection: 'a' }));
    await rec.count(1);

    // 403: the channel is dropped, its subscribe rejects; the allowed one goes on.
    await assert.rejects(withTimeout(client.subscribe(collectionChannel('closed', 'x')), 5_000, 'forbidden'),
      (e) => e.code === 'forbidden' && e.frame.status === 403 && e.frame.channel === '/buckets/closed/collections/x');
    assert.ok(rec.errors.some((e) => e.code === 'forbidden' && e.status === 403 && e.channel === '/buckets/closed/collections/x'));
    // 400: a channel the server does not accept.
    await assert.rejects(withTimeout(client.subscribe('/buckets/not a channel'), 5_000, 'bad request'),
      (e) => e.code === 'bad_request' && e.frame.status === 400);
    assert.deepEqual(client.channels(), [allowed]);
    await publishOk(server.url, recordEvent({ bucket: 'open', collection: 'a' }));
    await rec.count(2);
    assert.deepEqual(rec.offsets(allowed), [1, 2]);
    assert.equal(client.state, 'open');
    await client.close();

    // 401 about a channel (no credentials for it): the channel waits for setToken(), the
    // client stays open (as over WebSocket, where the subscribe gets an `unauthorized` error).
    client = sseClient(server.url);
    rec = recorder(client);
    const waiting = client.subscribe(allowed);
    const [unauthorized] = await nextEvent(client, 'error', (e) => e.code === 'unauthorized');
    assert.equal(unauthorized.status, 401);
    assert.equal(unauthorized.channel, allowed);
    await nextEvent(client, 'state', (s) => s === 'open');
    const opened = nextEvent(client, 'subscribed');
    client.setToken(token());
    assert.equal((await withTimeout(waiting, 5_000, 'subscribed after setToken')).channel, allowed);
    await opened;
    await client.close();

    // 401: credentials the server refuses: the same as the 4001 close of WebSocket.
    client = sseClient(server.url, { token: 'not-a-jwt' });
    rec = recorder(client);
    const pending = client.subscribe(allowed);
    const [error] = await nextEvent(client, 'error', (e) => e.type === 'close');
    assert.equal(error.code, 4001);
    assert.equal(error.status, 401);
    assert.equal(client.state, 'unauthorized');
    assert.deepEqual(rec.disconnects.at(-1), { code: 4001, reason: error.reason, willReconnect: false });
    await delay(3 * FAST.maxMs);
    assert.equal(client.state, 'unauthorized', 'no retry with the same credentials');
    const authenticated = nextEvent(client, 'authenticated');
    client.setToken(token());
    const frame = await withTimeout(pending, 5_000, 'subscribed after setToken');
    assert.equal(frame.channel, allowed);
    await authenticated;
    await publishOk(server.url, recordEvent({ bucket: 'open', collection: 'a' }));
    await rec.count(1);
    assert.deepEqual(rec.offsets(), [3]);
    await client.close();

    // A JWT that expires while the stream is open (accepted up to 30 s after exp, for clock
    // skew: this one has 2 s left): event: error unauthorized, as a 4001 close.
    client = sseClient(server.url, { token: token(nowS() - 28) });
    rec = recorder(client);
    await withTimeout(client.subscribe(allowed), 5_000, 'subscribed with a short token');
    const [expired] = await nextEvent(client, 'disconnect', () => true, 8_000);
    assert.equal(expired.code, 4001);
    assert.equal(expired.willReconnect, false);
    assert.equal(client.state, 'unauthorized');
  } finally {
    await client.close();
    await server.stop();
  }
});

test('auto: behind a proxy that strips WebSocket upgrades the client falls back to SSE; without it, WebSocket', async () => {
  const server = await startServer();
  const proxy = await startProxy(server.port, { stripUpgrades: true });
  const channel = collectionChannel('auto', 'a');
  const viaProxy = new lib.KintoPushClient(proxy.url, { WebSocket, backoff: FAST });
  const direct = new lib.KintoPushClient(server.url, { WebSocket, backoff: FAST });
  try {
    const rec = recorder(viaProxy);
    const recDirect = recorder(direct);
    const [[welcome]] = await Promise.all([nextEvent(viaProxy, 'connect'), viaProxy.subscribe(channel)]);
    assert.equal(welcome.transport, 'sse');
    assert.equal(viaProxy.transport, 'sse');
    assert.equal(proxy.seen.upgrades, 1, 'one WebSocket attempt, refused by the proxy');
    assert.deepEqual(rec.disconnects.map((d) => [d.code, d.delayMs]), [[1006, 0]], 'SSE tried at once');
    await withTimeout(direct.subscribe(channel), 5_000, 'direct');
    assert.equal(direct.transport, 'websocket');
    assert.ok(direct.welcome.session, 'a WebSocket welcome');

    for (let i = 0; i < 3; i++) await publishOk(server.url, recordEvent({ bucket: 'auto', collection: 'a' }));
    await rec.count(3);
    await recDirect.count(3);
    assert.deepEqual(rec.offsets(), [1, 2, 3]);
    assert.deepEqual(recDirect.offsets(), [1, 2, 3]);

    // The proxy drops the stream: the client stays on SSE and resumes.
    proxy.dropAll();
    await nextEvent(viaProxy, 'connect');
    assert.equal(viaProxy.transport, 'sse');
    await publishOk(server.url, recordEvent({ bucket: 'auto', collection: 'a' }));
    await rec.count(4);
    assert.deepEqual(rec.offsets(), [1, 2, 3, 4]);
    assert.equal(proxy.seen.upgrades, 1, 'no further WebSocket attempt once SSE answered');
  } finally {
    await viaProxy.close();
    await direct.close();
    await proxy.close();
    await server.stop();
  }
});

test('the server serves the client and every module it imports as they are in clients/js/', async () => {
  const modules = clientModules();
  for (const file of modules) {
    for (const imported of relativeImports(file)) assert.ok(modules.includes(imported), `${file} imports ${imported}, which package.json files lacks`);
  }
  assert.ok(modules.length >= 9, `the client and its modules: ${modules}`);
  const server = await startServer();
  try {
    for (const file of modules) {
      const res = await fetch(`${server.url}/${file}`);
      assert.equal(res.status, 200, file);
      assert.match(res.headers.get('content-type'), /^text\/javascript/);
      assert.equal(await res.text(), fs.readFileSync(path.join(__dirname, '..', '..', 'clients', 'js', file), 'utf8'),
        `/${file} is clients/js/${file} (rebuild after editing it)`);
    }
  } finally {
    await server.stop();
  }
});

// ---------------------------------------------------------------------------------------------
// A scripted fetch: the test plays the server.

describe('against a scripted SSE server', () => {
  function scriptedFetch() {
    const requests = [];
    const waiters = [];
    // Resolves with request n (1-based) once the client has made it.
    requests.nth = (n) => withTimeout(new Promise((resolve) => {
      if (requests.length >= n) resolve(requests[n - 1]);
      else waiters.push({ n, resolve });
    }), 5_000, `request ${n} (have ${requests.length})`);
    const fetch = (url, init) => {
      const request = { url: new URL(url), init, controller: null, status: 200, body: null };
      requests.push(request);
      for (const w of waiters.splice(0)) {
        if (requests.length >= w.n) w.resolve(requests[w.n - 1]);
        else waiters.push(w);
      }
      return new Promise((resolve, reject) => {
        request.refuse = (status, body) => resolve(new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } }));
        request.open = () => {
          const stream = new ReadableStream({ start(controller) { request.controller = controller; } });
          init.signal.addEventListener('abort', () => { try { request.controller.error(new Error('aborted')); } catch { /* closed */ } });
          resolve(new Response(stream, { status: 200, headers: { 'content-type': 'text/event-stream' } }));
        };
        request.send = (text) => request.controller.enqueue(new TextEncoder().encode(text));
        init.signal.addEventListener('abort', () => reject(new Error('aborted')));
      });
    };
    return { fetch, requests };
  }
  const subscribedText = (channel, epoch, offset, recovered = true) =>
    `event: subscribed\ndata: ${JSON.stringify({ channel, epoch, offset, recovered })}\n\n`;
  const eventText = (channel, offset, id, timestamp = 100 + offset) =>
    `data: ${JSON.stringify({ type: 'event', channel, offset, timestamp, payload: {}, impacted_objects: [] })}\nid: ${id}\n\n`;

  test('the query carries the channels, last_event_id from the positions, since_timestamp and the token', async () => {
    const { fetch, requests } = scriptedFetch();
    const storage = lib.memoryStorage();
    const a = '/buckets/b/collections/a';
    const c = '/buckets/b/collections/c';
    storage.set(a, { epoch: 'e1', offset: 7, timestamp: 107 });
    const client = sseClient('http://fake.invalid', { fetch, storage, token: 'tok', pingIntervalMs: 0 });
    const rec = recorder(client);
    try {
      const subscribed = client.subscribe(a);
      await requests.nth(1);
      let q = requests[0].url.searchParams;
      assert.deepEqual(q.getAll('channel'), [a]);
      assert.equal(q.get('last_event_id'), 'e1_7');
      assert.equal(q.get('access_token'), 'tok');
      assert.equal(requests[0].init.headers.Accept, 'text/event-stream');
      requests[0].open();
      // The parser across chunk boundaries: a CRLF split in two, data over several chunks.
      const text = subscribedText(a, 'e1', 9).replaceAll('\n', '\r\n') + eventText(a, 8, 'e1_8') + eventText(a, 9, 'e1_9');
      for (let i = 0; i < text.length; i += 7) requests[0].send(text.slice(i, i + 7));
      assert.equal((await subscribed).offset, 9);
      await rec.count(2);
      assert.deepEqual(rec.offsets(), [8, 9]);
      assert.deepEqual(rec.metas.map((m) => m.replay), [true, true]);
      requests[0].send(eventText(a, 9, 'e1_9') + eventText(a, 10, 'e1_10'));
      await rec.count(3);
      assert.deepEqual(rec.offsets(), [8, 9, 10], 'a duplicate offset is dropped');

      // A second channel, asked from a timestamp: a new stream, with a's position and
      // since_timestamp (both are collections).
      client.subscribe(c, null, { since: { timestamp: 500 } });
      await requests.nth(2);
      q = requests[1].url.searchParams;
      assert.deepEqual(q.getAll('channel'), [a, c]);
      assert.equal(q.get('last_event_id'), 'e1_10_');
      assert.equal(q.get('since_timestamp'), '500');
      requests[1].open();
      requests[1].send(subscribedText(a, 'e1', 10) + subscribedText(c, 'e1', 4) + eventText(c, 4, 'e1_10_4', 600));
      await rec.count(1, c);
      assert.deepEqual(client.position(c), { epoch: 'e1', offset: 4, timestamp: 600 });

      // A bucket channel beside a timestamp: since_timestamp cannot be sent; the channel asking
      // for it resyncs from Kinto instead.
      const d = '/buckets/b/collections/d';
      client.subscribe('/buckets/b');
      client.subscribe(d, null, { since: { timestamp: 700 } });
      await requests.nth(3);
      q = requests[2].url.searchParams;
      assert.deepEqual(q.getAll('channel'), [a, c, '/buckets/b', d]);
      assert.equal(q.get('since_timestamp'), null);
      assert.equal(q.get('last_event_id'), 'e1_10_4__');
      requests[2].open();
      const resynced = nextEvent(client, 'resync');
      requests[2].send(subscribedText(a, 'e1', 10) + subscribedText(c, 'e1', 4) + subscribedText('/buckets/b', 'e1', 30) + subscribedText(d, 'e1', 2));
      await resynced;
      assert.deepEqual(rec.resyncs.map((r) => [r.channel, r.timestamp, r.offset]), [[d, 700, 2]]);
      assert.deepEqual(rec.errors, []);
    } finally {
      await client.close();
    }
  });

  test('a refusal naming no channel: the new channels are tried one at a time', async () => {
    const { fetch, requests } = scriptedFetch();
    const client = sseClient('http://fake.invalid', { fetch, pingIntervalMs: 0 });
    const rec = recorder(client);
    try {
      const channels = ['/buckets/x', '/buckets/y', '/buckets/z'];
      const promises = channels.map((c) => client.subscribe(c));
      await requests.nth(1);
      assert.deepEqual(requests[0].url.searchParams.getAll('channel'), channels);
      requests[0].refuse(403, { code: 403, errno: 121, error: 'Forbidden', message: 'not for you' });
      await requests.nth(2);
      assert.deepEqual(requests[1].url.searchParams.getAll('channel'), ['/buckets/x']);
      requests[1].open();
      requests[1].send(subscribedText('/buckets/x', 'e', 0));
      await requests.nth(3);
      assert.deepEqual(requests[2].url.searchParams.getAll('channel'), ['/buckets/x', '/buckets/y']);
      requests[2].refuse(403, { code: 403, errno: 121, error: 'Forbidden', message: 'not for you' });
      await assert.rejects(promises[1], (e) => e.code === 'forbidden');
      await requests.nth(4);
      assert.deepEqual(requests[3].url.searchParams.getAll('channel'), ['/buckets/x', '/buckets/z']);
      requests[3].open();
      requests[3].send(subscribedText('/buckets/x', 'e', 0) + subscribedText('/buckets/z', 'e', 0));
      assert.equal((await promises[0]).channel, '/buckets/x');
      assert.equal((await promises[2]).channel, '/buckets/z');
      assert.deepEqual(client.channels(), ['/buckets/x', '/buckets/z']);
      assert.deepEqual(rec.errors.map((e) => [e.code, e.channel]), [['forbidden', '/buckets/y']]);
      await delay(200);
      assert.equal(requests.length, 4, 'no further stream once every channel is answered');
    } finally {
      await client.close();
    }
  });
});
