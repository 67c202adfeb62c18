'use strict';
// PROTOCOL.md sections 2 and 4: publishing errors in Kinto's error shape, and the other HTTP
// endpoints.

const { test, describe, before, after } = require('node:test');
const assert = require('node:assert/strict');
const {
  startServer, connect, publish, publishOk, request, getJSON, rawHttp, recordEvent, collectionChannel,
} = require('./support/server');

function assertKintoError(res, code, errno, messagePattern) {
  assert.equal(res.status, code, res.text);
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
  assert.deepEqual(Object.keys(res.body).sort(), ['code', 'errno', 'error', 'message']);
  assert.equal(res.body.code, code);
  assert.equal(res.body.errno, errno);
  assert.equal(typeof res.body.error, 'string');
  assert.ok(res.body.error.length > 0);
  assert.equal(typeof res.body.message, 'string');
  if (messagePattern) assert.match(res.body.message, messagePattern);
}

async function historyOf(url, channel, query = '') {
  const res = await getJSON(url, `/v1/history?channel=${encodeURIComponent(channel)}${query}`);
  assert.equal(res.status, 200, res.text);
  return res.body;
}

describe('without a publish secret', () => {
  let server;
  let epoch;
  before(async () => {
    server = await startServer(['--history-size', '2000', '--max-body-bytes', '65536', '--shards', '1']);
    epoch = (await getJSON(server.url, '/v1/')).body.epoch;
  });
  after(() => server?.stop());

  test('400 for a body that is not JSON (errno 106)', async () => {
    for (const body of ['{"payload": ', 'not json', '', '[1, 2', '{"a": 1}}']) {
      const res = await publish(server.url, body);
      assertKintoError(res, 400, 106);
    }
    const deep = '['.repeat(100) + ']'.repeat(100);
    assertKintoError(await publish(server.url, deep), 400, 106);
  });

  test('400 for a bad event names the field, and nothing is stored', async () => {
    const bucket = 'bad';
    const channel = collectionChannel(bucket, 'c');
    const watcher = await connect(server.wsUrl);
    try {
      await watcher.subscribe(channel);
      await watcher.subscribe(`/buckets/${bucket}`);
      const cases = [
        [(e) => { e.payload.action = 'upsert'; }, /payload\.action/],
        [(e) => { delete e.payload.action; }, /payload\.action/],
        [(e) => { delete e.payload.resource_name; }, /payload\.resource_name/],
        [(e) => { e.payload.resource_name = 7; }, /payload\.resource_name/],
        [(e) => { delete e.payload.uri; }, /payload\.uri/],
        [(e) => { delete e.payload.timestamp; }, /payload\.timestamp/],
        [(e) => { e.payload.timestamp = '1717000000000'; }, /payload\.timestamp/],
        [(e) => { e.payload.timestamp = 1.5; }, /payload\.timestamp/],
        [(e) => { delete e.payload.bucket_id; }, /payload\.bucket_id/],
        [(e) => { delete e.payload.collection_id; }, /payload\.collection_id/],
        [(e) => { e.payload.bucket_id = 'no/slashes'; }, /payload\.bucket_id/],
        [(e) => { e.payload.collection_id = 'x'.repeat(65); }, /payload\.collection_id/],
        [(e) => { delete e.payload; }, /payload/],
        [(e) => { e.payload = [1]; }, /payload/],
        [(e) => { e.impacted_objects = {}; }, /impacted_objects/],
        [(e) => { e.impacted_objects = [42]; }, /impacted_objects\[0\]/],
        [(e) => { e.impacted_objects = [{}]; }, /impacted_objects\[0\]/],
        [(e) => { delete e.impacted_objects[0].new.last_modified; }, /impacted_objects\[0\]\.new\.last_modified/],
        [(e) => { e.impacted_objects[0].new.last_modified = 'yesterday'; }, /impacted_objects\[0\]\.new\.last_modified/],
        [(e) => { delete e.impacted_objects[0].new.id; }, /impacted_objects\[0\]\.new\.id/],
      ];
      for (const [spoil, pattern] of cases) {
        const event = recordEvent({ bucket, collection: 'c' });
        spoil(event);
        const res = await publish(server.url, event);
        assertKintoError(res, 400, 107, pattern);
        assert.equal(res.body.error, 'Invalid parameters');
      }
      assertKintoError(await publish(server.url, '[]'), 400, 107);
      assertKintoError(await publish(server.url, '"text"'), 400, 107);
      assertKintoError(await publish(server.url, { events: [] }), 400, 107, /events/);
      assertKintoError(await publish(server.url, { events: {} }), 400, 107, /events/);

      assert.equal((await historyOf(server.url, channel)).offset, 0);
      assert.equal((await historyOf(server.url, `/buckets/${bucket}`)).offset, 0);
      assert.deepEqual(await watcher.drain((f) => f.type === 'event', 200), []);
    } finally {
      await watcher.close();
    }
  });

  test('400 for a list whose 2nd event is bad: nothing of the request is stored', async () => {
    const bucket = 'half';
    const channel = collectionChannel(bucket, 'c');
    const good = recordEvent({ bucket, collection: 'c' });
    const bad = recordEvent({ bucket, collection: 'c' });
    delete bad.payload.timestamp;
    const res = await publish(server.url, { events: [good, bad, recordEvent({ bucket, collection: 'c' })] });
    assertKintoError(res, 400, 107, /events\[1\]\.payload\.timestamp/);
    const history = await historyOf(server.url, channel);
    assert.equal(history.offset, 0);
    assert.deepEqual(history.events, []);
    // The good event was not remembered as published either.
    const published = await publishOk(server.url, good);
    assert.equal(published.find((p) => p.channel === channel).offset, 1);
  });

  test('415 for a body that is not declared JSON', async () => {
    const body = JSON.stringify(recordEvent({ bucket: 'ctype', collection: 'c' }));
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'application/jsonp']) {
      const res = await request(server.url, '/v1/events', { method: 'POST', headers: { 'content-type': type }, body });
      assertKintoError(res, 415, 107);
    }
    const none = await request(server.url, '/v1/events', { method: 'POST', body: Buffer.from(body) });
    assertKintoError(none, 415, 107);
    assert.equal((await historyOf(server.url, collectionChannel('ctype', 'c'))).offset, 0);
    const charset = await publish(server.url, body, { 'content-type': 'application/json; charset=utf-8' });
    assert.equal(charset.status, 202, charset.text);
  });

  test('413 for a body over --max-body-bytes', async () => {
    const big = recordEvent({ bucket: 'big', collection: 'c', fields: { blob: 'x'.repeat(70_000) } });
    const res = await publish(server.url, big);
    assertKintoError(res, 413, 113);
    assert.equal((await historyOf(server.url, collectionChannel('big', 'c'))).offset, 0);
    // Announced by Content-Length, before any of the body is sent.
    const raw = await rawHttp(server.port,
      'POST /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 9000000\r\n\r\n');
    assert.match(raw, /^HTTP\/1\.1 413 /);
    assert.match(raw, /"errno":113/);
    // Just under the limit is accepted.
    const fits = recordEvent({ bucket: 'big', collection: 'c', fields: { blob: 'x'.repeat(60_000) } });
    assert.equal((await publish(server.url, fits)).status, 202);
  });

  test('413 reaches a publisher that sends a body far over the limit', async () => {
    // The publisher must read a 413, not a reset connection: it would retry a network error.
    const huge = JSON.stringify(recordEvent({ bucket: 'huge', collection: 'c', fields: { blob: 'x'.repeat(8_000_000) } }));
    const outcomes = [];
    for (let i = 0; i < 3; i++) {
      try {
        outcomes.push((await publish(server.url, huge)).status);
      } catch (e) {
        outcomes.push(e.cause?.code ?? e.message);
      }
    }
    assert.deepEqual(outcomes, [413, 413, 413]);
  });

  test('404 for an unknown path, 405 for a wrong method', async () => {
    for (const path of ['/v2/events', '/v1/nothing', '/v1/events/1', '/buckets', '/favicon.ico']) {
      assertKintoError(await getJSON(server.url, path), 404, 111);
    }
    assertKintoError(await request(server.url, '/v1/events'), 405, 115);
    assertKintoError(await request(server.url, '/v1/events', { method: 'PUT', body: '{}' }), 405, 115);
    assertKintoError(await request(server.url, '/v1/history?channel=/buckets', { method: 'POST', body: '{}' }), 405, 115);
    assertKintoError(await request(server.url, '/v1/', { method: 'DELETE' }), 405, 115);
    assertKintoError(await request(server.url, '/__heartbeat__', { method: 'POST', body: '' }), 405, 115);
  });

  test('426 for GET /v1/ws without an upgrade; 431 for headers over 16 KiB; 400 for a malformed request', async () => {
    assertKintoError(await getJSON(server.url, '/v1/ws'), 426, 107);
    const big = await rawHttp(server.port,
      `GET /v1/ HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: ${'a'.repeat(17 * 1024)}\r\n\r\n`);
    assert.match(big, /^HTTP\/1\.1 431 /);
    const garbage = await rawHttp(server.port, 'NOT HTTP AT ALL\r\n\r\n');
    assert.match(garbage, /^HTTP\/1\.1 400 /);
    assert.equal((await getJSON(server.url, '/__lbheartbeat__')).status, 200, 'the server still serves');
  });

  test('404 for a path that decodes to bytes that are not UTF-8, and the connection goes on', async () => {
    const answer = await rawHttp(server.port,
      'GET /%ff%fe HTTP/1.1\r\nHost: x\r\n\r\nGET /__lbheartbeat__ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    const heads = answer.match(/HTTP\/1\.1 \d+/g);
    assert.deepEqual(heads, ['HTTP/1.1 404', 'HTTP/1.1 200'], JSON.stringify(answer));
    assert.match(answer, /"errno":111/);
    assert.ok(Buffer.from(answer, 'latin1').toString('utf8').includes('no such endpoint: /\ufffd\ufffd'), answer);
  });

  test('HEAD: the GET answer\'s head, Content-Length included, and no body; the connection goes on', async () => {
    const answer = await rawHttp(server.port,
      'HEAD /v1/ HTTP/1.1\r\nHost: x\r\n\r\nHEAD /nowhere HTTP/1.1\r\nHost: x\r\n\r\n' +
      'GET /__lbheartbeat__ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    const parts = answer.split('\r\n\r\n');
    assert.equal(parts.length, 4, JSON.stringify(answer));
    assert.match(parts[0], /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(parts[0], /\r\nContent-Length: [1-9]\d*(\r\n|$)/);
    assert.match(parts[1], /^HTTP\/1\.1 404 /, 'the next answer starts right after the head');
    assert.match(parts[2], /^HTTP\/1\.1 200 OK\r\n/);
    assert.equal(parts[3], '{}');
  });

  test('GET /v1/', async () => {
    const res = await getJSON(server.url, '/v1/');
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type'), /^application\/json/);
    const info = res.body;
    assert.equal(info.server, 'kinto-push');
    assert.match(info.version, /^\d+\.\d+\.\d+/);
    assert.equal(info.store, 'memory');
    assert.equal(typeof info.epoch, 'string');
    assert.ok(info.epoch.length > 0);
    assert.equal(info.epoch, epoch);
    assert.ok(Array.isArray(info.capabilities));
    assert.ok(info.capabilities.includes('history'));
    for (const absent of ['jwt', 'tls', 'kinto-auth']) assert.ok(!info.capabilities.includes(absent), absent);
    assert.deepEqual((await getJSON(server.url, '/v1')).body, info);
  });

  test('Dockerflow endpoints', async () => {
    const heartbeat = await getJSON(server.url, '/__heartbeat__');
    assert.equal(heartbeat.status, 200);
    const lb = await getJSON(server.url, '/__lbheartbeat__');
    assert.equal(lb.status, 200);
    const version = await getJSON(server.url, '/__version__');
    assert.equal(version.status, 200);
    for (const key of ['source', 'version', 'commit', 'build']) {
      assert.equal(typeof version.body[key], 'string', key);
      assert.ok(version.body[key].length > 0, key);
    }
    assert.equal(version.body.version, (await getJSON(server.url, '/v1/')).body.version);
  });

  test('GET / serves the HTML dashboard', async () => {
    const res = await request(server.url, '/');
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type'), /^text\/html/);
    assert.match(res.text, /<html/i);
  });

  test('GET /v1/history pages through a channel', async () => {
    const bucket = 'paged';
    const channel = collectionChannel(bucket, 'c');
    const events = [];
    for (let i = 0; i < 1100; i++) events.push(recordEvent({ bucket, collection: 'c', id: `p${i}` }));
    for (let i = 0; i < events.length; i += 100) await publishOk(server.url, { events: events.slice(i, i + 100) });

    const first = await historyOf(server.url, channel, '&since=0&limit=10');
    assert.equal(first.channel, channel);
    assert.equal(first.epoch, epoch);
    assert.equal(first.offset, 1100);
    assert.equal(first.recovered, true);
    assert.equal(first.more, true);
    assert.equal(first.events.length, 10);
    first.events.forEach((e, i) => {
      assert.equal(e.type, 'event');
      assert.equal(e.channel, channel);
      assert.equal(e.offset, i + 1);
      assert.equal(e.timestamp, events[i].payload.timestamp);
      assert.deepEqual(e.payload, events[i].payload);
      assert.deepEqual(e.impacted_objects, events[i].impacted_objects);
    });

    const defaults = await historyOf(server.url, channel);
    assert.equal(defaults.events.length, 100);
    assert.equal(defaults.events[0].offset, 1);
    assert.equal(defaults.more, true);

    const tail = await historyOf(server.url, channel, `&since=1095&limit=10&epoch=${epoch}`);
    assert.deepEqual(tail.events.map((e) => e.offset), [1096, 1097, 1098, 1099, 1100]);
    assert.equal(tail.more, false);
    assert.equal(tail.recovered, true);

    const exact = await historyOf(server.url, channel, '&since=1090&limit=10');
    assert.equal(exact.events.length, 10);
    assert.equal(exact.more, false, 'the limit did not cut the list');

    const capped = await historyOf(server.url, channel, '&since=0&limit=5000');
    assert.equal(capped.events.length, 1000);
    assert.equal(capped.more, true);
    assert.equal(capped.events[999].offset, 1000);

    const head = await historyOf(server.url, channel, '&since=1100');
    assert.deepEqual(head.events, []);
    assert.equal(head.recovered, true);
    assert.equal(head.more, false);

    const beyond = await historyOf(server.url, channel, '&since=1101');
    assert.deepEqual(beyond.events, []);
    assert.equal(beyond.recovered, false);
    assert.equal(beyond.offset, 1100);

    const otherEpoch = await historyOf(server.url, channel, `&since=5&epoch=${epoch === 'ffffffff' ? '0' : 'ffffffff'}`);
    assert.deepEqual(otherEpoch.events, []);
    assert.equal(otherEpoch.recovered, false);
    assert.equal(otherEpoch.epoch, epoch);

    const unknown = await historyOf(server.url, collectionChannel(bucket, 'nothing'));
    assert.equal(unknown.offset, 0);
    assert.equal(unknown.recovered, true);
    assert.deepEqual(unknown.events, []);
  });

  test('GET /v1/history rejects bad parameters', async () => {
    const c = encodeURIComponent(collectionChannel('paged', 'c'));
    for (const query of ['', '?channel=', '?channel=/bucket', `?channel=${encodeURIComponent('/buckets/a b')}`,
      `?channel=${c}&since=-1`, `?channel=${c}&since=x`, `?channel=${c}&limit=0`, `?channel=${c}&limit=many`]) {
      assertKintoError(await getJSON(server.url, `/v1/history${query}`), 400, 107);
    }
  });
});

describe('with --publish-secret', () => {
  let server;
  before(async () => {
    server = await startServer(['--publish-secret', 's3cret-value', '--shards', '1']);
  });
  after(() => server?.stop());

  test('401 without or with wrong credentials, 202 with the right bearer', async () => {
    const channel = collectionChannel('auth', 'c');
    const event = () => recordEvent({ bucket: 'auth', collection: 'c' });
    assertKintoError(await publish(server.url, event()), 401, 104);
    for (const authorization of ['Bearer wrong', 'Bearer s3cret-valu', 'Bearer s3cret-value2', 'Basic czNjcmV0LXZhbHVl',
      's3cret-value', 'Bearer ']) {
      assertKintoError(await publish(server.url, event(), { authorization }), 401, 105);
    }
    assert.equal((await historyOf(server.url, channel)).offset, 0, 'nothing stored');

    const ok = await publish(server.url, event(), { authorization: 'Bearer s3cret-value' });
    assert.equal(ok.status, 202, ok.text);
    assert.equal(ok.body.published.find((p) => p.channel === channel).offset, 1);
    const lower = await publish(server.url, event(), { authorization: 'bearer s3cret-value' });
    assert.equal(lower.status, 202, 'the scheme is case-insensitive');
  });

  test('credentials are checked before the body', async () => {
    assertKintoError(await publish(server.url, 'not json'), 401, 104);
  });
});
