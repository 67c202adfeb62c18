'use strict';
// permessage-deflate (RFC 7692) on /v1/ws and /v1/push (docs/protocol.md, "Compression"):
// the npm `ws` client negotiates it and gets byte-identical JSON; raw clients check what the
// 101 answers, that large frames really leave compressed (RSV1, raw DEFLATE) and small ones
// plain, that compressed client messages are inflated within --max-frame-bytes (a
// decompression bomb is closed with 1009, bad data with 1007, misplaced RSV1 with 1002) while
// the server goes on serving others, that the offers RFC 7692 section 7 makes us decline
// leave the connection plain, and that --compression off never negotiates.

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const zlib = require('node:zlib');
const WebSocket = require('ws');
const {
  startServer, connect, publishOk, recordEvent, collectionChannel, request, withTimeout,
} = require('./support/server');
const { FIN, OP, clientFrame, RawWebSocket } = require('./support/raw_websocket');
const { parse, sample } = require('./support/prometheus');

const MAX_FRAME_BYTES = 4096;
const RSV1 = 0x40;
const BROADCAST = 'deflate/test';
const ANSWER = 'permessage-deflate; server_no_context_takeover; client_no_context_takeover';
const DEFLATE_OFFER = 'Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n';
const PUSH_PROTOCOL = 'Sec-WebSocket-Protocol: push-notification\r\n';

let server;
let plainServer;   // --compression off
before(async () => {
  server = await startServer(['--max-frame-bytes', String(MAX_FRAME_BYTES), '--shards', '2',
    '--broadcast', `${BROADCAST}=/buckets/deflate`]);
  plainServer = await startServer(['--compression', 'off', '--broadcast', `${BROADCAST}=/buckets/deflate`]);
});
after(async () => {
  await server?.stop();
  await plainServer?.stop();
});

// A raw DEFLATE message as RFC 7692 section 7.2.1 sends it: flushed, the trailing 00 00 ff ff
// removed.
function deflateMessage(text) {
  const data = zlib.deflateRawSync(Buffer.from(text), { finishFlush: zlib.constants.Z_SYNC_FLUSH });
  assert.deepEqual([...data.subarray(-4)], [0, 0, 0xff, 0xff]);
  return data.subarray(0, -4);
}

function inflateMessage(payload) {
  return zlib.inflateRawSync(Buffer.concat([payload, Buffer.from([0, 0, 0xff, 0xff])]),
    { finishFlush: zlib.constants.Z_SYNC_FLUSH }).toString('utf8');
}

// A record event of about `size` bytes of JSON (a record with a long, compressible field).
function eventOfSize(bucket, collection, size) {
  const words = [];
  for (let i = 0; words.join(' ').length < size; i += 1) words.push(`word${i % 37}`);
  return recordEvent({ bucket, collection, fields: { text: words.join(' ') } });
}

// A ws client that keeps every message's raw text, in order.
async function openWs(url, options) {
  const ws = new WebSocket(url, options);
  const texts = [];
  const waiters = [];
  ws.on('message', (data) => {
    texts.push(data.toString('utf8'));
    for (const w of waiters.splice(0)) w();
  });
  await withTimeout(new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  }), 5_000, 'ws open');
  const next = async (predicate, what) => withTimeout((async () => {
    for (;;) {
      const found = texts.find((t) => predicate(JSON.parse(t)));
      if (found !== undefined) return found;
      await new Promise((resolve) => waiters.push(resolve));
    }
  })(), 5_000, what);
  return { ws, texts, next };
}

// A raw /v1/ws client that offered deflate (or `headers`), subscribed to `channel`.
async function rawSubscriber(port, channel, headers = DEFLATE_OFFER) {
  const raw = await RawWebSocket.open(port, { headers });
  await raw.text((t) => JSON.parse(t).type === 'welcome', 3_000, 'welcome');
  raw.write(clientFrame(FIN | OP.text, JSON.stringify({ type: 'subscribe', id: 's', channel })));
  await raw.text((t) => JSON.parse(t).type === 'subscribed', 3_000, 'subscribed');
  return raw;
}

// The text of a server frame, inflated when RSV1 says it is compressed.
function frameText(frame) {
  return frame.rsv & 0x4 ? inflateMessage(frame.payload) : frame.payload.toString('utf8');
}

