'use strict';
// PROTOCOL.md section 3, "Positions and replay": resuming with `since`.

const { test, describe, before, after } = require('node:test');
const assert = require('node:assert/strict');
const {
  startServer, connect, publishOk, getJSON, recordEvent, collectionChannel, bucketChannel, nextTimestamp,
  withTimeout, request, delay,
} = require('./support/server');
const { parse, sample } = require('./support/prometheus');

// Publishes `count` record events to one collection, `perRequest` per POST; returns the events.
async function publishMany(url, { bucket, collection, count, perRequest = 100, fields }) {
  const all = [];
  for (let done = 0; done < count; done += perRequest) {
    const events = [];
    for (let i = done; i < Math.min(count, done + perRequest); i++)
      events.push(recordEvent({ bucket, collection, id: `e${i}`, fields }));
    await publishOk(url, { events });
    all.push(...events);
  }
  return all;
}

function offsets(frames) {
  return frames.map((f) => f.offset);
}

function range(from, to) {
  const out = [];
  for (let i = from; i <= to; i++) out.push(i);
  return out;
}

describe('with default limits', () => {
  let server;
  let epoch;
  const clients = [];
  const client = async () => {
    const c = await connect(server.wsUrl);
    clients.push(c);
    return c;
  };

  before(async () => {
    server = await startServer(['--shards', '2']);
    epoch = (await getJSON(server.url, '/v1/')).body.epoch;
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await server?.stop();
  });

  test('resume after a disconnect replays exactly the missed events, then goes live', async () => {
    const col = collectionChannel('resume', 'c');
    const first = await client();
    const sub = await first.subscribe(col);
    assert.equal(sub.offset, 0);
    const seen = await publishMany(server.url, { bucket: 'resume', collection: 'c', count: 3, perRequest: 1 });
    const live = await first.events(col, 3);
    assert.deepEqual(offsets(live), [1, 2, 3]);
    await first.close();

    const missed = await publishMany(server.url, { bucket: 'resume', collection: 'c', count: 4, perRequest: 2 });
    const second = await client();
    const resumed = await second.subscribe(col, { epoch, offset: 3 });
    assert.equal(resumed.type, 'subscribed');
    assert.equal(resumed.epoch, epoch);
    assert.equal(resumed.offset, 7);
    assert.equal(resumed.recovered, true);
    const replay = await second.events(col, 4);
    assert.deepEqual(offsets(replay), [4, 5, 6, 7]);
    assert.deepEqual(replay.map((f) => f.payload), missed.map((e) => e.payload));
    assert.deepEqual(replay.map((f) => f.impacted_objects), missed.map((e) => e.impacted_objects));
    assert.ok(seen.length === 3);

    await publishOk(server.url, recordEvent({ bucket: 'resume', collection: 'c' }));
    const [next] = await second.events(col, 1);
    assert.equal(next.offset, 8);
    assert.deepEqual(await second.drain((f) => f.type === 'event', 200), [], 'no duplicate');
  });

  test('since at the head: recovered, nothing replayed', async () => {
    const col = collectionChannel('head', 'c');
    await publishMany(server.url, { bucket: 'head', collection: 'c', count: 3 });
    const c = await client();
    const sub = await c.subscribe(col, { epoch, offset: 3 });
    assert.equal(sub.offset, 3);
    assert.equal(sub.recovered, true);
    await publishOk(server.url, recordEvent({ bucket: 'head', collection: 'c' }));
    const [next] = await c.events(col, 1);
    assert.equal(next.offset, 4);
  });

  test('since offset 0 replays the whole history', async () => {
    const bkt = bucketChannel('whole');
    await publishMany(server.url, { bucket: 'whole', collection: 'c', count: 5, perRequest: 5 });
    const c = await client();
    const sub = await c.subscribe(bkt, { epoch, offset: 0 });
    assert.equal(sub.recovered, true);
    assert.equal(sub.offset, 5);
    assert.deepEqual(offsets(await c.events(bkt, 5)), [1, 2, 3, 4, 5]);
  });

  test('another epoch: recovered false, offset at the head, nothing replayed, then live', async () => {
    const col = collectionChannel('epochs', 'c');
    await publishMany(server.url, { bucket: 'epochs', collection: 'c', count: 4 });
    const other = epoch === '00000000' ? '11111111' : '00000000';
    const c = await client();
    const sub = await c.subscribe(col, { epoch: other, offset: 1 });
    assert.equal(sub.type, 'subscribed');
    assert.equal(sub.epoch, epoch);
    assert.equal(sub.offset, 4);
    assert.equal(sub.recovered, false);
    assert.deepEqual(await c.drain((f) => f.type === 'event', 200), []);
    await publishOk(server.url, recordEvent({ bucket: 'epochs', collection: 'c' }));
    const [next] = await c.events(col, 1);
    assert.equal(next.offset, 5);
  });

  test('an offset beyond the head: recovered false, nothing replayed', async () => {
    const col = collectionChannel('beyond', 'c');
    await publishMany(server.url, { bucket: 'beyond', collection: 'c', count: 2 });
    const c = await client();
    const sub = await c.subscribe(col, { epoch, offset: 9 });
    assert.equal(sub.recovered, false);
    assert.equal(sub.offset, 2);
    assert.deepEqual(await c.drain((f) => f.type === 'event', 200), []);
    await publishOk(server.url, recordEvent({ bucket: 'beyond', collection: 'c' }));
    assert.equal((await c.events(col, 1))[0].offset, 3);
  });

  test('since.timestamp replays from the first event whose timestamp is greater', async () => {
    const col = collectionChannel('stamp', 'c');
    // Kinto orders a batch's events by first appearance: timestamps need not increase.
    const base = nextTimestamp();
    for (let i = 0; i < 100; i++) nextTimestamp();
    const stamps = [base + 10, base + 30, base + 20, base + 40];
    await publishOk(server.url, {
      events: stamps.map((ts, i) => recordEvent({ bucket: 'stamp', collection: 'c', id: `s${i}`, timestamp: ts })),
    });

    const cases = [
      { since: base + 15, expect: [2, 3, 4] },    // 30 is the first > T; 20 follows it
      { since: base + 30, expect: [4] },
      { since: base + 10, expect: [2, 3, 4] },
      { since: base + 5, expect: [1, 2, 3, 4] },  // older than everything: never trimmed, recovered
      { since: base + 40, expect: [] },
      { since: base + 99, expect: [] },
    ];
    for (const { since, expect } of cases) {
      const c = await client();
      const sub = await c.subscribe(col, { timestamp: since });
      assert.equal(sub.type, 'subscribed', JSON.stringify(sub));
      assert.equal(sub.recovered, true, `since ${since - base}`);
      assert.equal(sub.offset, 4);
      const replay = await c.events(col, expect.length);
      assert.deepEqual(offsets(replay), expect, `since ${since - base}`);
      assert.deepEqual(await c.drain((f) => f.type === 'event', 100), [], `since ${since - base}`);
      await c.close();
    }
  });

  test('since.timestamp on a channel that has no history yet', async () => {
    const c = await client();
    const sub = await c.subscribe(collectionChannel('stamp', 'empty'), { timestamp: 12 });
    assert.equal(sub.type, 'subscribed');
    assert.equal(sub.offset, 0);
    assert.equal(sub.recovered, true);
  });

  test('since.timestamp on a bucket or firehose channel is a bad_request', async () => {
    const c = await client();
    for (const channel of [bucketChannel('stamp'), '/buckets']) {
      const answer = await c.subscribe(channel, { timestamp: 1 });
      assert.equal(answer.type, 'error', channel);
      assert.equal(answer.code, 'bad_request', channel);
    }
    // Nothing changed: these channels can still be subscribed.
    assert.equal((await c.subscribe(bucketChannel('stamp'))).type, 'subscribed');
  });

  test('bad since values are bad_request', async () => {
    const c = await client();
    const col = collectionChannel('badsince', 'c');
    for (const since of [5, 'x', { offset: 1 }, { epoch, offset: -1 }, { epoch, offset: 'one' }, { epoch: 7, offset: 1 },
      { timestamp: 'now' }, { timestamp: -5 }]) {
      const answer = await c.subscribe(col, since);
      assert.equal(answer.type, 'error', JSON.stringify(since));
      assert.equal(answer.code, 'bad_request', JSON.stringify(since));
    }
    assert.equal((await c.subscribe(col)).type, 'subscribed');
  });

  test('subscribing twice to the same channel is a bad_request; the first subscription stays', async () => {
    const col = collectionChannel('twice', 'c');
    const c = await client();
    assert.equal((await c.subscribe(col)).type, 'subscribed');
    const again = await c.subscribe(col, { epoch, offset: 0 });
    assert.equal(again.type, 'error');
    assert.equal(again.code, 'bad_request');
    await publishOk(server.url, recordEvent({ bucket: 'twice', collection: 'c' }));
    const frames = await c.events(col, 1);
    assert.equal(frames[0].offset, 1);
    assert.deepEqual(await c.drain((f) => f.type === 'event', 200), [], 'delivered once');
  });
});

