'use strict';
// /v1/push: the broadcast part of Mozilla's Autopush protocol, as Firefox speaks it
// (docs/firefox.md), with a plain WebSocket client.

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const WebSocket = require('ws');
const {
  startServer, Client, getJSON, publishOk, recordEvent, rawHttp, withTimeout, delay,
} = require('./support/server');

const MONITOR = 'remote-settings/monitor_changes';
const ADDONS = 'remote-settings/addons';
const FIREHOSE = 'test/everything';
const BROADCAST_ARGS = [
  '--broadcast', `${MONITOR}=/buckets/main`,
  '--broadcast', `${ADDONS}=/buckets/blocklists/collections/addons`,
  '--broadcast', `${FIREHOSE}=/buckets`,
];

const quoted = (ts) => `"${ts}"`;
const pushUrl = (server) => `ws://127.0.0.1:${server.port}/v1/push`;

// Opens /v1/push offering the push-notification subprotocol (as Firefox does), unless
// `protocols` says otherwise.
async function openPush(server, { protocols = 'push-notification' } = {}) {
  const ws = protocols === null ? new WebSocket(pushUrl(server)) : new WebSocket(pushUrl(server), protocols);
  const client = new Client(ws);
  await withTimeout(new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  }), 5_000, 'push WebSocket open');
  return client;
}

function byType(type) {
  return (f) => f.messageType === type;
}

async function hello(client, broadcasts, extra = {}) {
  client.send({ messageType: 'hello', use_webpush: true, broadcasts, ...extra });
  return client.next(byType('hello'), 5_000, 'the hello reply');
}

let server;
const clients = [];
async function push(broadcasts) {
  const c = await openPush(server);
  clients.push(c);
  if (broadcasts !== undefined) c.helloReply = await hello(c, broadcasts);
  return c;
}

// Publishes one record event and returns its Kinto timestamp.
async function publishRecord(bucket, collection) {
  const event = recordEvent({ bucket, collection });
  await publishOk(server.url, event);
  return event.payload.timestamp;
}

before(async () => {
  server = await startServer([...BROADCAST_ARGS, '--shards', '2']);
});

after(async () => {
  await Promise.all(clients.map((c) => c.close()));
  if (server) await server.stop();
});

test('the subprotocol is echoed when offered, and /v1/ says broadcast', async () => {
  const firefoxLike = await push();
  assert.equal(firefoxLike.ws.protocol, 'push-notification');
  const plain = await openPush(server, { protocols: null });
  clients.push(plain);
  assert.equal(plain.ws.protocol, '', 'no subprotocol offered, none chosen (RFC 6455)');
  const info = await getJSON(server.url, '/v1/');
  assert.ok(info.body.capabilities.includes('broadcast'));
  // A plain GET is told to upgrade, in Kinto's error shape.
  const plainGet = await getJSON(server.url, '/v1/push');
  assert.equal(plainGet.status, 426);
  assert.equal(plainGet.body.errno, 107);
});

test('hello: a uaid, status 200, only the stale versions, unknown ids under errors', async () => {
  const ts = await publishRecord('main', 'hello-test');
  // A second connection, told the current version, gets nothing for it.
  const stale = await push({ [MONITOR]: '"0"', [ADDONS]: '"0"', 'nobody/knows': 'v1' });
  assert.equal(stale.helloReply.status, 200);
  assert.equal(stale.helloReply.use_webpush, true);
  assert.match(stale.helloReply.uaid, /^[0-9a-f]{32}$/);
  assert.deepEqual(stale.helloReply.broadcasts, {
    [MONITOR]: quoted(ts),   // addons has had no event: nothing to announce
    errors: { 'nobody/knows': 'Broadcast not found' },
  });
  const current = await push({ [MONITOR]: quoted(ts) });
  assert.deepEqual(current.helloReply.broadcasts, {});
  assert.notEqual(current.helloReply.uaid, stale.helloReply.uaid, 'a fresh uaid per connection');
  // A client that sends its uaid (it has Web Push subscriptions elsewhere) gets a new one.
  const withUaid = await push(undefined);
  const reply = await hello(withUaid, {}, { uaid: 'f'.repeat(32) });
  assert.notEqual(reply.uaid, 'f'.repeat(32));
  assert.deepEqual(reply.broadcasts, {});
  // hello without broadcasts at all.
  const bare = await push(undefined);
  bare.send({ messageType: 'hello' });
  assert.deepEqual((await bare.next(byType('hello'))).broadcasts, {});
});

