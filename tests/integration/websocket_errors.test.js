'use strict';
// PROTOCOL.md section 3: bad frames, limits, close codes and keepalive.

const { test, describe, before, after } = require('node:test');
const assert = require('node:assert/strict');
const {
  startServer, connect, publishOk, recordEvent, collectionChannel, silentWebSocket, withTimeout, delay,
} = require('./support/server');

function nested(depth) {
  // An object at depth 1 holding arrays down to `depth`.
  return `{"type":"ping","id":"deep","x":${'['.repeat(depth - 1)}${']'.repeat(depth - 1)}}`;
}

describe('frames', () => {
  let server;
  const clients = [];
  const client = async () => {
    const c = await connect(server.wsUrl);
    clients.push(c);
    return c;
  };
  before(async () => {
    server = await startServer(['--max-frame-bytes', '1024', '--shards', '2']);
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await server?.stop();
  });

  test('a JSON object with an unknown type or bad fields gets bad_request echoing its id', async () => {
    const c = await client();
    const bad = [
      { type: 'dance', id: 'a1' },
      { id: 'a2' },
      { type: 5, id: 'a3' },
      { type: null, id: 'a4' },
      { type: 'subscribe', id: 'a5' },
      { type: 'subscribe', id: 'a6', channel: 42 },
      { type: 'unsubscribe', id: 'a7' },
      { type: 'unsubscribe', id: 'a8', channel: ['x'] },
    ];
    for (const channel of ['/buckets/a b', '/buckets/x/groups/g', '/buckets/x/collections/y/records/z', '/bucketsx',
      '/buckets/', 'buckets/x', '/buckets/x/collections/', '/buckets/x/', '/buckets//collections/y', '',
      `/buckets/${'b'.repeat(65)}`, '/buckets/é', '/v1/buckets/x', '/buckets/x/collections/y/']) {
      bad.push({ type: 'subscribe', id: `ch:${channel}`, channel });
    }
    for (const frame of bad) {
      const answer = await c.request(frame);
      assert.equal(answer.type, 'error', JSON.stringify(frame));
      assert.equal(answer.code, 'bad_request', JSON.stringify(frame));
      assert.equal(answer.id, frame.id);
      assert.equal(typeof answer.message, 'string');
    }
    // Without an id, the error has none.
    c.send({ type: 'dance' });
    const anonymous = await c.next('error');
    assert.equal(anonymous.code, 'bad_request');
    assert.ok(anonymous.id === undefined || anonymous.id === null, JSON.stringify(anonymous));

    // The connection stays usable.
    assert.equal(c.closeInfo, null);
    const col = collectionChannel('still', 'ok');
    assert.equal((await c.subscribe(col)).type, 'subscribed');
    await publishOk(server.url, recordEvent({ bucket: 'still', collection: 'ok' }));
    assert.equal((await c.events(col, 1))[0].offset, 1);
  });

  for (const [name, send] of [
    ['a binary frame', (c) => c.sendRaw(Buffer.from('{"type":"ping","id":"1"}'), { binary: true })],
    ['text that is not JSON', (c) => c.sendRaw('hello there')],
    ['truncated JSON', (c) => c.sendRaw('{"type":"ping"')],
    ['a JSON array', (c) => c.sendRaw('[{"type":"ping","id":"1"}]')],
    ['a JSON string', (c) => c.sendRaw('"ping"')],
    ['a JSON number', (c) => c.sendRaw('42')],
    ['JSON null', (c) => c.sendRaw('null')],
    ['JSON nested 65 deep', (c) => c.sendRaw(nested(65))],
  ]) {
    test(`${name} closes the connection with 4000`, async () => {
      const c = await client();
      send(c);
      const closed = await c.waitClosed();
      assert.equal(closed.code, 4000, JSON.stringify(closed));
    });
  }

  test('JSON nested 64 deep is accepted', async () => {
    const c = await client();
    c.sendRaw(nested(64));
    const pong = await c.next('pong');
    assert.equal(pong.id, 'deep');
  });

  test('invalid UTF-8 in a text frame closes with 1007', async () => {
    const c = await client();
    c.sendRaw(Buffer.from([0x7b, 0x22, 0x74, 0xff, 0xfe, 0x22, 0x7d]), { binary: false });
    const closed = await c.waitClosed();
    assert.equal(closed.code, 1007);
  });

  test('a frame over --max-frame-bytes closes with 1009', async () => {
    const c = await client();
    // Just under the limit is fine.
    const fits = JSON.stringify({ type: 'ping', id: 'fits', pad: 'x'.repeat(900) });
    assert.ok(fits.length <= 1024);
    c.sendRaw(fits);
    assert.equal((await c.next('pong')).id, 'fits');
    c.sendRaw(JSON.stringify({ type: 'ping', id: 'big', pad: 'x'.repeat(2000) }));
    const closed = await c.waitClosed();
    assert.equal(closed.code, 1009);
  });

  // A client does not wait for an answer before sending its next frames: the close code must
  // reach it even when more of its data follows the frame that failed the connection.
  test('a frame over the limit followed by more frames still gets its 1009', async () => {
    const c = await client();
    c.sendRaw(JSON.stringify({ type: 'ping', id: 'big', pad: 'x'.repeat(2000) }));
    for (let i = 0; i < 200; i++) c.send({ type: 'ping', id: `after${i}`, pad: 'y'.repeat(900) });
    const closed = await c.waitClosed();
    assert.equal(closed.code, 1009, `closed ${JSON.stringify(closed)}, socket errors: ${c.errors.map((e) => e.code ?? e.message)}`);
  });

  test('a frame that is not JSON followed by more frames still gets its 4000', async () => {
    const c = await client();
    c.sendRaw('not json');
    for (let i = 0; i < 200; i++) c.send({ type: 'ping', id: `after${i}`, pad: 'y'.repeat(900) });
    const closed = await c.waitClosed();
    assert.equal(closed.code, 4000, `closed ${JSON.stringify(closed)}, socket errors: ${c.errors.map((e) => e.code ?? e.message)}`);
  });

  test('invalid UTF-8 followed by more frames still gets its 1007', async () => {
    const c = await client();
    c.sendRaw(Buffer.from([0x7b, 0x22, 0x74, 0xff, 0xfe, 0x22, 0x7d]), { binary: false });
    for (let i = 0; i < 200; i++) c.send({ type: 'ping', id: `after${i}`, pad: 'y'.repeat(900) });
    const closed = await c.waitClosed();
    assert.equal(closed.code, 1007, `closed ${JSON.stringify(closed)}, socket errors: ${c.errors.map((e) => e.code ?? e.message)}`);
  });

  test('a message fragmented over the limit closes with 1009', async () => {
    const c = await client();
    // Two fragments of 700 bytes: each is small, the message is not.
    const text = JSON.stringify({ type: 'ping', id: 'frag', pad: 'x'.repeat(1380) });
    c.ws.send(text.slice(0, 700), { fin: false });
    c.ws.send(text.slice(700), { fin: true });
    const closed = await c.waitClosed();
    assert.equal(closed.code, 1009);
  });

  test('a closed connection does not disturb the others', async () => {
    const a = await client();
    const b = await client();
    const col = collectionChannel('others', 'c');
    await a.subscribe(col);
    await b.subscribe(col);
    b.sendRaw('garbage');
    assert.equal((await b.waitClosed()).code, 4000);
    await publishOk(server.url, recordEvent({ bucket: 'others', collection: 'c' }));
    assert.equal((await a.events(col, 1))[0].offset, 1);
  });
});

