'use strict';
// PROTOCOL.md sections 1-3: publishing Kinto events and receiving them over WebSocket.

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const {
  startServer, connect, publish, publishOk, getJSON, recordEvent, bucketEvent, collectionEvent,
  collectionChannel, bucketChannel, offsetOf, nextTimestamp,
} = require('./support/server');

let server;
let epoch;
const clients = [];

async function client() {
  const c = await connect(server.wsUrl);
  clients.push(c);
  return c;
}

before(async () => {
  server = await startServer(['--heartbeat', '7', '--shards', '2']);
  epoch = (await getJSON(server.url, '/v1/')).body.epoch;
});

after(async () => {
  await Promise.all(clients.map((c) => c.close()));
  if (server) await server.stop();
});

test('welcome frame', async () => {
  const c = await client();
  const w = c.welcome;
  assert.equal(w.type, 'welcome');
  assert.equal(typeof w.session, 'string');
  assert.ok(w.session.length > 0);
  assert.match(w.server, /^kinto-push\/\d+\.\d+\.\d+/);
  assert.equal(w.heartbeat, 7);
  const other = await client();
  assert.notEqual(other.welcome.session, w.session, 'each connection has its own session');
});

test('subscribe answers subscribed with epoch, offset and recovered', async () => {
  const c = await client();
  const channel = collectionChannel('sub', 'fresh');
  const answer = await c.subscribe(channel);
  assert.deepEqual(answer, {
    type: 'subscribed', id: answer.id, channel, epoch, offset: 0, recovered: true,
  });

  // After two events the channel's head is 2.
  await publishOk(server.url, { events: [recordEvent({ bucket: 'sub', collection: 'fresh' }),
    recordEvent({ bucket: 'sub', collection: 'fresh' })] });
  const late = await client();
  const second = await late.subscribe(channel);
  assert.equal(second.offset, 2);
  assert.equal(second.recovered, true);
  assert.equal(second.epoch, epoch);
});

test('a record event reaches the collection, bucket and firehose channels', async () => {
  const bucket = 'news';
  const col = collectionChannel(bucket, 'articles');
  const bkt = bucketChannel(bucket);
  const c = await client();
  for (const channel of [col, bkt, '/buckets']) assert.equal((await c.subscribe(channel)).type, 'subscribed');

  const ts = nextTimestamp();
  const event = recordEvent({ bucket, collection: 'articles', id: 'r1', timestamp: ts, fields: { title: 'v2' } });
  event.payload.extra_payload_field = { kept: true };
  event.plugin_field = 'passed on';
  const res = await publish(server.url, event);
  assert.equal(res.status, 202, res.text);
  const published = res.body.published;
  assert.deepEqual(published.map((p) => p.channel).sort(), [col, bkt, '/buckets'].sort());
  assert.equal(offsetOf(published, col), 1);
  assert.equal(offsetOf(published, bkt), 1);
  const firehoseOffset = offsetOf(published, '/buckets');
  assert.ok(Number.isInteger(firehoseOffset) && firehoseOffset >= 1);

  for (const [channel, offset] of [[col, 1], [bkt, 1], ['/buckets', firehoseOffset]]) {
    const [frame] = await c.events(channel, 1);
    assert.equal(frame.type, 'event');
    assert.equal(frame.offset, offset, channel);
    assert.equal(frame.timestamp, ts, channel);
    assert.deepEqual(frame.payload, event.payload, channel);
    assert.deepEqual(frame.impacted_objects, event.impacted_objects, channel);
    assert.equal(frame.plugin_field, 'passed on', `unknown fields are kept on ${channel}`);
  }
});