function eventFrame(raw, offset) {
  return raw.frame((f) => f.opcode === OP.text && (() => {
    const j = JSON.parse(frameText(f));
    return j.type === 'event' && j.offset === offset;
  })(), 3_000, `event ${offset}`);
}

test('ws with perMessageDeflate negotiates it and gets the same JSON, byte for byte, typical and large', async () => {
  const channel = collectionChannel('deflate', 'same');
  const subscribe = JSON.stringify({ type: 'subscribe', id: 's', channel });
  const deflating = await openWs(server.wsUrl, { perMessageDeflate: true });
  const plain = await openWs(server.wsUrl, { perMessageDeflate: false });
  const raw = await rawSubscriber(server.port, channel);
  try {
    assert.match(deflating.ws.extensions, /^permessage-deflate/);
    assert.equal(plain.ws.extensions, '');
    assert.equal(raw.handshake.headers['sec-websocket-extensions'], ANSWER);
    for (const c of [deflating, plain]) {
      c.ws.send(subscribe);
      await c.next((f) => f.type === 'subscribed', 'subscribed');
    }
    const before = [deflating.ws._socket.bytesRead, plain.ws._socket.bytesRead];
    await publishOk(server.url, recordEvent({ bucket: 'deflate', collection: 'same' }));
    await publishOk(server.url, eventOfSize('deflate', 'same', 3000));
    const texts = [];
    for (const c of [deflating, plain]) {
      const typical = await c.next((f) => f.type === 'event' && f.offset === 1, 'the typical event');
      const large = await c.next((f) => f.type === 'event' && f.offset === 2, 'the large event');
      texts.push([typical, large]);
    }
    assert.deepEqual(texts[0], texts[1], 'byte-identical JSON with and without compression');
    assert.ok(texts[0][0].length < 1000 && texts[0][1].length > 3000);

    // The raw client proves what went on the wire: replies under 256 bytes plain (RSV1
    // clear); a typical Kinto record event (about 500 bytes: every Kinto event is over 256)
    // and a large one compressed (RSV1 set, raw DEFLATE of the same text, smaller).
    for (const reply of raw.frames.filter((f) => f.opcode === OP.text && JSON.parse(frameText(f)).type !== 'event')) {
      assert.equal(reply.rsv, 0, `plain reply ${reply.payload}`);
      assert.ok(reply.payload.length < 256);
    }
    const typical = await eventFrame(raw, 1);
    const large = await eventFrame(raw, 2);
    assert.equal(typical.rsv, 0x4, 'RSV1 on the typical event');
    assert.equal(inflateMessage(typical.payload), texts[1][0]);
    assert.ok(typical.payload.length < texts[1][0].length * 0.8, `compressed to ${typical.payload.length} bytes`);
    assert.equal(large.rsv, 0x4, 'RSV1 on the large event');
    assert.equal(inflateMessage(large.payload), texts[1][1]);
    assert.ok(large.payload.length < texts[1][1].length / 3, `compressed to ${large.payload.length} bytes`);
    // And so the deflating ws client read fewer bytes for the same two events.
    const read = [deflating.ws._socket.bytesRead - before[0], plain.ws._socket.bytesRead - before[1]];
    assert.ok(read[0] < read[1] / 2, `bytes read: ${read}`);

    // The connections that negotiated it are counted (the ws and the raw client, at least).
    const metrics = parse((await request(server.url, '/metrics')).text);
    assert.ok(sample(metrics, 'kinto_push_connections_deflate_total') >= 2);
  } finally {
    deflating.ws.terminate();
    plain.ws.terminate();
    raw.destroy();
  }
});

