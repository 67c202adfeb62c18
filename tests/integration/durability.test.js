'use strict';
// The SQLite store across restarts and crashes: history, epoch, offsets and idempotency
// survive; every event that got a 202 is there after a SIGKILL; nothing is half-stored.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const {
  startServer, connect, publish, publishOk, getJSON, recordEvent, collectionChannel, offsetOf, delay, withTimeout,
} = require('./support/server');

function tempStore() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kinto-push-durability-'));
  return { dir, url: `sqlite:${path.join(dir, 'history.sqlite3')}`, file: path.join(dir, 'history.sqlite3') };
}

// Every stored event of `channel`, paging through GET /v1/history.
async function wholeHistory(url, channel) {
  const events = [];
  let since = 0;
  for (let page = 0; page < 1000; page++) {
    const res = await getJSON(url, `/v1/history?channel=${encodeURIComponent(channel)}&since=${since}&limit=1000`);
    assert.equal(res.status, 200, res.text);
    events.push(...res.body.events);
    if (!res.body.more) return { events, head: res.body.offset, epoch: res.body.epoch };
    since = res.body.events[res.body.events.length - 1].offset;
  }
  throw new Error('history paging did not end');
}

test('restart keeps history, epoch and offsets; a resume across the restart is exact', async () => {
  const store = tempStore();
  const channel = collectionChannel('dur', 'restart');
  let server = await startServer(['--store', store.url]);
  const epoch = (await getJSON(server.url, '/v1/')).body.epoch;
  assert.match(epoch, /^[0-9a-f]{8}$/);
  for (let i = 0; i < 5; i++) await publishOk(server.url, recordEvent({ bucket: 'dur', collection: 'restart' }));
  const stopped = await server.stop();
  assert.equal(stopped.code, 0);

  server = await startServer(['--store', store.url]);
  try {
    const info = (await getJSON(server.url, '/v1/')).body;
    assert.equal(info.store, 'sqlite');
    assert.equal(info.epoch, epoch, 'the epoch survives a restart');
    const published = await publishOk(server.url, recordEvent({ bucket: 'dur', collection: 'restart' }));
    assert.equal(offsetOf(published, channel), 6, 'offsets continue after a restart');

    const client = await connect(server.wsUrl);
    const subscribed = await client.subscribe(channel, { epoch, offset: 2 });
    assert.equal(subscribed.recovered, true);
    assert.equal(subscribed.offset, 6);
    const replay = await client.events(channel, 4);
    assert.deepEqual(replay.map((e) => e.offset), [3, 4, 5, 6]);
    await publishOk(server.url, recordEvent({ bucket: 'dur', collection: 'restart' }));
    const live = await client.events(channel, 1);
    assert.equal(live[0].offset, 7);
    await client.close();
  } finally {
    await server.stop();
    fs.rmSync(store.dir, { recursive: true, force: true });
  }
});

test('an idempotent retry stores nothing, before and after a restart', async () => {
  const store = tempStore();
  const channel = collectionChannel('dur', 'retry');
  const event = recordEvent({ bucket: 'dur', collection: 'retry' });
  let server = await startServer(['--store', store.url]);
  const first = await publishOk(server.url, event);
  assert.deepEqual(await publishOk(server.url, event), first, 'a retry answers the first offsets');
  await server.stop();
  server = await startServer(['--store', store.url]);
  try {
    assert.deepEqual(await publishOk(server.url, event), first, 'also after a restart');
    const other = recordEvent({ bucket: 'dur', collection: 'retry' });
    const mixed = await publishOk(server.url, { events: [event, other] });
    assert.equal(mixed[0].offset, offsetOf(first, channel), 'the known event keeps its offset');
    assert.equal(offsetOf(mixed, channel), offsetOf(first, channel) + 1, 'only the new event is stored');
    const { events, head } = await wholeHistory(server.url, channel);
    assert.equal(head, 2);
    assert.equal(events.length, 2);
  } finally {
    await server.stop();
    fs.rmSync(store.dir, { recursive: true, force: true });
  }
});