test('event timestamp: largest new.last_modified of the channel part, else payload.timestamp', async () => {
  const bucket = 'stamps';
  const col = collectionChannel(bucket, 'c');
  const c = await client();
  await c.subscribe(col);

  const ts = nextTimestamp();
  // A plural delete: several impacted objects, none named in the payload.
  const objects = [
    { new: { id: 'a', last_modified: ts + 5, deleted: true }, old: { id: 'a', last_modified: ts - 10 } },
    { new: { id: 'b', last_modified: ts + 9, deleted: true }, old: { id: 'b', last_modified: ts - 9 } },
    { new: { id: 'c', last_modified: ts + 7, deleted: true }, old: { id: 'c', last_modified: ts - 8 } },
  ];
  const plural = recordEvent({ bucket, collection: 'c', action: 'delete', timestamp: ts, objects });
  delete plural.payload.record_id;
  plural.payload.uri = `/buckets/${bucket}/collections/c/records`;
  // No impacted objects at all: payload.timestamp.
  const bare = recordEvent({ bucket, collection: 'c', timestamp: ts + 20, objects: [] });
  // Only old objects: no new.last_modified, so payload.timestamp.
  const onlyOld = recordEvent({
    bucket, collection: 'c', timestamp: ts + 30, objects: [{ old: { id: 'z', last_modified: ts + 1 } }],
  });
  await publishOk(server.url, { events: [plural, bare, onlyOld] });
  for (let i = 0; i < 40; i++) nextTimestamp(); // later events get later timestamps

  const frames = await c.events(col, 3);
  assert.deepEqual(frames.map((f) => f.offset), [1, 2, 3]);
  assert.equal(frames[0].timestamp, ts + 9);
  assert.deepEqual(frames[0].impacted_objects, objects);
  assert.equal(frames[1].timestamp, ts + 20);
  assert.deepEqual(frames[1].impacted_objects, []);
  assert.equal(frames[2].timestamp, ts + 30);
});

test('collection events go to their collection channel and the bucket channel', async () => {
  const bucket = 'colev';
  const c = await client();
  await c.subscribe(collectionChannel(bucket, 'made'));
  await c.subscribe(bucketChannel(bucket));
  const event = collectionEvent({ bucket, collection: 'made' });
  const published = await publishOk(server.url, event);
  assert.deepEqual(published.map((p) => p.channel).sort(),
    [collectionChannel(bucket, 'made'), bucketChannel(bucket), '/buckets'].sort());
  const [onCollection] = await c.events(collectionChannel(bucket, 'made'), 1);
  assert.equal(onCollection.payload.resource_name, 'collection');
  const [onBucket] = await c.events(bucketChannel(bucket), 1);
  assert.deepEqual(onBucket.payload, event.payload);
});

test('a plural collection delete is split by target, each part with its own timestamp', async () => {
  const bucket = 'split';
  const c = await client();
  const one = collectionChannel(bucket, 'one');
  const two = collectionChannel(bucket, 'two');
  for (const channel of [one, two, bucketChannel(bucket)]) await c.subscribe(channel);
  const ts = nextTimestamp();
  for (let i = 0; i < 10; i++) nextTimestamp();
  const objects = [
    { new: { id: 'one', last_modified: ts + 3, deleted: true }, old: { id: 'one', last_modified: ts - 5 } },
    { new: { id: 'two', last_modified: ts + 6, deleted: true }, old: { id: 'two', last_modified: ts - 4 } },
  ];
  // DELETE /buckets/split/collections: no collection_id in the payload.
  const event = {
    payload: { timestamp: ts, action: 'delete', uri: `/buckets/${bucket}/collections`, user_id: 'account:alice',
      resource_name: 'collection', bucket_id: bucket },
    impacted_objects: objects,
  };
  const published = await publishOk(server.url, event);
  assert.deepEqual(published.map((p) => p.channel).sort(), [one, two, bucketChannel(bucket), '/buckets'].sort());
  const [onOne] = await c.events(one, 1);
  assert.deepEqual(onOne.impacted_objects, [objects[0]]);
  assert.equal(onOne.timestamp, ts + 3);
  const [onTwo] = await c.events(two, 1);
  assert.deepEqual(onTwo.impacted_objects, [objects[1]]);
  assert.equal(onTwo.timestamp, ts + 6);
  const [onBucket] = await c.events(bucketChannel(bucket), 1);
  assert.deepEqual(onBucket.impacted_objects, objects);
  assert.equal(onBucket.timestamp, ts + 6);
  assert.deepEqual(onBucket.payload, event.payload);
});

test('a bucket created by POST is mapped from its impacted object', async () => {
  const c = await client();
  await c.subscribe(bucketChannel('posted'));
  const ts = nextTimestamp();
  const event = {
    payload: { timestamp: ts, action: 'create', uri: '/buckets', user_id: 'account:alice', resource_name: 'bucket' },
    impacted_objects: [{ new: { id: 'posted', last_modified: ts } }],
  };
  const published = await publishOk(server.url, event);
  assert.deepEqual(published.map((p) => p.channel).sort(), [bucketChannel('posted'), '/buckets'].sort());
  const [frame] = await c.events(bucketChannel('posted'), 1);
  assert.deepEqual(frame.payload, event.payload);
});

