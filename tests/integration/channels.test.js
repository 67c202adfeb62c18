'use strict';
// PROTOCOL.md section 8: GET /v1/channels and GET /v1/channels/{channel}, channel information
// for operators, against the real binary: offsets, timestamps and kept events of the history,
// WebSocket and SSE subscribers counted across shards, the listing (prefix, limit, more), the
// admin credentials (--admin-secret, loopback, JWTs with the `webhooks` claim) and bad input.

const { test, describe, before, after } = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const {
  startServer, connect, publishOk, getJSON, recordEvent, collectionChannel, bucketChannel, request, delay,
} = require('./support/server');
const { openSse } = require('./support/sse_client');
const { jwt, nowS } = require('./support/jwt');

const JWT_SECRET = 'channels-test-jwt-secret';
const ADMIN_SECRET = 'channels-test-admin-secret';
const enc = encodeURIComponent;

// Asks until `check(body)` holds, at most `tries` times 50 ms apart (a closed connection
// leaves its channels on the server's thread shortly after the client saw the close).
async function until(server, path, check, headers = {}, tries = 100) {
  let last;
  for (let i = 0; i < tries; i += 1) {
    last = await request(server.url, path, { headers });
    if (last.status === 200 && check(last.body)) return last.body;
    await delay(50);
  }
  assert.fail(`${path} never matched; last answer ${last.status} ${last.text}`);
}

function assertKintoError(res, code, errno) {
  assert.equal(res.status, code, res.text);
  assert.equal(res.body.code, code);
  assert.equal(res.body.errno, errno);
  assert.equal(typeof res.body.error, 'string');
  assert.equal(typeof res.body.message, 'string');
}

