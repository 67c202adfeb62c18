'use strict';
// GET /v1/sse read by an independent client, the npm `eventsource` package (the WHATWG
// EventSource for Node): the `subscribed` events, unnamed messages whose id is the stream's
// position (<epoch>_<o1>_<o2>), the `error` event before the server shuts down, and its own
// reconnection with Last-Event-ID resuming exactly after a server restart and after the
// connection is cut. Everything goes through a TCP proxy on 127.0.0.1 (tests/integration/
// support/tcp_proxy.js), which records each request's head and can cut connections.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { EventSource } = require('eventsource');
const { startServer, publishOk, recordEvent, collectionChannel, bucketChannel, withTimeout } = require('./support/server');
const { startProxy } = require('./support/tcp_proxy');

const A = collectionChannel('es', 'a');
const BUCKET = bucketChannel('es');

// Collects what an EventSource receives; until() waits for a condition (every wait times out).
function watch(es) {
  const seen = { subscribed: [], events: [], serverErrors: [], opens: 0, waiters: [] };
  const wake = () => { seen.waiters = seen.waiters.filter((w) => !w()); };
  es.addEventListener('subscribed', (e) => { seen.subscribed.push(JSON.parse(e.data)); wake(); });
  es.addEventListener('message', (e) => { seen.events.push({ ...JSON.parse(e.data), id: e.lastEventId }); wake(); });
  // `event: error` from the server is a MessageEvent named error, with data; a failed
  // connection is a plain error Event without data.
  es.addEventListener('error', (e) => { if (e.data !== undefined) seen.serverErrors.push(JSON.parse(e.data)); wake(); });
  es.addEventListener('open', () => { seen.opens += 1; wake(); });
  seen.until = (predicate, what, ms = 15_000) => withTimeout(new Promise((resolve) => {
    const check = () => { if (predicate()) { resolve(); return true; } return false; };
    if (!check()) seen.waiters.push(check);
  }), ms, what);
  seen.offsets = (channel) => seen.events.filter((e) => e.channel === channel).map((e) => e.offset);
  return seen;
}

// The id each message must carry: the positions of [A, BUCKET] after it, from `start`.
function expectedIds(epoch, events, start) {
  const position = { ...start };
  return events.map((e) => {
    position[e.channel] = e.offset;
    return `${epoch}_${position[A]}_${position[BUCKET]}`;
  });
}

const range = (from, to) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