test('group events go to the bucket channel; other resources to the firehose only', async () => {
  const ts = nextTimestamp();
  const group = {
    payload: { timestamp: ts, action: 'update', uri: '/buckets/grp/groups/editors', user_id: 'account:alice',
      resource_name: 'group', bucket_id: 'grp', group_id: 'editors' },
    impacted_objects: [{ new: { id: 'editors', last_modified: ts, members: ['a'] }, old: { id: 'editors', last_modified: ts - 1 } }],
  };
  const published = await publishOk(server.url, group);
  assert.deepEqual(published.map((p) => p.channel).sort(), [bucketChannel('grp'), '/buckets'].sort());

  const c = await client();
  await c.subscribe('/buckets');
  const ts2 = nextTimestamp();
  const plugin = {
    payload: { timestamp: ts2, action: 'create', uri: '/buckets/grp/history/h1', user_id: 'account:alice',
      resource_name: 'history', bucket_id: 'grp' },
    impacted_objects: [{ new: { id: 'h1', last_modified: ts2 } }],
  };
  const pluginPublished = await publishOk(server.url, plugin);
  assert.deepEqual(pluginPublished.map((p) => p.channel), ['/buckets']);
  const [frame] = await c.events('/buckets', 1);
  assert.equal(frame.payload.resource_name, 'history');
});

test('POST answers the published list, one entry per channel part', async () => {
  const bucket = 'plist';
  const events = [recordEvent({ bucket, collection: 'a' }), recordEvent({ bucket, collection: 'b' }),
    recordEvent({ bucket, collection: 'a' })];
  const res = await publish(server.url, { events });
  assert.equal(res.status, 202);
  assert.deepEqual(Object.keys(res.body), ['published']);
  const published = res.body.published;
  assert.equal(published.length, 9, JSON.stringify(published));
  const of = (channel) => published.filter((p) => p.channel === channel).map((p) => p.offset);
  assert.deepEqual(of(collectionChannel(bucket, 'a')), [1, 2]);
  assert.deepEqual(of(collectionChannel(bucket, 'b')), [1]);
  assert.deepEqual(of(bucketChannel(bucket)), [1, 2, 3]);
  const firehose = of('/buckets');
  assert.equal(firehose.length, 3);
  assert.deepEqual(firehose, [firehose[0], firehose[0] + 1, firehose[0] + 2]);
});

test('an events list is delivered in order', async () => {
  const bucket = 'ordered';
  const col = collectionChannel(bucket, 'c');
  const c = await client();
  await c.subscribe(col);
  await c.subscribe(bucketChannel(bucket));
  // Timestamps deliberately not increasing: Kinto orders a batch by first appearance.
  const base = nextTimestamp();
  for (let i = 0; i < 30; i++) nextTimestamp();
  const stamps = [base + 20, base + 5, base + 10, base + 1, base + 15];
  const events = stamps.map((ts, i) => recordEvent({ bucket, collection: 'c', id: `o${i}`, timestamp: ts }));
  await publishOk(server.url, { events });
  const frames = await c.events(col, 5);
  assert.deepEqual(frames.map((f) => f.offset), [1, 2, 3, 4, 5]);
  assert.deepEqual(frames.map((f) => f.payload.record_id), ['o0', 'o1', 'o2', 'o3', 'o4']);
  assert.deepEqual(frames.map((f) => f.timestamp), stamps);
  const onBucket = await c.events(bucketChannel(bucket), 5);
  assert.deepEqual(onBucket.map((f) => f.payload.record_id), ['o0', 'o1', 'o2', 'o3', 'o4']);
});

test('unsubscribe stops delivery on that channel only', async () => {
  const bucket = 'unsub';
  const col = collectionChannel(bucket, 'c');
  const bkt = bucketChannel(bucket);
  const c = await client();
  await c.subscribe(col);
  await c.subscribe(bkt);
  await publishOk(server.url, recordEvent({ bucket, collection: 'c' }));
  await c.events(col, 1);
  await c.events(bkt, 1);

  const answer = await c.unsubscribe(col);
  assert.deepEqual(answer, { type: 'unsubscribed', id: answer.id, channel: col });

  await publishOk(server.url, recordEvent({ bucket, collection: 'c' }));
  // The bucket part follows the collection part of the same event: once it is here, a
  // collection event would be too.
  const [onBucket] = await c.events(bkt, 1);
  assert.equal(onBucket.offset, 2);
  const stray = await c.drain((f) => f.channel === col, 200);
  assert.deepEqual(stray, [], 'no event after unsubscribed');

  // The channel can be subscribed again.
  const again = await c.subscribe(col);
  assert.equal(again.type, 'subscribed');
  assert.equal(again.offset, 2);
});