describe('an open server on two shards (loopback, no --admin-secret)', () => {
  let server;
  let epoch;
  const closers = [];

  before(async () => {
    server = await startServer(['--shards', '2']);
    epoch = (await getJSON(server.url, '/v1/')).body.epoch;
  });
  after(async () => {
    for (const c of closers) await c();
    await server?.stop();
  });

  test('GET /v1/ names the channels capability', async () => {
    const { body } = await getJSON(server.url, '/v1/');
    assert.ok(body.capabilities.includes('channels'), JSON.stringify(body.capabilities));
  });

  test('a channel never seen answers 200 with zeros, in both URL forms', async () => {
    const channel = collectionChannel('never', 'seen');
    for (const path of [`/v1/channels/${enc(channel)}`, `/v1/channels${channel}`]) {
      const res = await getJSON(server.url, path);
      assert.equal(res.status, 200, `${path}: ${res.text}`);
      assert.equal(res.headers.get('content-type'), 'application/json');
      assert.deepEqual(res.body, {
        channel, epoch, first_offset: 0, last_offset: 0, last_timestamp: 0, events: 0,
        subscribers: { node: 0, cluster: null },
      });
    }
  });

  test('offsets, the last timestamp and the events kept follow publishing', async () => {
    const channel = collectionChannel('info', 'c');
    const ts1 = 1800000000001;
    const ts2 = 1800000000002;
    await publishOk(server.url, { events: [recordEvent({ bucket: 'info', collection: 'c', id: 'r1', timestamp: ts1 })] });
    await publishOk(server.url, { events: [recordEvent({ bucket: 'info', collection: 'c', id: 'r2', timestamp: ts2 })] });
    const { body } = await getJSON(server.url, `/v1/channels${channel}`);
    assert.deepEqual(body, {
      channel, epoch, first_offset: 1, last_offset: 2, last_timestamp: ts2, events: 2,
      subscribers: { node: 0, cluster: null },
    });
    const bucket = await getJSON(server.url, `/v1/channels/${enc(bucketChannel('info'))}`);
    assert.equal(bucket.body.last_offset, 2);
    assert.equal(bucket.body.events, 2);
    const firehose = await getJSON(server.url, '/v1/channels/%2Fbuckets');
    assert.equal(firehose.body.channel, '/buckets');
    assert.ok(firehose.body.last_offset >= 2);
  });

  test('WebSocket and SSE subscribers on both shards are counted per exact channel, and uncounted', async () => {
    const channel = collectionChannel('count', 'c');
    const other = collectionChannel('count', 'other');
    const path = `/v1/channels${channel}`;
    // Several connections: the shards take them in turn, so both shards hold some.
    const sockets = [];
    for (let i = 0; i < 4; i += 1) {
      const ws = await connect(server.wsUrl);
      closers.push(() => ws.close());
      assert.equal((await ws.subscribe(channel)).type, 'subscribed');
      sockets.push(ws);
    }
    assert.equal((await sockets[0].subscribe(other)).type, 'subscribed');
    const streams = [];
    for (let i = 0; i < 2; i += 1) {
      const s = await openSse(server.url, `/v1/sse?channel=${enc(channel)}`);
      closers.push(async () => s.close());
      await s.until((x) => x.named('subscribed').length === 1, 5000, 'subscribed');
      streams.push(s);
    }
    let body = (await getJSON(server.url, path)).body;
    assert.deepEqual(body.subscribers, { node: 6, cluster: null });
    assert.equal((await getJSON(server.url, `/v1/channels${other}`)).body.subscribers.node, 1);
    // The bucket channel has none: only the exact channel counts.
    assert.equal((await getJSON(server.url, `/v1/channels${bucketChannel('count')}`)).body.subscribers.node, 0);

    // A subscribe repeated on the same connection is not counted twice.
    await sockets[1].subscribe(channel);
    assert.equal((await getJSON(server.url, path)).body.subscribers.node, 6);

    assert.equal((await sockets[0].unsubscribe(channel)).type, 'unsubscribed');
    assert.equal((await getJSON(server.url, path)).body.subscribers.node, 5);
    await sockets[1].close();
    streams[0].close();
    body = await until(server, path, (b) => b.subscribers.node === 3);
    assert.equal(body.subscribers.node, 3);
    for (const ws of sockets.slice(2)) await ws.close();
    streams[1].close();
    await until(server, path, (b) => b.subscribers.node === 0);
    // sockets[0] still holds `other`.
    assert.equal((await getJSON(server.url, `/v1/channels${other}`)).body.subscribers.node, 1);
    await sockets[0].close();
    await until(server, `/v1/channels${other}`, (b) => b.subscribers.node === 0);
  });

  test('the listing: channels with history or subscribers under the prefix, sorted, cut by limit', async () => {
    for (const c of ['a', 'b', 'c']) {
      await publishOk(server.url, { events: [recordEvent({ bucket: 'list', collection: c })] });
    }
    const ws = await connect(server.wsUrl);
    closers.push(() => ws.close());
    await ws.subscribe(collectionChannel('list', 'live'));   // no history, a subscriber
    await ws.subscribe(collectionChannel('listing', 'x'));   // another bucket with the same start

    const all = await getJSON(server.url, `/v1/channels?prefix=${enc('/buckets/list/')}`);
    assert.equal(all.status, 200, all.text);
    assert.equal(all.body.more, false);
    assert.deepEqual(all.body.channels.map((c) => c.channel), [
      '/buckets/list/collections/a', '/buckets/list/collections/b', '/buckets/list/collections/c',
      '/buckets/list/collections/live',
    ]);
    const live = all.body.channels[3];
    assert.deepEqual(live, {
      channel: '/buckets/list/collections/live', epoch, first_offset: 0, last_offset: 0, last_timestamp: 0,
      events: 0, subscribers: { node: 1, cluster: null },
    });
    assert.equal(all.body.channels[0].events, 1);

    const cut = await getJSON(server.url, `/v1/channels?prefix=${enc('/buckets/list/')}&limit=2`);
    assert.equal(cut.body.more, true);
    assert.deepEqual(cut.body.channels.map((c) => c.channel),
      ['/buckets/list/collections/a', '/buckets/list/collections/b']);
    const exact = await getJSON(server.url, `/v1/channels?prefix=${enc('/buckets/list/')}&limit=4`);
    assert.equal(exact.body.more, false);
    assert.equal(exact.body.channels.length, 4);

    const wider = await getJSON(server.url, `/v1/channels?prefix=${enc('/buckets/list')}`);
    const names = wider.body.channels.map((c) => c.channel);
    assert.ok(names.includes('/buckets/listing/collections/x'), names.join());
    assert.ok(names.includes('/buckets/list'), names.join());
    assert.deepEqual(names, [...names].sort());

    // No prefix: everything, the firehose first.
    const everything = await getJSON(server.url, '/v1/channels?limit=1000');
    assert.equal(everything.body.channels[0].channel, '/buckets');
    const big = await getJSON(server.url, '/v1/channels?limit=5000');   // cut to 1000
    assert.equal(big.status, 200);
  });

  test('bad input: 400 in Kinto\'s shape, errno 107', async () => {
    for (const path of [
      '/v1/channels?prefix=buckets', '/v1/channels?prefix=%2Fbucket', '/v1/channels?prefix=x',
      '/v1/channels?limit=0', '/v1/channels?limit=-1', '/v1/channels?limit=ten', '/v1/channels?limit=',
      '/v1/channels/', '/v1/channels/buckets/b/records/r', '/v1/channels/%2Fbuckets%2Fb%2Fc',
      '/v1/channels/buckets/bad%20id', `/v1/channels/buckets/${'x'.repeat(65)}`, '/v1/channels/buckets/b/',
      '/v1/channels/other',
    ]) {
      const res = await getJSON(server.url, path);
      assertKintoError(res, 400, 107);
      if (path.startsWith('/v1/channels/')) assert.match(res.body.message, /\/buckets\/BID\/collections\/CID/, path);
    }
    const post = await request(server.url, '/v1/channels', { method: 'POST', body: '{}' });
    assertKintoError(post, 405, 115);
  });

  test('CORS is not on without --cors-origins', async () => {
    const res = await request(server.url, '/v1/channels', { headers: { origin: 'https://app.example.com' } });
    assert.equal(res.headers.get('access-control-allow-origin'), null);
  });
});

