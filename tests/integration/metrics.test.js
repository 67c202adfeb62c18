'use strict';
// GET /metrics (PROTOCOL.md section 4): the Prometheus text format, parsed strictly
// (support/prometheus.js), and the kinto_push_* values after publishing, subscribing, a
// resume, a slow consumer's 4008 and refused credentials.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const {
  startServer, connect, publish, publishOk, request, recordEvent, collectionChannel, delay,
} = require('./support/server');
const { parse, sample } = require('./support/prometheus');

async function scrape(server) {
  const res = await request(server.url, '/metrics');
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
  return parse(res.text);
}

// Scrapes until `check(metrics)` is true (at most `ms`): for values settled after a reply, such
// as a close seen by the client before the server counted it.
async function scrapeUntil(server, check, what, ms = 5_000) {
  const deadline = Date.now() + ms;
  let last;
  while (Date.now() < deadline) {
    last = await scrape(server);
    if (check(last)) return last;
    await delay(25);
  }
  assert.fail(`metrics never showed ${what}`);
}

test('the parser refuses malformed expositions', () => {
  assert.throws(() => parse('x_total 1\n'), /before its TYPE/);
  assert.throws(() => parse('# TYPE x counter\nx{a="1} 1\n'), /unterminated|bad/);
  assert.throws(() => parse('# TYPE x counter\nx one\n'), /bad number/);
  assert.throws(() => parse('# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n'),
    /cumulative/);
  assert.throws(() => parse('# TYPE h histogram\nh_bucket{le="1"} 1\nh_sum 1\nh_count 1\n'), /\+Inf/);
  const ok = parse('# HELP x_total a\\nb\n# TYPE x_total counter\nx_total{k="a\\"b"} 3\n');
  assert.equal(sample(ok, 'x_total', { k: 'a"b' }), 3);
  assert.equal(ok.get('x_total').help, 'a\nb');
});