test('a change is pushed to every subscribed connection, once, and to nobody else', async () => {
  const first = await publishRecord('main', 'live');
  const a = await push({ [MONITOR]: quoted(first) });
  const b = await push({ [MONITOR]: quoted(first), [ADDONS]: '"0"' });
  const addonsOnly = await push({ [ADDONS]: '"0"' });
  const nothing = await push({});

  const ts = await publishRecord('main', 'live');
  for (const c of [a, b]) {
    const frame = await c.next(byType('broadcast'), 5_000, 'the broadcast');
    assert.deepEqual(frame, { messageType: 'broadcast', broadcasts: { [MONITOR]: quoted(ts) } });
  }
  // An event of another bucket changes neither broadcast.
  await publishRecord('elsewhere', 'x');
  const addonsTs = await publishRecord('blocklists', 'addons');
  assert.deepEqual(await addonsOnly.next(byType('broadcast')), {
    messageType: 'broadcast', broadcasts: { [ADDONS]: quoted(addonsTs) },
  });
  assert.deepEqual((await b.next(byType('broadcast'))).broadcasts, { [ADDONS]: quoted(addonsTs) });
  assert.deepEqual(await a.drain(byType('broadcast'), 300), [], 'a listens to monitor_changes only');
  assert.deepEqual(await nothing.drain(() => true, 100), []);
  assert.deepEqual(await addonsOnly.drain(() => true, 100), [], 'nothing twice, nothing unasked');
});

test('the firehose channel follows every bucket', async () => {
  const c = await push({ [FIREHOSE]: '"0"' });
  // The firehose has had events by now: the hello says so.
  assert.ok(c.helloReply.broadcasts[FIREHOSE]);
  const ts = await publishRecord('anything', 'at-all');
  assert.deepEqual((await c.next(byType('broadcast'))).broadcasts, { [FIREHOSE]: quoted(ts) });
});

test('broadcast_subscribe after hello: stale versions are sent, current ones are not, unknown ids are errors', async () => {
  const ts = await publishRecord('main', 'subscribe');
  const c = await push({});
  assert.deepEqual(c.helloReply.broadcasts, {});
  c.send({ messageType: 'broadcast_subscribe', broadcasts: { [MONITOR]: quoted(ts) } });
  c.send({ messageType: 'broadcast_subscribe', broadcasts: { [MONITOR]: '"0"', 'x/y': '"0"' } });
  const answer = await c.next(byType('broadcast'));
  assert.deepEqual(answer.broadcasts, { [MONITOR]: quoted(ts), errors: { 'x/y': 'Broadcast not found' } });
  assert.deepEqual(await c.drain(() => true, 300), [], 'the first subscribe (current version) had no answer');
  // Subscribed now: live changes follow.
  const next = await publishRecord('main', 'subscribe');
  assert.deepEqual((await c.next(byType('broadcast'))).broadcasts, { [MONITOR]: quoted(next) });
});

test('register is refused with 501 and the connection stays up; pings, unregister, ack and nack', async () => {
  const first = await publishRecord('main', 'register');
  const c = await push({ [MONITOR]: quoted(first) });
  const channelID = '5b0cc9d8-67a4-4b4f-8e3b-1c7e1a8e8f00';
  c.send({ messageType: 'register', channelID, key: 'BPx' });
  assert.deepEqual(await c.next(byType('register')), { messageType: 'register', channelID, status: 501 });
  c.send({ messageType: 'unregister', channelID, code: 200 });
  assert.deepEqual(await c.next(byType('unregister')), { messageType: 'unregister', channelID, status: 200 });
  c.send({ messageType: 'ack', updates: [{ channelID, version: 'v', code: 100 }] });
  c.send({ messageType: 'nack', version: 'v', code: 301 });
  c.send({});
  assert.deepEqual(await c.next(), {}, 'a {} ping is answered with {} (ack and nack have no answer)');
  c.send({ messageType: 'ping' });
  assert.deepEqual(await c.next(), {});
  const ts = await publishRecord('main', 'register');
  assert.deepEqual((await c.next(byType('broadcast'))).broadcasts, { [MONITOR]: quoted(ts) });
  assert.equal(c.closeInfo, null);
});