describe('with --history-size 5', () => {
  let server;
  let epoch;
  before(async () => {
    server = await startServer(['--history-size', '5', '--shards', '1']);
    epoch = (await getJSON(server.url, '/v1/')).body.epoch;
  });
  after(() => server?.stop());

  test('an offset older than the history: recovered false', async () => {
    const col = collectionChannel('short', 'c');
    await publishMany(server.url, { bucket: 'short', collection: 'c', count: 10, perRequest: 3 });
    const c = await connect(server.wsUrl);
    try {
      const old = await c.subscribe(col, { epoch, offset: 4 });     // needs 5..10, holds 6..10
      assert.equal(old.recovered, false);
      assert.equal(old.offset, 10);
      assert.deepEqual(await c.drain((f) => f.type === 'event', 200), []);
      await c.unsubscribe(col);

      const held = await c.subscribe(col, { epoch, offset: 5 });    // needs 6..10
      assert.equal(held.recovered, true);
      assert.equal(held.offset, 10);
      assert.deepEqual(offsets(await c.events(col, 5)), [6, 7, 8, 9, 10]);
    } finally {
      await c.close();
    }
  });

  test('since.timestamp on a trimmed history', async () => {
    const col = collectionChannel('trimmed', 'c');
    const events = await publishMany(server.url, { bucket: 'trimmed', collection: 'c', count: 10, perRequest: 10 });
    const stamps = events.map((e) => e.payload.timestamp);
    const c = await connect(server.wsUrl);
    try {
      // Older than every event still held: the events between may be lost.
      const lost = await c.subscribe(col, { timestamp: stamps[2] });
      assert.equal(lost.recovered, false);
      assert.equal(lost.offset, 10);
      assert.deepEqual(await c.drain((f) => f.type === 'event', 200), []);
      await c.unsubscribe(col);

      // The history still holds the event with timestamp T (offset 6): replay 7..10.
      const kept = await c.subscribe(col, { timestamp: stamps[5] });
      assert.equal(kept.recovered, true);
      assert.deepEqual(offsets(await c.events(col, 4)), [7, 8, 9, 10]);
    } finally {
      await c.close();
    }
  });

  test('GET /v1/history follows the same limits', async () => {
    const col = collectionChannel('short', 'c');
    const lost = await getJSON(server.url, `/v1/history?channel=${encodeURIComponent(col)}&since=3`);
    assert.equal(lost.status, 200);
    assert.equal(lost.body.recovered, false);
    assert.deepEqual(lost.body.events, []);
    const held = await getJSON(server.url, `/v1/history?channel=${encodeURIComponent(col)}&since=5`);
    assert.equal(held.body.recovered, true);
    assert.deepEqual(offsets(held.body.events), [6, 7, 8, 9, 10]);
  });
});