describe('admin credentials: --admin-secret and JWTs with the webhooks claim', () => {
  let server;
  const bearer = (token) => ({ authorization: `Bearer ${token}` });
  const token = (claims) => jwt({ sub: 'ops', exp: nowS() + 3600, ...claims }, { secret: JWT_SECRET });

  before(async () => {
    server = await startServer(['--admin-secret', ADMIN_SECRET, '--jwt-secret', JWT_SECRET]);
    for (const [b, c] of [['adm', 'a'], ['adm', 'b'], ['other', 'z']]) {
      await publishOk(server.url, { events: [recordEvent({ bucket: b, collection: c })] });
    }
  });
  after(async () => { await server?.stop(); });

  test('loopback without the admin secret is refused with 401 and WWW-Authenticate: Bearer', async () => {
    for (const headers of [{}, bearer('wrong'), bearer(`${ADMIN_SECRET}x`), { authorization: `Basic ${ADMIN_SECRET}` }]) {
      for (const path of ['/v1/channels', '/v1/channels/buckets/adm']) {
        const res = await request(server.url, path, { headers });
        assertKintoError(res, 401, 104);
        assert.equal(res.headers.get('www-authenticate'), 'Bearer');
      }
    }
  });

  test('the admin secret sees every channel', async () => {
    const res = await request(server.url, '/v1/channels', { headers: bearer(ADMIN_SECRET) });
    assert.equal(res.status, 200, res.text);
    const names = res.body.channels.map((c) => c.channel);
    assert.ok(names.includes('/buckets/other/collections/z'));
    assert.ok(names.includes('/buckets'));
    const one = await request(server.url, '/v1/channels/buckets/adm/collections/a', { headers: bearer(ADMIN_SECRET) });
    assert.equal(one.status, 200);
    assert.equal(one.body.last_offset, 1);
  });

  test('a JWT with webhooks:true sees only the channels its patterns cover', async () => {
    const headers = bearer(token({ webhooks: true, channels: ['/buckets/adm/collections/*'] }));
    const list = await request(server.url, '/v1/channels', { headers });
    assert.equal(list.status, 200, list.text);
    assert.deepEqual(list.body.channels.map((c) => c.channel),
      ['/buckets/adm/collections/a', '/buckets/adm/collections/b']);
    assert.equal(list.body.more, false);
    const one = await request(server.url, '/v1/channels/buckets/adm/collections/b', { headers });
    assert.equal(one.status, 200);
    assert.equal(one.body.channel, '/buckets/adm/collections/b');
    // Not covered: 403, whether it has history or not.
    for (const path of ['/v1/channels/buckets/adm', '/v1/channels/buckets/other/collections/z', '/v1/channels/buckets']) {
      assertKintoError(await request(server.url, path, { headers }), 403, 121);
    }
  });

  test('a valid JWT without the claim is forbidden (403); an invalid one is unauthorized (401)', async () => {
    for (const claims of [{ channels: ['/buckets/adm'] }, { webhooks: false, channels: ['/buckets/adm'] }]) {
      const headers = bearer(token(claims));
      assertKintoError(await request(server.url, '/v1/channels', { headers }), 403, 121);
      assertKintoError(await request(server.url, '/v1/channels/buckets/adm', { headers }), 403, 121);
    }
    for (const bad of [
      jwt({ exp: nowS() - 3600, webhooks: true, channels: ['/buckets/adm'] }, { secret: JWT_SECRET }),
      jwt({ exp: nowS() + 3600, webhooks: true, channels: ['/buckets/adm'] }, { secret: 'another-secret' }),
      token({ webhooks: 'true', channels: ['/buckets/adm'] }),
    ]) {
      assertKintoError(await request(server.url, '/v1/channels', { headers: bearer(bad) }), 401, 104);
    }
  });

  test('credentials are checked before the request: a stranger learns nothing from a 400', async () => {
    assertKintoError(await request(server.url, '/v1/channels?limit=0'), 401, 104);
    assertKintoError(await request(server.url, '/v1/channels?limit=0', { headers: bearer(ADMIN_SECRET) }), 400, 107);
  });
});

describe('CORS on the channel endpoints', () => {
  let server;
  const PAGE = 'https://ops.example.com';
  before(async () => { server = await startServer(['--cors-origins', PAGE]); });
  after(async () => { await server?.stop(); });

  function send(method, path, headers) {
    return new Promise((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: server.port, method, path, headers, agent: false }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c) => { text += c; });
        res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, text }));
      });
      req.setTimeout(5000, () => req.destroy(new Error('timeout')));
      req.on('error', reject);
      req.end();
    });
  }

  test('preflights of both forms are granted, and the answers carry the CORS fields', async () => {
    for (const path of ['/v1/channels?prefix=%2Fbuckets', '/v1/channels/buckets/x', '/v1/channels/%2Fbuckets%2Fx']) {
      const pre = await send('OPTIONS', path, {
        origin: PAGE, 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization',
      });
      assert.equal(pre.status, 204, `${path}: ${pre.text}`);
      assert.equal(pre.headers['access-control-allow-origin'], PAGE);
      assert.match(pre.headers['access-control-allow-headers'], /Authorization/);
      const got = await send('GET', path, { origin: PAGE });
      assert.equal(got.status, 200, got.text);
      assert.equal(got.headers['access-control-allow-origin'], PAGE);
    }
  });
});
