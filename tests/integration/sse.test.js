'use strict';
// PROTOCOL.md section 6: GET /v1/sse, Server-Sent Events over the same channels, positions,
// replay, authorization and limits as the WebSocket endpoint. The client is support/sse_client.js,
// written from the HTML standard's event-stream format.

const { test, describe, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const {
  startServer, connect, publishOk, getJSON, recordEvent, collectionChannel, bucketChannel, request, delay,
} = require('./support/server');
const { openSse } = require('./support/sse_client');
const { jwt, nowS } = require('./support/jwt');
const { makeCertificate } = require('./support/tls');
const { parse, sample } = require('./support/prometheus');

const q = (channels, extra = '') =>
  `/v1/sse?${channels.map((c) => `channel=${encodeURIComponent(c)}`).join('&')}${extra}`;

describe('streams on an open server', () => {
  let server;
  let epoch;
  const streams = [];
  const open = async (p, options) => {
    const s = await openSse(server.url, p, options);
    streams.push(s);
    return s;
  };

  before(async () => {
    server = await startServer(['--shards', '2', '--heartbeat', '1']);
    epoch = (await getJSON(server.url, '/v1/')).body.epoch;
  });
  after(async () => {
    for (const s of streams) s.close();
    await server?.stop();
  });

  test('the answer head, retry, one subscribed per channel in order, then events with the stream position', async () => {
    const col = collectionChannel('sse1', 'c');
    const bkt = bucketChannel('sse1');
    const s = await open(q([col, bkt]));
    assert.equal(s.status, 200);
    assert.equal(s.headers['content-type'], 'text/event-stream');
    assert.equal(s.headers['cache-control'], 'no-cache');
    assert.equal(s.headers['x-accel-buffering'], 'no');
    await s.until((x) => x.named('subscribed').length === 2, 5000, 'two subscribed');
    assert.equal(s.retry, 2000);
    assert.match(s.body, /^retry: 2000\n\n/);
    assert.deepEqual(s.named('subscribed'), [
      { channel: col, epoch, offset: 0, recovered: true },
      { channel: bkt, epoch, offset: 0, recovered: true },
    ]);

    const ws = await connect(server.wsUrl);
    await ws.subscribe(col);
    await publishOk(server.url, { events: [recordEvent({ bucket: 'sse1', collection: 'c', id: 'r1' })] });
    await publishOk(server.url, { events: [recordEvent({ bucket: 'sse1', collection: 'c', id: 'r2' })] });
    await s.waitEvents(4);
    const events = s.events();
    // Each record event reaches the collection and the bucket: the id counts both, in query order.
    assert.deepEqual(events.map((e) => [e.channel, e.offset, e._id]), [
      [col, 1, `${epoch}_1_0`], [bkt, 1, `${epoch}_1_1`], [col, 2, `${epoch}_2_1`], [bkt, 2, `${epoch}_2_2`],
    ]);
    // The data is the WebSocket endpoint's event object.
    const wsEvents = await ws.events(col, 2);
    const { _id, ...first } = events[0];
    assert.deepEqual(first, wsEvents[0]);
    assert.equal(s.lastEventId, `${epoch}_2_2`);
    await ws.close();
  });

  test('resume from Last-Event-ID, from ?last_event_id=, the header winning over the query', async () => {
    const col = collectionChannel('sse2', 'c');
    const first = await open(q([col]));
    await first.until((x) => x.named('subscribed').length === 1);
    for (let i = 0; i < 5; i++)
      await publishOk(server.url, { events: [recordEvent({ bucket: 'sse2', collection: 'c', id: `r${i}` })] });
    await first.waitEvents(5);
    const afterTwo = first.events()[1]._id;
    assert.equal(afterTwo, `${epoch}_2`);
    first.close();

    const byHeader = await open(q([col], `&last_event_id=${epoch}_4`), { headers: { 'Last-Event-ID': afterTwo } });
    await byHeader.waitEvents(3);
    assert.deepEqual(byHeader.named('subscribed'), [{ channel: col, epoch, offset: 5, recovered: true }]);
    assert.deepEqual(byHeader.events().map((e) => e.offset), [3, 4, 5]);

    const byQuery = await open(q([col], `&last_event_id=${epoch}_4`));
    await byQuery.waitEvents(1);
    assert.deepEqual(byQuery.events().map((e) => [e.offset, e._id]), [[5, `${epoch}_5`]]);

    // Then live, no duplicate: one more event reaches each exactly once.
    await publishOk(server.url, { events: [recordEvent({ bucket: 'sse2', collection: 'c', id: 'r9' })] });
    await byHeader.waitEvents(4);
    await byQuery.waitEvents(2);
    await delay(200);
    assert.deepEqual(byHeader.events().map((e) => e.offset), [3, 4, 5, 6]);
    assert.deepEqual(byQuery.events().map((e) => e.offset), [5, 6]);
  });

  test('an id that is not ours resumes nothing: recovered false on every channel, then live', async () => {
    const col = collectionChannel('sse3', 'c');
    const bkt = bucketChannel('sse3');
    await publishOk(server.url, { events: [recordEvent({ bucket: 'sse3', collection: 'c', id: 'r0' })] });
    const bad = ['garbage', `${epoch}_1`, `${epoch}_1_1_1`, 'deadbeef_0_0', `${epoch}_x_1`, 'a'.repeat(12000)];
    for (const id of bad) {
      const s = await open(q([col, bkt]), { headers: { 'Last-Event-ID': id } });
      assert.equal(s.status, 200, id.slice(0, 40));
      await s.until((x) => x.named('subscribed').length === 2);
      assert.deepEqual(s.named('subscribed').map((x) => x.recovered), [false, false], id.slice(0, 40));
      assert.deepEqual(s.named('subscribed').map((x) => x.offset), [1, 1]);
      s.close();
    }
    const s = await open(q([col, bkt]), { headers: { 'Last-Event-ID': 'garbage' } });
    await s.until((x) => x.named('subscribed').length === 2);
    await publishOk(server.url, { events: [recordEvent({ bucket: 'sse3', collection: 'c', id: 'r1' })] });
    await s.waitEvents(2);
    assert.deepEqual(s.events().map((e) => [e.channel, e.offset]), [[col, 2], [bkt, 2]]);
  });

  test('since_timestamp replays a collection after a Kinto timestamp; a bucket channel is refused', async () => {
    const col = collectionChannel('sse4', 'c');
    const events = [1000, 2000, 3000].map((t, i) =>
      recordEvent({ bucket: 'sse4', collection: 'c', id: `r${i}`, timestamp: 1_700_000_000_000 + t }));
    for (const e of events) await publishOk(server.url, { events: [e] });
    const s = await open(q([col], `&since_timestamp=${1_700_000_001_500}`));
    await s.waitEvents(2);
    assert.deepEqual(s.named('subscribed'), [{ channel: col, epoch, offset: 3, recovered: true }]);
    assert.deepEqual(s.events().map((e) => [e.offset, e._id]), [[2, `${epoch}_2`], [3, `${epoch}_3`]]);

    const refused = await open(q([col, bucketChannel('sse4')], '&since_timestamp=5'));
    await refused.waitEnd();
    assert.equal(refused.status, 400);
    const body = JSON.parse(refused.body);
    assert.equal(body.errno, 107);
    assert.match(body.message, /^since_timestamp: only on collection channels/);
  });

  test('bad requests are refused before any stream, in Kinto\'s error shape', async () => {
    const cases = [
      ['/v1/sse', /^channel: at least one is required/],
      [q(['/nope']), /is not a channel \(\/buckets, \/buckets\/BID/],
      [q(['/buckets/a', '/buckets/a']), /given twice/],
      [q([collectionChannel('x', 'y')], '&since_timestamp=-1'), /^since_timestamp: must be a non-negative integer/],
    ];
    for (const [p, message] of cases) {
      const s = await open(p);
      await s.waitEnd();
      assert.equal(s.status, 400, p);
      assert.equal(s.headers['content-type'], 'application/json');
      const body = JSON.parse(s.body);
      assert.deepEqual([body.code, body.errno, body.error], [400, 107, 'Invalid parameters']);
      assert.match(body.message, message);
    }
    const post = await request(server.url, q([bucketChannel('x')]), { method: 'POST', body: '' });
    assert.equal(post.status, 405);
  });

  test('a comment every heartbeat keeps an idle stream alive', async () => {
    const s = await open(q([bucketChannel('idle')]));
    await s.until((x) => x.comments.filter((c) => c === 'ping').length >= 2, 5000, 'two pings');
  });

  test('SSE streams count among the connections and their ends are counted by reason', async () => {
    const before = parse((await request(server.url, '/metrics')).text);
    const s = await open(q([bucketChannel('metrics')]));
    await s.until((x) => x.named('subscribed').length === 1);
    assert.match(server.log(), /sse\.open/);
    const during = parse((await request(server.url, '/metrics')).text);
    assert.equal(sample(during, 'kinto_push_connections'), sample(before, 'kinto_push_connections') + 1);
    s.close();
    const closedBefore = sample(before, 'kinto_push_sse_closes_total', { reason: 'client_closed', initiator: 'client' }) ?? 0;
    for (let i = 0; i < 50; i++) {
      const m = parse((await request(server.url, '/metrics')).text);
      if ((sample(m, 'kinto_push_sse_closes_total', { reason: 'client_closed', initiator: 'client' }) ?? 0) > closedBefore) {
        assert.match(server.log(), /sse\.close/);
        return;
      }
      await delay(100);
    }
    assert.fail('the client close was not counted');
  });
});

describe('limits', () => {
  test('over --max-subscriptions channels: 400; over --max-connections: 429', async () => {
    const server = await startServer(['--max-subscriptions', '2', '--max-connections', '1']);
    try {
      const over = await openSse(server.url, q(['/buckets/a', '/buckets/b', '/buckets/c']));
      await over.waitEnd();
      assert.equal(over.status, 400);
      assert.equal(JSON.parse(over.body).message, 'channel: at most 2 channels per stream');

      const first = await openSse(server.url, q(['/buckets/a', '/buckets/b']));
      await first.until((x) => x.named('subscribed').length === 2);
      const second = await openSse(server.url, q(['/buckets/a']));
      await second.waitEnd();
      assert.equal(second.status, 429);
      assert.equal(JSON.parse(second.body).message, 'too many connections');
      first.close();
    } finally {
      await server.stop();
    }
  });

  test('a client that does not read gets event: error too_slow, then resumes from its last id', async () => {
    const server = await startServer(['--send-queue-bytes', '65536', '--socket-send-buffer', '65536',
      '--history-size', '5000']);
    try {
      const col = collectionChannel('slow', 'c');
      const s = await openSse(server.url, q([col]));
      await s.until((x) => x.named('subscribed').length === 1);
      s._response.pause();
      const fields = { text: 'x'.repeat(2000) };
      // Publish until the server gives up on the stream (bounded), then read on at once: the
      // error event waits at most 5 s for a client that reads again.
      const tooSlow = async () => sample(parse((await request(server.url, '/metrics')).text),
        'kinto_push_sse_closes_total', { reason: 'too_slow', initiator: 'server' });
      let published = 0;
      while (published < 3000 && !(await tooSlow())) {
        const events = [];
        for (let j = 0; j < 10; j++) events.push(recordEvent({ bucket: 'slow', collection: 'c', id: `r${published + j}`, fields }));
        await publishOk(server.url, { events });
        published += 10;
      }
      assert.equal(await tooSlow(), 1);
      s._response.resume();
      await s.waitEnd(20000);
      assert.deepEqual(s.named('error').map((e) => e.code), ['too_slow']);
      const got = s.events().map((e) => e.offset);
      assert.ok(got.length > 0 && got.length < published, `got ${got.length} of ${published}`);
      assert.deepEqual(got, got.map((_, i) => i + 1));   // in order, no hole

      const resumed = await openSse(server.url, q([col]), { headers: { 'Last-Event-ID': s.lastEventId } });
      await resumed.waitEvents(published - got.length, 20000);
      assert.equal(resumed.named('subscribed')[0].recovered, true);
      assert.deepEqual(resumed.events().map((e) => e.offset),
        Array.from({ length: published - got.length }, (_, i) => got.length + i + 1));
      resumed.close();
    } finally {
      await server.stop();
    }
  });

  test('shutdown ends every stream with event: error shutdown', async () => {
    const server = await startServer([]);
    const s = await openSse(server.url, q([bucketChannel('bye')]));
    await s.until((x) => x.named('subscribed').length === 1);
    await server.stop();
    await s.waitEnd();
    assert.deepEqual(s.named('error').map((e) => e.code), ['shutdown']);
  });
});

describe('authorization', () => {
  const secret = 'sse-test-secret';
  let server;
  before(async () => { server = await startServer(['--jwt-secret', secret, '--public-channels', '/buckets/open']); });
  after(() => server?.stop());

  const token = (channels, exp = nowS() + 600) => jwt({ sub: 'alice', channels, exp }, { secret });

  test('public channels need no credentials; others get 401, a JWT for other channels 403', async () => {
    const open = await openSse(server.url, q(['/buckets/open']));
    await open.until((x) => x.named('subscribed').length === 1);
    open.close();

    const none = await openSse(server.url, q(['/buckets/private']));
    await none.waitEnd();
    assert.equal(none.status, 401);
    assert.match(JSON.parse(none.body).message, /^\/buckets\/private: this channel needs credentials/);

    const invalid = await openSse(server.url, q(['/buckets/private'], '&access_token=not.a.jwt'));
    await invalid.waitEnd();
    assert.equal(invalid.status, 401);
    assert.equal(JSON.parse(invalid.body).errno, 105);

    // One refused channel refuses the stream, whatever the order.
    const other = await openSse(server.url, q(['/buckets/open', '/buckets/private'],
      `&access_token=${token(['/buckets/elsewhere'])}`));
    await other.waitEnd();
    assert.equal(other.status, 403);
    assert.equal(JSON.parse(other.body).errno, 121);
  });

  test('a JWT by ?access_token= or Authorization opens its channels', async () => {
    const byQuery = await openSse(server.url, q(['/buckets/private'], `&access_token=${token(['/buckets/private'])}`));
    await byQuery.until((x) => x.named('subscribed').length === 1);
    byQuery.close();
    const byHeader = await openSse(server.url, q(['/buckets/private']), {
      headers: { Authorization: `Bearer ${token(['/buckets/*'])}` },
    });
    await byHeader.until((x) => x.named('subscribed').length === 1);
    byHeader.close();
  });

  test('a JWT that expires ends the stream with event: error unauthorized', async () => {
    // Accepted up to 30 s after exp (clock skew): this one has 2 s left.
    const s = await openSse(server.url, q(['/buckets/private'], `&access_token=${token(['/buckets/private'], nowS() - 28)}`));
    await s.until((x) => x.named('subscribed').length === 1);
    await s.waitEnd(8000);
    assert.deepEqual(s.named('error').map((e) => e.code), ['unauthorized']);
  });
});

test('TLS: an SSE stream over https', async () => {
  const { dir, cert, key, ca } = makeCertificate();
  const server = await startServer(['--tls-cert', cert, '--tls-key', key]);
  try {
    const base = `https://127.0.0.1:${server.port}`;
    const s = await openSse(base, q([bucketChannel('tls')]), { tls: { ca } });
    await s.until((x) => x.named('subscribed').length === 1);
    const body = JSON.stringify({ events: [recordEvent({ bucket: 'tls', collection: 'c', id: 'r1' })] });
    await new Promise((resolve, reject) => {
      const req = require('node:https').request({ host: '127.0.0.1', port: server.port, path: '/v1/events',
        method: 'POST', ca, headers: { 'Content-Type': 'application/json' } }, (res) => {
        res.resume();
        res.on('end', () => (res.statusCode === 202 ? resolve() : reject(new Error(`status ${res.statusCode}`))));
      });
      req.on('error', reject);
      req.end(body);
    });
    await s.waitEvents(1);
    assert.equal(s.events()[0].channel, '/buckets/tls');
    s.close();
  } finally {
    await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('browsers on other origins: CORS headers on the stream and on its refusals; --allowed-origins refuses others', async () => {
  const page = 'http://127.0.0.1:9';
  const server = await startServer(['--cors-origins', page, '--allowed-origins', `${page},http://localhost:9`]);
  try {
    const s = await openSse(server.url, q([bucketChannel('cors')]), { headers: { Origin: page } });
    await s.until((x) => x.named('subscribed').length === 1);
    assert.equal(s.headers['access-control-allow-origin'], page);
    s.close();

    const bad = await openSse(server.url, q(['/nope']), { headers: { Origin: page } });
    await bad.waitEnd();
    assert.equal(bad.status, 400);
    assert.equal(bad.headers['access-control-allow-origin'], page);

    // Allowed by --allowed-origins but not by --cors-origins: served, without a grant.
    const other = await openSse(server.url, q([bucketChannel('cors')]), { headers: { Origin: 'http://localhost:9' } });
    await other.until((x) => x.named('subscribed').length === 1);
    assert.equal(other.headers['access-control-allow-origin'], undefined);
    other.close();

    const refused = await openSse(server.url, q([bucketChannel('cors')]), { headers: { Origin: 'http://evil.example' } });
    await refused.waitEnd();
    assert.equal(refused.status, 403);
    assert.equal(JSON.parse(refused.body).errno, 121);
    assert.equal(refused.named('subscribed').length, 0);
  } finally {
    await server.stop();
  }
});