describe('with --max-replay 3', () => {
  let server;
  let epoch;
  before(async () => {
    server = await startServer(['--max-replay', '3', '--shards', '1']);
    epoch = (await getJSON(server.url, '/v1/')).body.epoch;
  });
  after(() => server?.stop());

  test('more than --max-replay events: recovered false; at most: replayed', async () => {
    const col = collectionChannel('many', 'c');
    await publishMany(server.url, { bucket: 'many', collection: 'c', count: 6 });
    const c = await connect(server.wsUrl);
    try {
      const tooMany = await c.subscribe(col, { epoch, offset: 2 });   // 4 events
      assert.equal(tooMany.recovered, false);
      assert.equal(tooMany.offset, 6);
      assert.deepEqual(await c.drain((f) => f.type === 'event', 200), []);
      await c.unsubscribe(col);

      const enough = await c.subscribe(col, { epoch, offset: 3 });    // 3 events
      assert.equal(enough.recovered, true);
      assert.deepEqual(offsets(await c.events(col, 3)), [4, 5, 6]);
    } finally {
      await c.close();
    }
  });
});

describe('long replay with a small send queue', () => {
  let server;
  let epoch;
  before(async () => {
    server = await startServer(['--history-size', '5000', '--send-queue-bytes', '16384', '--shards', '2']);
    epoch = (await getJSON(server.url, '/v1/')).body.epoch;
  });
  after(() => server?.stop());

  test('3000 events replay to a reading client without a 4008 close, then it goes live', async () => {
    const col = collectionChannel('long', 'c');
    const total = 3000;
    const liveExtra = 200;
    await publishMany(server.url, { bucket: 'long', collection: 'c', count: total, perRequest: 250,
      fields: { body: 'x'.repeat(200) } });

    const c = await connect(server.wsUrl);
    try {
      const got = [];
      let resolveAll;
      const all = new Promise((resolve) => { resolveAll = resolve; });
      c.tap((f) => {
        if (f.type !== 'event') return false;
        got.push(f.offset);
        if (got.length === total + liveExtra) resolveAll();
        return true;
      });
      const sub = await c.subscribe(col, { epoch, offset: 0 });
      assert.equal(sub.recovered, true);
      assert.equal(sub.offset, total);
      // Live events published while the replay runs follow it without a hole.
      await publishMany(server.url, { bucket: 'long', collection: 'c', count: liveExtra, perRequest: 20 });
      await withTimeout(Promise.race([all, c.closed.then((i) => { throw new Error(`closed: ${i.code} ${i.reason}`); })]),
        30_000, `replay of ${total + liveExtra} events (got ${got.length})`);
      assert.deepEqual(got, range(1, total + liveExtra));
      assert.equal(c.closeInfo, null);
    } finally {
      await c.close();
    }
  });
});