test('crash: after SIGKILL every acknowledged event is stored, contiguous, and nothing is half-stored', async (t) => {
  const store = tempStore();
  const channels = ['c0', 'c1', 'c2'].map((c) => collectionChannel('crash', c));
  const acked = new Map();       // transaction id -> published
  const attempted = new Map();   // transaction id -> record ids of its events
  let txn = 0;
  for (let round = 0; round < 3; round++) {
    const server = await startServer(['--store', store.url, '--durability', 'full', '--history-size', '100000']);
    let stop = false;
    // Transactions of 3 events on 3 collections, 8 in flight, bounded in count.
    const publisher = async () => {
      for (let n = 0; n < 400 && !stop; n++) {
        const id = `t${txn++}`;
        const events = channels.map((_, i) => recordEvent({ bucket: 'crash', collection: `c${i}`, id: `${id}-${i}`, action: 'create' }));
        attempted.set(id, events.map((e) => e.payload.record_id));
        try {
          const res = await publish(server.url, { events });
          if (res.status === 202) acked.set(id, res.body.published);
        } catch { return; }   // the server died under us
      }
    };
    const workers = Array.from({ length: 8 }, publisher);
    await delay(150 + Math.floor(Math.random() * 600));
    stop = true;
    process.kill(server.pid, 'SIGKILL');
    await withTimeout(server.exited, 5_000, 'exit after SIGKILL');
    await Promise.all(workers);
  }
  assert.ok(acked.size > 0, 'some transactions were acknowledged before the crashes');
  t.diagnostic(`${attempted.size} transactions attempted, ${acked.size} acknowledged over 3 crashes`);

  const server = await startServer(['--store', store.url, '--history-size', '100000']);
  try {
    const present = new Map();   // record id -> offset in its channel
    let unacknowledgedButStored = 0;
    for (const channel of channels) {
      const { events, head } = await wholeHistory(server.url, channel);
      assert.deepEqual(events.map((e) => e.offset), Array.from({ length: head }, (_, i) => i + 1),
        `${channel}: offsets contiguous from 1`);
      for (const e of events) present.set(e.impacted_objects[0].new.id, e.offset);
    }
    for (const [id, published] of acked) {
      published.filter((p) => p.channel.startsWith('/buckets/crash/collections/')).forEach((p, i) => {
        assert.equal(present.get(`${id}-${i}`), p.offset, `acknowledged ${id}-${i} is stored at its offset`);
      });
    }
    for (const [id, records] of attempted) {
      const stored = records.filter((r) => present.has(r)).length;
      assert.ok(stored === 0 || stored === records.length, `transaction ${id} is whole or absent (${stored}/3)`);
      if (stored && !acked.has(id)) unacknowledgedButStored++;
    }
    t.diagnostic(`${unacknowledgedButStored} unacknowledged transactions were committed whole before the kill`);
  } finally {
    await server.stop();
    fs.rmSync(store.dir, { recursive: true, force: true });
  }
});

test('retention by count and age; a resume outside it is recovered:false', async () => {
  const store = tempStore();
  const channel = collectionChannel('dur', 'retention');
  const server = await startServer(['--store', store.url, '--history-size', '5', '--history-ttl', '2']);
  try {
    const epoch = (await getJSON(server.url, '/v1/')).body.epoch;
    for (let i = 0; i < 8; i++) await publishOk(server.url, recordEvent({ bucket: 'dur', collection: 'retention' }));
    let client = await connect(server.wsUrl);
    const old = await client.subscribe(channel, { epoch, offset: 1 });
    assert.equal(old.recovered, false, 'offset 2 left the history (count)');
    assert.equal(old.offset, 8);
    const kept = await client.subscribe(collectionChannel('dur', 'retention2'), { epoch, offset: 0 });
    assert.equal(kept.recovered, true, 'an empty channel is recovered');
    await client.close();

    client = await connect(server.wsUrl);
    const recent = await client.subscribe(channel, { epoch, offset: 3 });
    assert.equal(recent.recovered, true, 'offsets 4..8 are still held');
    assert.deepEqual((await client.events(channel, 5)).map((e) => e.offset), [4, 5, 6, 7, 8]);
    await client.close();

    // Age: events leave after --history-ttl (2 s) once the trim ran (every second here).
    const deadline = Date.now() + 8_000;
    let history;
    do {
      await delay(250);
      history = (await getJSON(server.url, `/v1/history?channel=${encodeURIComponent(channel)}&since=3`)).body;
    } while (history.recovered && Date.now() < deadline);
    assert.equal(history.recovered, false, 'aged events left the history');
    client = await connect(server.wsUrl);
    const aged = await client.subscribe(channel, { epoch, offset: 3 });
    assert.equal(aged.recovered, false);
    await client.close();
  } finally {
    await server.stop();
    fs.rmSync(store.dir, { recursive: true, force: true });
  }
});

test('start-up refuses a corrupt file, an unusable directory and a file in use, naming the file', async () => {
  const store = tempStore();
  try {
    fs.writeFileSync(store.file, Buffer.alloc(8192, 0x5a));
    await assert.rejects(startServer(['--store', store.url]), (e) => e.message.includes(store.file) &&
      /not a database|corrupt/.test(e.message));

    const blocker = path.join(store.dir, 'plain-file');
    fs.writeFileSync(blocker, 'not a directory');
    const below = path.join(blocker, 'history.sqlite3');
    await assert.rejects(startServer(['--store', `sqlite:${below}`]), (e) => e.message.includes(blocker));

    fs.rmSync(store.file);
    const first = await startServer(['--store', store.url]);
    try {
      await assert.rejects(startServer(['--store', store.url]), (e) => e.message.includes(store.file) &&
        /in use/.test(e.message));
    } finally {
      await first.stop();
    }
  } finally {
    fs.rmSync(store.dir, { recursive: true, force: true });
  }
});