test('a {} ping before hello is answered too', async () => {
  const c = await push();
  c.send('{}');
  assert.deepEqual(await c.next(), {});
});

test('protocol violations close with 4000', async () => {
  const cases = [
    ['a message before hello', [{ messageType: 'broadcast_subscribe', broadcasts: {} }]],
    ['a second hello', [{ messageType: 'hello', broadcasts: {} }, { messageType: 'hello', broadcasts: {} }]],
    ['versions that are not strings', [{ messageType: 'hello', broadcasts: { [MONITOR]: 1 } }]],
    ['broadcasts that is not an object', [{ messageType: 'hello', broadcasts: [] }]],
    ['a uaid that is not a string', [{ messageType: 'hello', uaid: 7 }]],
    ['no messageType', [{ broadcasts: {} }]],
    ['an unknown messageType', [{ messageType: 'hello' }, { messageType: 'frobnicate' }]],
    ['register without channelID', [{ messageType: 'hello' }, { messageType: 'register' }]],
    ['broadcast_subscribe without broadcasts', [{ messageType: 'hello' }, { messageType: 'broadcast_subscribe' }]],
    ['text that is not JSON', ['{"messageType": ']],
    ['JSON that is not an object', ['[1]']],
  ];
  for (const [what, frames] of cases) {
    const c = await push();
    for (const f of frames) c.send(f);
    const closed = await c.waitClosed(5_000);
    assert.equal(closed.code, 4000, what);
  }
  const binary = await push();
  binary.sendRaw(Buffer.from('{}'), { binary: true });
  assert.equal((await binary.waitClosed()).code, 4000, 'a binary frame');
});

test('/v1/push is not served without --broadcast', async () => {
  const plain = await startServer([]);
  try {
    const answer = await rawHttp(plain.port,
      'GET /v1/push HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n' +
      'Sec-WebSocket-Protocol: push-notification\r\n\r\n', 1_000);
    assert.match(answer, /^HTTP\/1\.1 404/);
    assert.equal((await getJSON(plain.url, '/v1/push')).status, 404);
    const info = await getJSON(plain.url, '/v1/');
    assert.ok(!info.body.capabilities.includes('broadcast'));
  } finally {
    await plain.stop();
  }
});

test('limits: frames over --max-frame-bytes close with 1009, --max-connections counts push connections', async () => {
  const limited = await startServer([...BROADCAST_ARGS, '--max-frame-bytes', '256', '--max-connections', '2']);
  const opened = [];
  try {
    const big = new Client(new WebSocket(`ws://127.0.0.1:${limited.port}/v1/push`, 'push-notification'));
    opened.push(big);
    await withTimeout(new Promise((r) => big.ws.once('open', r)), 5_000, 'open');
    big.send({ messageType: 'hello', broadcasts: { [MONITOR]: 'x'.repeat(300) } });
    assert.equal((await big.waitClosed()).code, 1009);

    const keep = [];
    for (let i = 0; i < 3; i++) {
      const c = new Client(new WebSocket(`ws://127.0.0.1:${limited.port}/v1/push`, 'push-notification'));
      opened.push(c);
      keep.push(c);
      await withTimeout(new Promise((r) => c.ws.once('open', r)), 5_000, 'open');
      if (i < 2) {
        c.send({ messageType: 'hello', broadcasts: {} });
        await c.next(byType('hello'));
      }
    }
    assert.equal((await keep[2].waitClosed()).code, 4029, 'the third connection is one too many');
    assert.equal(keep[0].closeInfo, null);
  } finally {
    await Promise.all(opened.map((c) => c.close()));
    await limited.stop();
  }
});

