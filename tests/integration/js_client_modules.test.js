'use strict';
// The JavaScript client's socket-free modules, called directly: the query of an SSE stream
// (clients/js/kinto-push-sse-request.js) and the listeners (clients/js/kinto-push-listeners.js).
// The client over real sockets: js_client.test.js and js_client_sse.test.js.

const { test, before } = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { pathToFileURL } = require('node:url');
const { CLIENT_DIR } = require('./support/client_modules');

const load = (file) => import(pathToFileURL(path.join(CLIENT_DIR, file)).href);
const BASE = 'http://push.example/v1/sse';
const A = '/buckets/b/collections/a';
const B = '/buckets/b/collections/b';
const C = '/buckets/b/collections/c';

let streamRequest;
let Listeners;
before(async () => {
  ({ streamRequest } = await load('kinto-push-sse-request.js'));
  ({ Listeners } = await load('kinto-push-listeners.js'));
});

const entry = (channel, position = null, since = null) => ({ channel, position, since });

test('streamRequest: no channel asks GET /v1/', () => {
  const { url, asks } = streamRequest(BASE, [], null, 'tok');
  assert.equal(url, 'http://push.example/v1/');
  assert.equal(asks.size, 0);
});

test('streamRequest: one epoch per last_event_id: the last subscribed one, else the commonest; the others are lost', () => {
  const entries = [entry(A, { epoch: 'e1', offset: 3 }), entry(B, { epoch: 'e2', offset: 5 }), entry(C, { epoch: 'e2', offset: 8 })];
  let { url, asks } = streamRequest(BASE, entries, null, null);
  let q = new URL(url).searchParams;
  assert.deepEqual(q.getAll('channel'), [A, B, C]);
  assert.equal(q.get('last_event_id'), 'e2__5_8');
  assert.equal(q.get('access_token'), null);
  assert.deepEqual([...asks.values()].map((a) => a.kind), ['lost', 'offset', 'offset']);
  assert.deepEqual(asks.get(A).since, { epoch: 'e1', offset: 3 });

  ({ url, asks } = streamRequest(BASE, entries, 'e1', 'tok'));
  q = new URL(url).searchParams;
  assert.equal(q.get('last_event_id'), 'e1_3__');
  assert.equal(q.get('access_token'), 'tok');
  assert.deepEqual([...asks.values()].map((a) => a.kind), ['offset', 'lost', 'lost']);
});

test('streamRequest: positions last_event_id cannot carry, and since', () => {
  // An empty epoch or a position that is not one: live, as with no position.
  const { url, asks } = streamRequest(BASE, [entry(A, { epoch: '', offset: 3 }), entry(B, { epoch: 'e', offset: 1.5 })], null, null);
  assert.equal(new URL(url).searchParams.get('last_event_id'), null);
  assert.deepEqual([...asks.values()].map((a) => [a.kind, a.since]), [['live', null], ['live', null]]);
  // `since` wins over the stored position; timestamps go in since_timestamp (the smallest), a
  // later one skips to its own.
  const timed = streamRequest(BASE, [entry(A, { epoch: 'e', offset: 9 }, { timestamp: 700 }), entry(B, null, { timestamp: 500 }),
    entry(C, { epoch: 'e', offset: 9 }, { epoch: 'e', offset: 2 })], null, null);
  const q = new URL(timed.url).searchParams;
  assert.equal(q.get('since_timestamp'), '500');
  assert.equal(q.get('last_event_id'), 'e___2');
  assert.deepEqual([...timed.asks.values()].map((a) => [a.kind, a.skipTo]), [['timestamp', 700], ['timestamp', null], ['offset', undefined]]);
});

test('Listeners: in order, once, a throwing listener becomes an error event, unknown names throw', () => {
  const listeners = new Listeners(['event', 'error']);
  const seen = [];
  const once = (x) => seen.push(`once ${x}`);
  listeners.add('event', () => { throw new Error('boom'); });
  listeners.add('event', (x) => seen.push(`always ${x}`));
  listeners.once('event', once);
  listeners.add('error', (e) => seen.push(`error ${e.type} ${e.event} ${e.message}`));
  listeners.emit('event', 1);
  listeners.emit('event', 2);
  assert.deepEqual(seen, ['error handler event a event listener threw: boom', 'always 1', 'once 1',
    'error handler event a event listener threw: boom', 'always 2']);
  listeners.once('event', once);
  listeners.remove('event', once);   // removes the once wrapper by the function given
  seen.length = 0;
  listeners.emit('event', 3);
  assert.deepEqual(seen, ['error handler event a event listener threw: boom', 'always 3']);
  assert.throws(() => listeners.add('nope', () => {}), /unknown event "nope"/);
});