describe('--max-subscriptions 3', () => {
  let server;
  before(async () => {
    server = await startServer(['--max-subscriptions', '3', '--shards', '1']);
  });
  after(() => server?.stop());

  test('a 4th subscription gets too_many_subscriptions; the others still deliver', async () => {
    const c = await connect(server.wsUrl);
    try {
      const channels = ['a', 'b', 'c', 'd'].map((cid) => collectionChannel('limited', cid));
      for (const channel of channels.slice(0, 3)) assert.equal((await c.subscribe(channel)).type, 'subscribed');
      const refused = await c.subscribe(channels[3]);
      assert.equal(refused.type, 'error');
      assert.equal(refused.code, 'too_many_subscriptions');
      assert.equal(c.closeInfo, null);

      await publishOk(server.url, { events: channels.map((ch) => recordEvent({ bucket: 'limited', collection: ch.split('/').pop() })) });
      for (const channel of channels.slice(0, 3)) assert.equal((await c.events(channel, 1))[0].offset, 1);
      assert.deepEqual(await c.drain((f) => f.channel === channels[3], 150), []);

      // A freed slot can be used again.
      await c.unsubscribe(channels[0]);
      const now = await c.subscribe(channels[3]);
      assert.equal(now.type, 'subscribed');
      assert.equal(now.offset, 1);
    } finally {
      await c.close();
    }
  });
});