test('metrics follow connections, subscriptions, publishing, replays and refused credentials', async () => {
  const secret = 'metrics-test-publish-secret';
  const server = await startServer(['--publish-secret', secret, '--shards', '2']);
  const auth = { Authorization: `Bearer ${secret}` };
  try {
    const m0 = await scrape(server);
    // Every metric the operations guide documents is there from the start.
    for (const [name, type] of [
      ['kinto_push_connections', 'gauge'], ['kinto_push_connections_total', 'counter'],
      ['kinto_push_connections_refused_total', 'counter'], ['kinto_push_connections_deflate_total', 'counter'],
      ['kinto_push_subscriptions', 'gauge'],
      ['kinto_push_channels', 'gauge'], ['kinto_push_events_received_total', 'counter'],
      ['kinto_push_events_delivered_total', 'counter'], ['kinto_push_events_replayed_total', 'counter'],
      ['kinto_push_publish_requests_total', 'counter'], ['kinto_push_publish_seconds', 'histogram'],
      ['kinto_push_delivery_seconds', 'histogram'], ['kinto_push_replays_total', 'counter'],
      ['kinto_push_bytes_queued', 'gauge'], ['kinto_push_replay_read_ahead_bytes', 'gauge'],
      ['kinto_push_websocket_closes_total', 'counter'],
      ['kinto_push_auth_failures_total', 'counter'], ['kinto_push_store_operation_seconds', 'histogram'],
      ['kinto_push_store_errors_total', 'counter'], ['kinto_push_publish_queue', 'gauge'],
    ]) {
      assert.equal(m0.get(name)?.type, type, `${name} is a ${type}`);
    }
    assert.equal(sample(m0, 'kinto_push_connections'), 0);
    assert.equal(sample(m0, 'kinto_push_publish_seconds_count'), 0);

    const col = collectionChannel('metrics', 'c');
    const a = await connect(server.wsUrl);
    const b = await connect(server.wsUrl);
    await a.subscribe(col);
    await a.subscribe(collectionChannel('metrics', 'other'));
    const subscribed = await b.subscribe(col);
    const m1 = await scrape(server);
    assert.equal(sample(m1, 'kinto_push_connections'), 2);
    assert.equal(sample(m1, 'kinto_push_connections_total'), 2);
    assert.equal(sample(m1, 'kinto_push_subscriptions'), 3);
    assert.equal(sample(m1, 'kinto_push_channels'), 2);

    // One POST of three events: three received, three delivered to each of a and b.
    const events = [1, 2, 3].map((i) => recordEvent({ bucket: 'metrics', collection: 'c', id: `m${i}` }));
    await publishOk(server.url, { events }, auth);
    await a.events(col, 3);
    await b.events(col, 3);
    const m2 = await scrape(server);
    assert.equal(sample(m2, 'kinto_push_events_received_total'), 3);
    assert.equal(sample(m2, 'kinto_push_events_delivered_total'), 6);
    assert.equal(sample(m2, 'kinto_push_publish_requests_total', { status: '202' }), 1);
    assert.equal(sample(m2, 'kinto_push_publish_seconds_count'), 1);
    assert.ok(sample(m2, 'kinto_push_publish_seconds_sum') > 0);
    // The transaction reached both shards; each handed it over once.
    assert.equal(sample(m2, 'kinto_push_delivery_seconds_count'), 2);
    assert.ok(sample(m2, 'kinto_push_store_operation_seconds_count', { operation: 'append' }) >= 1);
    assert.equal(sample(m2, 'kinto_push_store_errors_total', { operation: 'append' }), 0);
    // The clients hold the frames a moment before the server's shards see their writes complete.
    await scrapeUntil(server, (m) => sample(m, 'kinto_push_bytes_queued') === 0, 'everything written (bytes_queued 0)');

    // A resume that recovers replays two events; one from another epoch does not recover.
    const c = await connect(server.wsUrl);
    const resumed = await c.subscribe(col, { epoch: subscribed.epoch, offset: 1 });
    assert.equal(resumed.recovered, true);
    await c.events(col, 2);
    const lost = await c.subscribe(collectionChannel('metrics', 'other'), { epoch: 'another-epoch', offset: 4 });
    assert.equal(lost.recovered, false);
    const m3 = await scrape(server);
    assert.equal(sample(m3, 'kinto_push_replays_total', { outcome: 'recovered' }), 1);
    assert.equal(sample(m3, 'kinto_push_replays_total', { outcome: 'not_recovered' }), 1);
    assert.equal(sample(m3, 'kinto_push_events_replayed_total'), 2);

    // Refused publishers: counted by kind and by status, never as received events.
    assert.equal((await publish(server.url, recordEvent({ bucket: 'metrics', collection: 'c' }),
      { Authorization: 'Bearer wrong' })).status, 401);
    assert.equal((await publish(server.url, recordEvent({ bucket: 'metrics', collection: 'c' }), {})).status, 401);
    const m4 = await scrape(server);
    assert.equal(sample(m4, 'kinto_push_auth_failures_total', { kind: 'publish_invalid_credentials' }), 1);
    assert.equal(sample(m4, 'kinto_push_auth_failures_total', { kind: 'publish_missing_credentials' }), 1);
    assert.equal(sample(m4, 'kinto_push_publish_requests_total', { status: '401' }), 2);
    assert.equal(sample(m4, 'kinto_push_events_received_total'), 3);

    // Clients leave with 1000 or without a code (1005): counted by code once the server saw it.
    a.ws.close(1000);
    b.ws.close(1000);
    await a.waitClosed();
    await b.waitClosed();
    await c.close();
    const m5 = await scrapeUntil(server, (m) => sample(m, 'kinto_push_connections') === 0, 'no connection');
    assert.equal(sample(m5, 'kinto_push_websocket_closes_total', { code: '1000', initiator: 'client' }), 2);
    assert.equal(sample(m5, 'kinto_push_websocket_closes_total', { code: '1005', initiator: 'client' }), 1);
    assert.equal(sample(m5, 'kinto_push_subscriptions'), 0);
    assert.equal(sample(m5, 'kinto_push_channels'), 0);
  } finally {
    await server.stop();
  }
});