describe('replays to a client that stops reading', () => {
  // --send-queue-bytes 65536: pages are queued down to a low-water mark of 16 KiB, and what a
  // connection keeps read ahead (the rest of its pages) is bounded by the same 16 KiB.
  const LOW_WATER = 65536 / 4;
  let server;
  let epoch;
  before(async () => {
    server = await startServer(['--send-queue-bytes', '65536', '--socket-send-buffer', '4096', '--shards', '1']);
    epoch = (await getJSON(server.url, '/v1/')).body.epoch;
  });
  after(() => server?.stop());

  async function gauges() {
    const m = parse((await request(server.url, '/metrics')).text);
    return { queued: sample(m, 'kinto_push_bytes_queued'), readAhead: sample(m, 'kinto_push_replay_read_ahead_bytes') };
  }

  test('20 channels replaying to a stalled client: read-ahead stays within the low-water mark, then all arrive in order', async () => {
    const CHANNELS = 20;
    const PER_CHANNEL = 300;
    // 64-event pages of about 1.2 KiB frames: each page is 4 to 5 times the low-water mark.
    for (let k = 0; k < CHANNELS; k++) {
      await publishMany(server.url, { bucket: 'stall', collection: `c${k}`, count: PER_CHANNEL, perRequest: 150,
        fields: { body: 'x'.repeat(1024) } });
    }
    const c = await connect(server.wsUrl);
    try {
      const got = new Map();
      c.tap((f) => {
        if (f.type !== 'event') return false;
        if (!got.has(f.channel)) got.set(f.channel, []);
        got.get(f.channel).push(f.offset);
        return true;
      });
      const answers = [];
      for (let k = 0; k < CHANNELS; k++) answers.push(c.subscribe(collectionChannel('stall', `c${k}`), { epoch, offset: 0 }, 30_000));
      c.ws.pause();   // reads nothing more: the kernel buffers fill, then the server's queue

      // Stalled: the queue no longer moves (bounded wait).
      let last = await gauges();
      const deadline = Date.now() + 10_000;
      for (;;) {
        await delay(200);
        const now = await gauges();
        if ((now.queued > 0 && now.queued === last.queued && now.readAhead === last.readAhead) || Date.now() > deadline) {
          last = now;
          break;
        }
        last = now;
      }
      assert.ok(last.queued >= LOW_WATER, `the queue filled to its low-water mark (${last.queued} bytes queued)`);
      assert.ok(last.readAhead > 0, 'the rest of a page is kept, not read again');
      assert.ok(last.readAhead <= LOW_WATER, `read ahead ${last.readAhead} bytes, at most ${LOW_WATER}`);
      const delivered = [...got.values()].reduce((n, offsets) => n + offsets.length, 0);
      assert.ok(delivered < CHANNELS * PER_CHANNEL, `the replay stalled part way (${delivered} events read)`);

      c.ws.resume();
      for (const answer of answers) assert.equal((await answer).recovered, true);
      const deadlineAll = Date.now() + 30_000;
      while ([...got.values()].reduce((n, offsets) => n + offsets.length, 0) < CHANNELS * PER_CHANNEL) {
        assert.ok(Date.now() < deadlineAll, 'every replayed event arrives within 30 s');
        assert.equal(c.closeInfo, null);
        await delay(50);
      }
      for (let k = 0; k < CHANNELS; k++)
        assert.deepEqual(got.get(collectionChannel('stall', `c${k}`)), range(1, PER_CHANNEL), `c${k} in order, no hole`);
      const drained = await gauges();
      assert.equal(drained.readAhead, 0, 'nothing left read ahead once the replays are done');
    } finally {
      await c.close();
    }
  });
});
