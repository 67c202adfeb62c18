'use strict';
// PROTOCOL.md section 7: webhooks. Local receivers on 127.0.0.1 (--webhook-allow-private);
// signatures checked by the npm `standardwebhooks` package, an independent implementation.

const { test, describe, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { Webhook } = require('standardwebhooks');
const {
  startServer, publishOk, request, recordEvent, collectionChannel, delay,
} = require('./support/server');
const { startReceiver, offsetsOf } = require('./support/webhook_receiver');
const { parse, sample } = require('./support/prometheus');

const json = (body) => ({ 'content-type': 'application/json', body: JSON.stringify(body) });
async function api(server, method, path, body, headers = {}) {
  return request(server.url, path, {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}
async function createWebhook(server, body, headers) {
  const res = await api(server, 'POST', '/v1/webhooks', body, headers);
  assert.equal(res.status, 201, res.text);
  return res.body;
}
const publishRecords = async (server, bucket, collection, count) => {
  for (let i = 0; i < count; i++) await publishOk(server.url, { events: [recordEvent({ bucket, collection })] });
};
const fast = ['--webhook-allow-private', '--webhook-backoff-initial-ms', '50', '--webhook-backoff-max', '1'];

describe('webhooks on one node', () => {
  let server;
  const receivers = [];
  const receiver = async (answer) => {
    const r = await startReceiver(answer);
    receivers.push(r);
    return r;
  };
  before(async () => {
    server = await startServer([...fast, '--shards', '2', '--webhook-timeout', '1']);
  });
  after(async () => {
    for (const r of receivers) await r.close();
    await server?.stop();
  });

  test('created with a generated secret shown once; events arrive in order, signed as Standard Webhooks says', async () => {
    const r = await receiver();
    const channel = collectionChannel('wh1', 'c');
    await publishRecords(server, 'wh1', 'c', 2);   // before the webhook: not delivered (from now on)
    const created = await createWebhook(server, { url: r.url, channels: [channel], description: 'first' });
    assert.match(created.id, /^wh_[0-9a-f]{32}$/);
    assert.match(created.secret, /^whsec_[A-Za-z0-9+/]+=*$/);
    assert.equal(created.status, 'active');
    assert.equal(created.disabled_reason, null);
    assert.equal(created.positions[channel].delivered, 2);

    await publishRecords(server, 'wh1', 'c', 5);
    await r.until((reqs) => reqs.length >= 5);
    const verifier = new Webhook(created.secret);
    const offsets = [];
    for (const req of r.requests) {
      assert.equal(req.method, 'POST');
      assert.equal(req.headers['content-type'], 'application/json');
      const payload = verifier.verify(req.body, req.headers);   // throws when the signature is wrong
      assert.equal(payload.type, 'kinto.event');
      assert.match(payload.timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
      assert.equal(payload.data.type, 'event');
      assert.equal(payload.data.channel, channel);
      offsets.push(payload.data.offset);
    }
    assert.deepEqual(offsets, [3, 4, 5, 6, 7]);
    assert.equal(new Set(r.requests.map((q) => q.headers['webhook-id'])).size, 5);
    // A wrong secret does not verify.
    assert.throws(() => new Webhook('whsec_' + Buffer.alloc(24, 7).toString('base64')).verify(r.requests[0].body, r.requests[0].headers));

    const listed = await api(server, 'GET', '/v1/webhooks');
    assert.equal(listed.status, 200);
    assert.ok(!listed.text.includes(created.secret), 'the list never shows secrets');
    const one = await api(server, 'GET', `/v1/webhooks/${created.id}`);
    assert.equal(one.body.secret, undefined);
    await r.until(() => true);
    const after = (await api(server, 'GET', `/v1/webhooks/${created.id}`)).body;
    assert.deepEqual({ delivered: after.positions[channel].delivered, last: after.positions[channel].last,
      lag: after.positions[channel].lag }, { delivered: 7, last: 7, lag: 0 });
    assert.ok(!server.log().includes(created.secret), 'the log never shows secrets');
  });

  test('a 5xx is retried with the same webhook-id, then order goes on; one log line per state change', async () => {
    const r = await receiver((req, i) => (i < 3 ? 503 : 200));
    const channel = collectionChannel('wh2', 'c');
    const created = await createWebhook(server, { url: r.url, channels: [channel] });
    await publishRecords(server, 'wh2', 'c', 3);
    await r.until((reqs) => reqs.filter((q) => q.status === 200).length >= 3);
    const ids = r.requests.map((q) => q.headers['webhook-id']);
    assert.equal(ids[0], ids[1]);
    assert.equal(ids[0], ids[3], 'the retries carry the same id until acknowledged');
    assert.deepEqual(r.requests.map((q) => offsetsOf(q)[0]), [1, 1, 1, 1, 2, 3]);
    assert.notEqual(r.requests[0].headers['webhook-timestamp'] === undefined, true);
    const log = server.log();
    assert.equal(log.split('\n').filter((l) => l.includes('webhook.retrying') && l.includes(created.id)).length, 1);
    assert.equal(log.split('\n').filter((l) => l.includes('webhook.recovered') && l.includes(created.id)).length, 1);
    const deliveries = (await api(server, 'GET', `/v1/webhooks/${created.id}/deliveries`)).body.deliveries;
    assert.equal(deliveries[0].status, 200);   // newest first
    assert.ok(deliveries.some((d) => d.status === 503));
    for (const d of deliveries) assert.ok(typeof d.duration_ms === 'number' && d.channel === channel);
  });

  test('no answer within --webhook-timeout is a failure, retried', async () => {
    const r = await receiver((req, i) => (i === 0 ? { hang: true } : 200));
    const channel = collectionChannel('wh3', 'c');
    const created = await createWebhook(server, { url: r.url, channels: [channel] });
    await publishRecords(server, 'wh3', 'c', 1);
    await r.until((reqs) => reqs.some((q) => q.status === 200), 8000);
    const deliveries = (await api(server, 'GET', `/v1/webhooks/${created.id}/deliveries`)).body.deliveries;
    const failed = deliveries.find((d) => d.status === null);
    assert.ok(failed, JSON.stringify(deliveries));
    assert.match(failed.error, /no answer within 1 s/);
    assert.ok(failed.duration_ms >= 900);
  });

  test('410 Gone disables at once; re-enabling resumes where it stopped', async () => {
    let gone = true;
    const r = await receiver(() => (gone ? 410 : 200));
    const channel = collectionChannel('wh4', 'c');
    const created = await createWebhook(server, { url: r.url, channels: [channel] });
    await publishRecords(server, 'wh4', 'c', 2);
    await r.until((reqs) => reqs.length >= 1);
    await delay(300);
    let state = (await api(server, 'GET', `/v1/webhooks/${created.id}`)).body;
    assert.equal(state.status, 'disabled');
    assert.equal(state.enabled, false);
    assert.match(state.disabled_reason, /410/);
    assert.equal(r.requests.length, 1, 'nothing more is sent to a disabled webhook');
    gone = false;
    const patched = await api(server, 'PATCH', `/v1/webhooks/${created.id}`, { enabled: true });
    assert.equal(patched.status, 200, patched.text);
    assert.equal(patched.body.disabled_reason, null);
    await r.until((reqs) => reqs.filter((q) => q.status === 200).length >= 2);
    assert.deepEqual(r.requests.filter((q) => q.status === 200).map((q) => offsetsOf(q)[0]), [1, 2]);
    state = (await api(server, 'GET', `/v1/webhooks/${created.id}`)).body;
    assert.equal(state.status, 'active');
  });

  test('max_batch: consecutive offsets of one channel, at most max_batch per request', async () => {
    let down = true;
    const r = await receiver(() => (down ? 500 : 200));
    const channel = collectionChannel('wh5', 'c');
    await createWebhook(server, { url: r.url, channels: [channel], max_batch: 3 });
    await publishOk(server.url, { events: [recordEvent({ bucket: 'wh5', collection: 'c' })] });
    await r.until((reqs) => reqs.length >= 1);
    await publishRecords(server, 'wh5', 'c', 6);
    down = false;
    await r.until((reqs) => reqs.filter((q) => q.status === 200).flatMap(offsetsOf).length >= 7);
    const ok = r.requests.filter((q) => q.status === 200);
    for (const q of ok) {
      assert.equal(q.json.type, 'kinto.events');
      assert.ok(q.json.data.length >= 1 && q.json.data.length <= 3);
    }
    assert.deepEqual(ok.flatMap(offsetsOf), [1, 2, 3, 4, 5, 6, 7]);
    assert.deepEqual(offsetsOf(ok[0]), [1], 'the failed request is retried as it was');
  });

  test('replay: the same events again from a position', async () => {
    const r = await receiver();
    const channel = collectionChannel('wh6', 'c');
    const created = await createWebhook(server, { url: r.url, channels: [channel], since: { timestamp: 0 } });
    await publishRecords(server, 'wh6', 'c', 3);
    await r.until((reqs) => reqs.length >= 3);
    const epoch = (await request(server.url, '/v1/')).body.epoch;
    const res = await api(server, 'POST', `/v1/webhooks/${created.id}/replay`, { channel, since: { epoch, offset: 1 } });
    assert.equal(res.status, 200, res.text);
    await r.until((reqs) => reqs.length >= 5);
    assert.deepEqual(r.requests.map((q) => offsetsOf(q)[0]), [1, 2, 3, 2, 3]);
  });

  test('PATCH changes url, channels, description, max_batch; DELETE stops it', async () => {
    const a = await receiver();
    const b = await receiver();
    const c1 = collectionChannel('wh7', 'a');
    const c2 = collectionChannel('wh7', 'b');
    const created = await createWebhook(server, { url: a.url, channels: [c1] });
    await publishRecords(server, 'wh7', 'a', 1);
    await a.until((reqs) => reqs.length >= 1);
    const patched = await api(server, 'PATCH', `/v1/webhooks/${created.id}`,
      { url: b.url, channels: [c1, c2], description: 'moved', max_batch: 2 });
    assert.equal(patched.status, 200, patched.text);
    assert.equal(patched.body.url, b.url);
    assert.deepEqual(patched.body.channels, [c1, c2]);
    await delay(1500);   // the definition reaches the runner at the next sync at the latest
    await publishRecords(server, 'wh7', 'b', 1);
    await publishRecords(server, 'wh7', 'a', 1);
    await b.until((reqs) => reqs.length >= 2);
    assert.equal(a.requests.length, 1);
    const del = await api(server, 'DELETE', `/v1/webhooks/${created.id}`);
    assert.equal(del.status, 200);
    assert.equal((await api(server, 'GET', `/v1/webhooks/${created.id}`)).status, 404);
    await delay(1200);
    await publishRecords(server, 'wh7', 'a', 1);
    await delay(500);
    assert.equal(b.requests.length, 2, 'nothing is delivered after DELETE');
  });

  test('metrics: deliveries by result, retries, lag and webhooks by status', async () => {
    const text = (await request(server.url, '/metrics')).text;
    const m = parse(text);
    assert.ok(sample(m, 'kinto_push_webhook_deliveries_total', { result: 'success' }) > 0);
    assert.ok(sample(m, 'kinto_push_webhook_deliveries_total', { result: 'http_error' }) > 0);
    assert.ok(sample(m, 'kinto_push_webhook_deliveries_total', { result: 'timeout' }) > 0);
    assert.ok(sample(m, 'kinto_push_webhook_retries_total') > 0);
    assert.ok(sample(m, 'kinto_push_webhook_events_total') > 0);
    assert.ok(sample(m, 'kinto_push_webhooks', { status: 'active' }) >= 1);
    assert.match(text, /kinto_push_webhook_lag_events\{webhook="wh_[0-9a-f]+"\} \d/);
  });
});

describe('a webhook that falls behind the history', () => {
  let server;
  let r;
  before(async () => {
    server = await startServer([...fast, '--history-size', '3']);
  });
  after(async () => {
    await r?.close();
    await server?.stop();
  });

  test('gets kinto.resync with the timestamp it last acknowledged, then the oldest events kept', async () => {
    let down = false;
    r = await startReceiver(() => (down ? 500 : 200));
    const channel = collectionChannel('behind', 'c');
    const created = await createWebhook(server, { url: r.url, channels: [channel] });
    const published = [];
    const publishOne = async () => {
      const event = recordEvent({ bucket: 'behind', collection: 'c' });
      await publishOk(server.url, { events: [event] });
      published.push(event.payload.timestamp);
    };
    await publishOne();
    await r.until((reqs) => reqs.length >= 1);
    down = true;
    for (let i = 0; i < 7; i++) await publishOne();   // offsets 2..8; the history keeps 6, 7, 8
    await r.until((reqs) => reqs.filter((q) => q.status === 500).length >= 2);
    down = false;
    await r.until((reqs) => reqs.filter((q) => q.status === 200).flatMap(offsetsOf).includes(8));
    const ok = r.requests.filter((q) => q.status === 200);
    // The request retried while the history moved on carries what it carried (offset 2).
    assert.deepEqual(ok.map((q) => q.json.type), ['kinto.event', 'kinto.event', 'kinto.resync', 'kinto.event', 'kinto.event', 'kinto.event']);
    assert.deepEqual(ok.map((q) => offsetsOf(q)[0] ?? null), [1, 2, null, 6, 7, 8]);
    assert.deepEqual(ok[2].json.data, { channel, timestamp: published[1] });
    new Webhook(created.secret).verify(ok[2].body, ok[2].headers);
    assert.match(ok[2].headers['webhook-id'], /^msg_[0-9a-f]{32}$/);
  });
});