test('--broadcast-debounce: the first change at once, the rest coalesced into the last version', async () => {
  const debounced = await startServer([...BROADCAST_ARGS, '--broadcast-debounce', '1']);
  const c = new Client(new WebSocket(`ws://127.0.0.1:${debounced.port}/v1/push`, 'push-notification'));
  try {
    await withTimeout(new Promise((r) => c.ws.once('open', r)), 5_000, 'open');
    c.send({ messageType: 'hello', broadcasts: { [MONITOR]: '"0"' } });
    await c.next(byType('hello'));
    const stamps = [];
    for (let i = 0; i < 4; i++) {
      const event = recordEvent({ bucket: 'main', collection: 'debounce' });
      await publishOk(debounced.url, event);
      stamps.push(event.payload.timestamp);
    }
    const started = Date.now();
    const firstFrame = await c.next(byType('broadcast'), 2_000);
    assert.deepEqual(firstFrame.broadcasts, { [MONITOR]: quoted(stamps[0]) });
    const second = await c.next(byType('broadcast'), 3_000);
    const waited = Date.now() - started;
    assert.deepEqual(second.broadcasts, { [MONITOR]: quoted(stamps[3]) }, 'only the last version of the interval');
    assert.ok(waited >= 500, `the held version waited for the interval (${waited} ms)`);
    assert.deepEqual(await c.drain(byType('broadcast'), 1_500), [], 'nothing else');
    // A newly connected client is told the published version.
    const late = new Client(new WebSocket(`ws://127.0.0.1:${debounced.port}/v1/push`, 'push-notification'));
    await withTimeout(new Promise((r) => late.ws.once('open', r)), 5_000, 'open');
    late.send({ messageType: 'hello', broadcasts: { [MONITOR]: '"0"' } });
    assert.deepEqual((await late.next(byType('hello'))).broadcasts, { [MONITOR]: quoted(stamps[3]) });
    await late.close();
  } finally {
    await c.close();
    await debounced.stop();
  }
});

test('the version survives a restart (SQLite): an old client learns it in the hello reply', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kinto-push-broadcast-'));
  const store = ['--store', `sqlite:${path.join(dir, 'h.sqlite3')}`];
  try {
    let durable = await startServer([...BROADCAST_ARGS, ...store]);
    const event = recordEvent({ bucket: 'main', collection: 'restart' });
    await publishOk(durable.url, event);
    await publishOk(durable.url, recordEvent({ bucket: 'other', collection: 'restart' }));
    assert.equal((await durable.stop()).code, 0);

    durable = await startServer([...BROADCAST_ARGS, ...store]);
    try {
      for (const [theirs, expected] of [['"0"', { [MONITOR]: quoted(event.payload.timestamp) }],
        [quoted(event.payload.timestamp), {}]]) {
        const c = new Client(new WebSocket(`ws://127.0.0.1:${durable.port}/v1/push`, 'push-notification'));
        await withTimeout(new Promise((r) => c.ws.once('open', r)), 5_000, 'open');
        c.send({ messageType: 'hello', broadcasts: { [MONITOR]: theirs } });
        assert.deepEqual((await c.next(byType('hello'))).broadcasts, expected);
        await c.close();
      }
    } finally {
      await durable.stop();
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a broadcast reaches many connections on every shard', async () => {
  const many = [];
  for (let i = 0; i < 40; i++) many.push(await push({ [MONITOR]: '"0"' }));
  const ts = await publishRecord('main', 'many');
  const frames = await Promise.all(many.map((c) => c.next(byType('broadcast'))));
  for (const f of frames) assert.deepEqual(f.broadcasts, { [MONITOR]: quoted(ts) });
});

test('a client that sends but never reads is closed with 4008 past --send-queue-bytes', async () => {
  const limited = await startServer([...BROADCAST_ARGS, '--send-queue-bytes', '65536', '--log-level', 'debug']);
  const c = new Client(new WebSocket(`ws://127.0.0.1:${limited.port}/v1/push`, 'push-notification'));
  try {
    await withTimeout(new Promise((r) => c.ws.once('open', r)), 5_000, 'open');
    c.send({ messageType: 'hello', broadcasts: {} });
    await c.next(byType('hello'));
    c.ws._socket.pause();   // stop reading: the server's replies pile up
    // Each refusal echoes it: 60 kB per reply, random so that permessage-deflate (which ws
    // negotiates) does not shrink it.
    const channelID = crypto.randomBytes(45_000).toString('base64');
    for (let i = 0; i < 300; i++) c.send({ messageType: 'register', channelID });
    // Once the kernel's buffers are full the replies queue up in the server, until the cap.
    const deadline = Date.now() + 15_000;
    while (!limited.log().includes('closing with 4008') && Date.now() < deadline) await delay(100);
    c.ws._socket.resume();
    assert.equal((await c.waitClosed(10_000)).code, 4008);
  } finally {
    await c.close();
    await limited.stop();
  }
});