describe('--max-connections 3', () => {
  let server;
  before(async () => {
    server = await startServer(['--max-connections', '3', '--shards', '2']);
  });
  after(() => server?.stop());

  test('the 4th connection opens, then is closed with 4029', async () => {
    const three = [];
    for (let i = 0; i < 3; i++) three.push(await connect(server.wsUrl));
    try {
      const fourth = await connect(server.wsUrl, { welcome: false });
      const closed = await fourth.waitClosed();
      assert.equal(closed.code, 4029);
      assert.ok(!fourth.queue.some((f) => f.type === 'welcome'), 'no welcome before 4029');
      for (const c of three) assert.equal(c.closeInfo, null);
      assert.equal((await three[0].request({ type: 'ping' })).type, 'pong');

      // Once one leaves, a new connection is served. The server counts the departure when the
      // session ends, just after the close handshake: try a bounded number of times.
      await three.pop().close();
      let served = null;
      for (let attempt = 0; attempt < 20 && !served; attempt++) {
        const c = await connect(server.wsUrl, { welcome: false });
        const first = await Promise.race([c.next('welcome', 2_000).then(() => 'welcome'),
          c.waitClosed(2_000).then((i) => i.code)]);
        if (first === 'welcome') served = c;
        else assert.equal(first, 4029);
      }
      assert.ok(served, 'a connection is served after one left');
      three.push(served);
    } finally {
      await Promise.all(three.map((c) => c.close()));
    }
  });
});

describe('keepalive with --heartbeat 1', () => {
  let server;
  before(async () => {
    server = await startServer(['--heartbeat', '1', '--shards', '2']);
  });
  after(() => server?.stop());

  test('a client that stops answering pings is dropped after about two intervals; a live one stays', async () => {
    const live = await connect(server.wsUrl);
    assert.equal(live.welcome.heartbeat, 1);
    let livePings = 0;
    live.ws.on('ping', () => { livePings += 1; });
    const col = collectionChannel('alive', 'c');
    await live.subscribe(col);

    // A raw client that never answers, and a ws client whose socket stops being read.
    const started = Date.now();
    const silent = await silentWebSocket(server.port);
    const paused = await connect(server.wsUrl);
    paused.ws._socket.pause();

    const endedAt = await withTimeout(silent.ended, 6_000, 'the silent client being dropped');
    const elapsed = endedAt - started;
    assert.ok(elapsed >= 1_500, `dropped after ${elapsed} ms: too early for two 1 s intervals`);
    assert.ok(elapsed <= 4_500, `dropped after ${elapsed} ms: too late for two 1 s intervals`);
    const pings = silent.frames.filter((f) => f.opcode === 0x9);
    assert.ok(pings.length >= 1, `the server pinged the silent client (${silent.frames.map((f) => f.opcode)})`);

    // The paused client was dropped as well: its close shows once its socket is read again.
    await delay(500);
    paused.ws._socket.resume();
    const pausedClosed = await paused.waitClosed(3_000);
    assert.notEqual(pausedClosed.code, 1000);

    // The live client answered every ping and is still served.
    assert.equal(live.closeInfo, null);
    assert.ok(livePings >= 2, `the live client got ${livePings} pings`);
    await publishOk(server.url, recordEvent({ bucket: 'alive', collection: 'c' }));
    assert.equal((await live.events(col, 1))[0].offset, 1);
    await live.close();
  });
});