test('compressed client messages are inflated: whole, fragmented, and from ws with threshold 0', async () => {
  const raw = await RawWebSocket.open(server.port, { headers: DEFLATE_OFFER });
  try {
    await raw.text((t) => JSON.parse(t).type === 'welcome', 3_000, 'welcome');
    raw.write(clientFrame(FIN | RSV1 | OP.text, deflateMessage(JSON.stringify({ type: 'ping', id: 'whole' }))));
    await raw.text((t) => JSON.parse(t).id === 'whole', 3_000, 'the pong to a compressed ping');
    const data = deflateMessage(JSON.stringify({ type: 'ping', id: 'fragmented' }));
    raw.write(Buffer.concat([clientFrame(RSV1 | OP.text, data.subarray(0, 5)), clientFrame(FIN | OP.continuation, data.subarray(5))]));
    await raw.text((t) => JSON.parse(t).id === 'fragmented', 3_000, 'the pong to a fragmented compressed ping');
  } finally {
    raw.destroy();
  }
  // ws compresses every message it sends with threshold 0 (and keeps no context, as told).
  const c = await connect(server.wsUrl, { wsOptions: { perMessageDeflate: { threshold: 0 } } });
  try {
    for (let i = 0; i < 3; i += 1) {
      assert.equal((await c.subscribe(collectionChannel('deflate', `client${i}`))).type, 'subscribed');
    }
    await publishOk(server.url, eventOfSize('deflate', 'client2', 1000));
    assert.equal((await c.events(collectionChannel('deflate', 'client2'), 1))[0].offset, 1);
  } finally {
    await c.close();
  }
});

test('a message that inflates past --max-frame-bytes is closed with 1009; the server serves others', async () => {
  const bomb = deflateMessage(JSON.stringify({ type: 'ping', id: ' '.repeat(1024 * 1024) }));
  assert.ok(bomb.length < MAX_FRAME_BYTES, `the bomb itself fits: ${bomb.length} bytes`);
  const cases = [
    ['bomb', clientFrame(FIN | RSV1 | OP.text, bomb), 1009],
    ['just past the limit', clientFrame(FIN | RSV1 | OP.text, deflateMessage('x'.repeat(MAX_FRAME_BYTES + 1))), 1009],
    ['invalid deflate data', clientFrame(FIN | RSV1 | OP.text, Buffer.from([0xff, 0xff, 0xff, 0xff, 0x01])), 1007],
    ['not UTF-8 once inflated', clientFrame(FIN | RSV1 | OP.text, deflateMessage(Buffer.from([0xc0, 0xaf]))), 1007],
    ['RSV1 on a continuation', Buffer.concat([clientFrame(RSV1 | OP.text, bomb.subarray(0, 3)),
      clientFrame(FIN | RSV1 | OP.continuation, bomb.subarray(3))]), 1002],
    ['RSV1 on a ping', clientFrame(FIN | RSV1 | OP.ping, Buffer.from('p')), 1002],
  ];
  for (const [what, bytes, code] of cases) {
    const raw = await RawWebSocket.open(server.port, { headers: DEFLATE_OFFER });
    try {
      await raw.text((t) => JSON.parse(t).type === 'welcome', 3_000, 'welcome');
      raw.write(bytes);
      const close = await raw.closeFrame();
      assert.equal(close.code, code, `${what}: ${close.reason}`);
      await raw.waitEnded();
    } finally {
      raw.destroy();
    }
  }
  // Meanwhile, and after, others are served.
  const channel = collectionChannel('deflate', 'after-bomb');
  const c = await connect(server.wsUrl, { wsOptions: { perMessageDeflate: true } });
  try {
    await c.subscribe(channel);
    await publishOk(server.url, eventOfSize('deflate', 'after-bomb', 2000));
    assert.equal((await c.events(channel, 1))[0].offset, 1);
  } finally {
    await c.close();
  }
});

test('offers RFC 7692 makes us decline: no extension in the 101, plain frames', async () => {
  const channel = collectionChannel('deflate', 'declined');
  const declined = [
    'permessage-deflate; frobnicate',
    'permessage-deflate; client_no_context_takeover; client_no_context_takeover',
    'permessage-deflate; server_max_window_bits=10',
    'permessage-deflate; server_max_window_bits',
    'permessage-deflate; client_max_window_bits=16',
    'permessage-deflate; server_no_context_takeover=yes',
    'permessage-deflate; client_max_window_bits="1 5"',
    'x-webkit-deflate-frame',
  ];
  const clients = [];
  try {
    for (const offer of declined) {
      const raw = await rawSubscriber(server.port, channel, `Sec-WebSocket-Extensions: ${offer}\r\n`);
      clients.push(raw);
      assert.equal(raw.handshake.headers['sec-websocket-extensions'], undefined, offer);
    }
    await publishOk(server.url, eventOfSize('deflate', 'declined', 2000));
    for (const raw of clients) {
      const f = await eventFrame(raw, 1);
      assert.equal(f.rsv, 0, 'plain');
      // And RSV1 from a client that did not negotiate it is a protocol error.
    }
    clients[0].write(clientFrame(FIN | RSV1 | OP.text, deflateMessage('{}')));
    assert.equal((await clients[0].closeFrame()).code, 1002);
  } finally {
    for (const raw of clients) raw.destroy();
  }
  // What is accepted instead: the first acceptable offer, across header lines; an offered
  // server_max_window_bits=15 is echoed.
  for (const [headers, answer] of [
    ['Sec-WebSocket-Extensions: permessage-deflate; frobnicate, permessage-deflate; client_max_window_bits=10\r\n', ANSWER],
    ['Sec-WebSocket-Extensions: x-foo\r\nSec-WebSocket-Extensions: permessage-deflate\r\n', ANSWER],
    ['Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits="15"\r\n', `${ANSWER}; server_max_window_bits=15`],
  ]) {
    const raw = await RawWebSocket.open(server.port, { headers });
    raw.destroy();
    assert.equal(raw.handshake.headers['sec-websocket-extensions'], answer, headers);
  }
});