test('eventsource: subscribed, ids, the shutdown error event, and Last-Event-ID after a restart and after a cut', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kinto-push-eventsource-'));
  const store = `sqlite:${path.join(dir, 'h.sqlite3')}`;
  const event = () => recordEvent({ bucket: 'es', collection: 'a' });
  let server = await startServer(['--store', store]);
  const port = server.port;
  const proxy = await startProxy(port);
  const es = new EventSource(`${proxy.url}/v1/sse?channel=${encodeURIComponent(A)}&channel=${encodeURIComponent(BUCKET)}`);
  try {
    const seen = watch(es);
    await seen.until(() => seen.subscribed.length === 2, 'two subscribed events');
    const [subA, subBucket] = seen.subscribed;
    assert.deepEqual(subA, { channel: A, epoch: subA.epoch, offset: 0, recovered: true });
    assert.deepEqual(subBucket, { channel: BUCKET, epoch: subA.epoch, offset: 0, recovered: true });
    const epoch = subA.epoch;

    // Each event reaches both channels: two messages, each with the stream's position.
    for (let i = 0; i < 3; i++) await publishOk(server.url, event());
    await seen.until(() => seen.events.length === 6, '6 messages');
    assert.deepEqual(seen.offsets(A), [1, 2, 3]);
    assert.deepEqual(seen.offsets(BUCKET), [1, 2, 3]);
    assert.ok(seen.events.every((e) => e.type === 'event' && Number.isInteger(e.timestamp) && e.payload.bucket_id === 'es'));
    assert.deepEqual(seen.events.map((e) => e.id), expectedIds(epoch, seen.events, { [A]: 0, [BUCKET]: 0 }));
    const lastId = `${epoch}_3_3`;
    assert.equal(seen.events.at(-1).id, lastId);

    // Restart: the server says `event: error` {code: shutdown} and ends the stream; 4 events are
    // stored by another instance while the port is free; the server comes back on the same
    // port; EventSource reconnects by itself (retry: 2000) with Last-Event-ID.
    await server.stop();
    await seen.until(() => seen.serverErrors.length === 1, 'the error event');
    assert.equal(seen.serverErrors[0].code, 'shutdown');
    assert.equal(typeof seen.serverErrors[0].message, 'string');
    const elsewhere = await startServer(['--store', store]);
    for (let i = 0; i < 4; i++) await publishOk(elsewhere.url, event());
    await elsewhere.stop();
    server = await startServer(['--store', store], { port });
    for (let i = 0; i < 2; i++) await publishOk(server.url, event());
    await seen.until(() => seen.offsets(A).length === 9 && seen.offsets(BUCKET).length === 9, '9 events on each channel');
    assert.deepEqual(seen.offsets(A), range(1, 9), 'no hole, no duplicate after the restart');
    assert.deepEqual(seen.offsets(BUCKET), range(1, 9));
    assert.deepEqual(seen.subscribed.slice(2).map((s) => [s.channel, s.epoch, s.offset, s.recovered]),
      [[A, epoch, 9, true], [BUCKET, epoch, 9, true]]);
    assert.deepEqual(seen.events.slice(6).map((e) => e.id), expectedIds(epoch, seen.events.slice(6), { [A]: 3, [BUCKET]: 3 }));
    const resumes = proxy.seen.heads.filter((h) => /^last-event-id:/im.test(h));
    assert.ok(resumes.length >= 1, 'EventSource reconnected with Last-Event-ID');
    assert.match(resumes[0], new RegExp(`^last-event-id: ${lastId}$`, 'im'));

    // The connection is cut under it (the proxy drops it, the server not knowing first):
    // events published meanwhile come back after its reconnection.
    const opens = seen.opens;
    proxy.dropAll();
    for (let i = 0; i < 3; i++) await publishOk(server.url, event());
    await seen.until(() => seen.opens > opens, 'the reconnection');
    await publishOk(server.url, event());
    await seen.until(() => seen.offsets(A).length === 13, '13 events on A');
    assert.deepEqual(seen.offsets(A), range(1, 13), 'no hole, no duplicate after the cut');
    await seen.until(() => seen.offsets(BUCKET).length === 13, '13 events on the bucket');
    assert.deepEqual(seen.offsets(BUCKET), range(1, 13));
    assert.match(proxy.seen.heads.at(-1), new RegExp(`^last-event-id: ${epoch}_9_9$`, 'im'));
    assert.equal(seen.serverErrors.length, 1, 'a cut connection has no error event');
  } finally {
    es.close();
    await proxy.close();
    await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('eventsource: a refusal before the stream fails the EventSource for good (no reconnection)', async () => {
  const server = await startServer(['--jwt-secret', 'eventsource-secret']);
  const proxy = await startProxy(server.port);
  const es = new EventSource(`${proxy.url}/v1/sse?channel=${encodeURIComponent(A)}`);
  try {
    const failed = await withTimeout(new Promise((resolve) => { es.onerror = (e) => resolve(e); }), 5_000, 'the error');
    assert.equal(failed.code, 401, 'the status, as the eventsource package exposes it');
    assert.equal(es.readyState, EventSource.CLOSED);
    await new Promise((resolve) => setTimeout(resolve, 2_500));   // past `retry`
    assert.equal(proxy.seen.heads.length, 1, 'EventSource does not retry a refusal');
  } finally {
    es.close();
    await proxy.close();
    await server.stop();
  }
});