test('unsubscribing from a channel not held answers not_found', async () => {
  const c = await client();
  const answer = await c.request({ type: 'unsubscribe', channel: collectionChannel('never', 'held') });
  assert.equal(answer.type, 'error');
  assert.equal(answer.code, 'not_found');
  assert.equal(typeof answer.message, 'string');
  // The connection stays usable.
  assert.equal((await c.request({ type: 'ping' })).type, 'pong');
});

test('ping answers pong with the id', async () => {
  const c = await client();
  c.send({ type: 'ping', id: 'p-42' });
  const pong = await c.next('pong');
  assert.deepEqual(pong, { type: 'pong', id: 'p-42' });
});

test('a bucket delete is delivered on the collection channels of that bucket', async () => {
  const bucket = 'doomed';
  const watched = collectionChannel(bucket, 'watched');       // subscribers, no history
  const withHistory = collectionChannel(bucket, 'stored');     // history, no subscribers
  await publishOk(server.url, recordEvent({ bucket, collection: 'stored' }));
  const c = await client();
  await c.subscribe(watched);
  const event = bucketEvent({ bucket, action: 'delete' });
  const published = await publishOk(server.url, event);
  const channels = published.map((p) => p.channel);
  for (const channel of [bucketChannel(bucket), watched, withHistory, '/buckets'])
    assert.ok(channels.includes(channel), `${channel} in ${JSON.stringify(channels)}`);
  assert.ok(!channels.includes(collectionChannel('other', 'watched')));

  const [frame] = await c.events(watched, 1);
  assert.equal(frame.offset, 1);
  assert.equal(frame.payload.resource_name, 'bucket');
  assert.equal(frame.payload.action, 'delete');
  assert.equal(frame.payload.uri, `/buckets/${bucket}`);
  assert.deepEqual(frame.impacted_objects, event.impacted_objects);
  assert.equal(offsetOf(published, withHistory), 2);
});

test('a retried POST answers the same offsets and delivers nothing new', async () => {
  const bucket = 'retry';
  const col = collectionChannel(bucket, 'c');
  const c = await client();
  await c.subscribe(col);
  await c.subscribe(bucketChannel(bucket));
  const body = { events: [recordEvent({ bucket, collection: 'c' }), recordEvent({ bucket, collection: 'c' })] };
  const first = await publishOk(server.url, body);
  const second = await publishOk(server.url, body);
  assert.deepEqual(second, first);
  // The same single event again, alone.
  const third = await publishOk(server.url, body.events[1]);
  assert.deepEqual(third, first.slice(3));

  await c.events(col, 2);
  await c.events(bucketChannel(bucket), 2);

  // A request mixing a known and a new event stores only the new one.
  const fresh = recordEvent({ bucket, collection: 'c' });
  const mixed = await publishOk(server.url, { events: [body.events[0], fresh] });
  assert.deepEqual(mixed.slice(0, 3), first.slice(0, 3));
  assert.equal(offsetOf(mixed.slice(3), col), 3);
  const [next] = await c.events(col, 1);
  assert.equal(next.offset, 3);
  assert.equal(next.payload.record_id, fresh.payload.record_id);
  await c.events(bucketChannel(bucket), 1);
  const extra = await c.drain((f) => f.type === 'event', 200);
  assert.deepEqual(extra, [], 'duplicates are not delivered');
  const history = await getJSON(server.url, `/v1/history?channel=${encodeURIComponent(col)}`);
  assert.equal(history.body.offset, 3);
  assert.equal(history.body.events.length, 3);
});

test('subscribers on two connections both receive each event once', async () => {
  const bucket = 'fan';
  const col = collectionChannel(bucket, 'c');
  const a = await client();
  const b = await client();
  await a.subscribe(col);
  await b.subscribe(col);
  await publishOk(server.url, { events: [recordEvent({ bucket, collection: 'c' }), recordEvent({ bucket, collection: 'c' })] });
  for (const c of [a, b]) {
    const frames = await c.events(col, 2);
    assert.deepEqual(frames.map((f) => f.offset), [1, 2]);
  }
  assert.deepEqual(await a.drain((f) => f.type === 'event', 150), []);
});