test('refused subscribers and connections over the limit are counted', async () => {
  const server = await startServer(['--jwt-secret', 'metrics-jwt-secret', '--max-connections', '1']);
  try {
    const first = await connect(server.wsUrl, { welcome: false });
    const denied = await first.subscribe(collectionChannel('metrics', 'private'));
    assert.equal(denied.code, 'unauthorized');
    const second = await connect(server.wsUrl, { welcome: false });
    assert.equal((await second.waitClosed(5_000)).code, 4029);
    const m = await scrapeUntil(server, (x) => sample(x, 'kinto_push_connections') === 1, 'the refused connection gone');
    assert.equal(sample(m, 'kinto_push_auth_failures_total', { kind: 'subscribe_unauthorized' }), 1);
    assert.equal(sample(m, 'kinto_push_connections_refused_total'), 1);
    assert.equal(sample(m, 'kinto_push_websocket_closes_total', { code: '4029', initiator: 'server' }), 1);
    await first.close();
  } finally {
    await server.stop();
  }
});

test('a slow consumer closed with 4008 shows in the closes and the queued bytes', async () => {
  const server = await startServer(['--send-queue-bytes', '65536', '--shards', '2']);
  const col = collectionChannel('slowmetrics', 'c');
  const slow = await connect(server.wsUrl);
  try {
    await slow.subscribe(col);
    slow.ws._socket.pause();
    // Random text: it stays large when the client negotiated permessage-deflate (ws does).
    const blob = crypto.randomBytes(1536).toString('base64');
    let maxQueued = 0;
    let closed = false;
    // At most 400 POSTs of 23 KB (9 MB): far more than the socket buffers and the 64 KiB cap.
    for (let round = 0; round < 400 && !closed; round++) {
      const events = [];
      for (let i = 0; i < 10; i++) events.push(recordEvent({ bucket: 'slowmetrics', collection: 'c', id: `s${round}-${i}`, fields: { blob } }));
      await publishOk(server.url, { events });
      const m = await scrape(server);
      maxQueued = Math.max(maxQueued, sample(m, 'kinto_push_bytes_queued'));
      closed = sample(m, 'kinto_push_websocket_closes_total', { code: '4008', initiator: 'server' }) === 1;
    }
    assert.ok(closed, 'the slow client was closed with 4008');
    assert.ok(maxQueued > 0, `bytes were queued for the slow client (max seen ${maxQueued})`);
    slow.ws._socket.resume();
    assert.equal((await slow.waitClosed(5_000)).code, 4008);
    const m = await scrapeUntil(server, (x) => sample(x, 'kinto_push_connections') === 0, 'the slow client gone');
    assert.equal(sample(m, 'kinto_push_bytes_queued'), 0, 'its queue was released');
  } finally {
    slow.terminate();
    await server.stop();
  }
});

test('--metrics-listen serves /metrics and the Dockerflow endpoints there only', async () => {
  const server = await startServer(['--metrics-listen', '127.0.0.1:0']);
  try {
    const port = Number(/metrics served on http:\/\/127\.0\.0\.1:(\d+)\/metrics/.exec(server.log())[1]);
    const internal = { url: `http://127.0.0.1:${port}` };
    assert.notEqual(port, server.port);
    const metrics = await scrape(internal);
    assert.equal(sample(metrics, 'kinto_push_connections'), 0);
    for (const path of ['/__heartbeat__', '/__lbheartbeat__', '/__version__']) {
      assert.equal((await request(internal.url, path)).status, 200, path);
    }
    // Nothing else on the metrics address: no publishing, no WebSocket, no dashboard.
    const published = await publish(internal.url, recordEvent({ bucket: 'internal', collection: 'c' }));
    assert.equal(published.status, 404);
    assert.equal(published.body.errno, 111);
    assert.equal((await request(internal.url, '/')).status, 404);
    await assert.rejects(connect(`ws://127.0.0.1:${port}/v1/ws`), /404|Unexpected server response/);
    // And no /metrics on the public address.
    assert.equal((await request(server.url, '/metrics')).status, 404);
    assert.equal((await request(server.url, '/__version__')).status, 200);
  } finally {
    await server.stop();
  }
});