test('--compression off: never negotiated, and RSV1 is a protocol error', async () => {
  const ws = await openWs(plainServer.wsUrl, { perMessageDeflate: true });
  const channel = collectionChannel('deflate', 'off');
  const raw = await rawSubscriber(plainServer.port, channel);
  try {
    assert.equal(ws.ws.extensions, '');
    assert.equal(raw.handshake.headers['sec-websocket-extensions'], undefined);
    await publishOk(plainServer.url, eventOfSize('deflate', 'off', 2000));
    assert.equal((await eventFrame(raw, 1)).rsv, 0);
    raw.write(clientFrame(FIN | RSV1 | OP.text, deflateMessage('{}')));
    assert.equal((await raw.closeFrame()).code, 1002);
  } finally {
    ws.ws.terminate();
    raw.destroy();
  }
  const config = JSON.parse((await (async () => {
    const { execFileSync } = require('node:child_process');
    return execFileSync(process.env.KINTO_PUSH_BIN, ['--print-config'], {
      env: { ...process.env, KINTO_PUSH_COMPRESSION: 'off' },
    }).toString();
  })()));
  assert.equal(config.compression, 'off');
});

test('/v1/push negotiates it too: compressed hello inflated, a large answer compressed, broadcasts plain', async () => {
  const raw = await RawWebSocket.open(server.port, { path: '/v1/push', headers: PUSH_PROTOCOL + DEFLATE_OFFER });
  try {
    assert.equal(raw.handshake.headers['sec-websocket-extensions'], ANSWER);
    assert.equal(raw.handshake.headers['sec-websocket-protocol'], 'push-notification');
    // A hello naming many unknown broadcasts: its answer lists them all, well over 256 bytes.
    const unknown = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`unknown/broadcast-${i}`, '"1"']));
    const hello = { messageType: 'hello', use_webpush: true, broadcasts: { [BROADCAST]: '"0"', ...unknown } };
    raw.write(clientFrame(FIN | RSV1 | OP.text, deflateMessage(JSON.stringify(hello))));
    const answer = await raw.frame((f) => f.opcode === OP.text, 3_000, 'the hello answer');
    assert.equal(answer.rsv, 0x4, 'a large answer leaves compressed');
    const reply = JSON.parse(inflateMessage(answer.payload));
    assert.equal(reply.messageType, 'hello');
    assert.equal(Object.keys(reply.broadcasts.errors).length, 20);
    // A broadcast is tiny: plain.
    const event = recordEvent({ bucket: 'deflate', collection: 'push' });
    await publishOk(server.url, event);
    const broadcast = await raw.frame((f) => f.opcode === OP.text && f !== answer, 3_000, 'the broadcast');
    assert.equal(broadcast.rsv, 0);
    assert.equal(JSON.parse(broadcast.payload.toString('utf8')).broadcasts[BROADCAST], `"${event.payload.timestamp}"`);
  } finally {
    raw.destroy();
  }
  // The ws client (as Firefox, which offers it too) negotiates it on /v1/push.
  const ws = new WebSocket(`ws://127.0.0.1:${server.port}/v1/push`, 'push-notification', { perMessageDeflate: true });
  try {
    await withTimeout(new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); }), 5_000, 'push open');
    assert.match(ws.extensions, /^permessage-deflate/);
  } finally {
    ws.terminate();
  }
});
