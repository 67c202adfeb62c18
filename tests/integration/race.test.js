'use strict';
// PROTOCOL.md section 3: "Per channel and connection, events arrive in offset order, with no
// holes and no duplicates", while subscriptions (live, or resuming from `since`) race a
// publisher, with two shards so that fan-out crosses threads.

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const {
  startServer, connect, publishOk, getJSON, recordEvent, collectionChannel, bucketChannel, withTimeout, prng,
} = require('./support/server');

const TOTAL_EVENTS = 1500;
const IN_FLIGHT = 6;
const CLIENTS = 44;
const RESUMERS = 8;          // clients that drop their connection mid-way and resume
const BUCKET = 'race';
const COLLECTIONS = ['c0', 'c1', 'c2'];
const CHANNELS = [...COLLECTIONS.map((c) => collectionChannel(BUCKET, c)), bucketChannel(BUCKET), '/buckets'];


let server;
let epoch;
const opened = [];

before(async () => {
  server = await startServer(['--shards', '2', '--history-size', '5000']);
  epoch = (await getJSON(server.url, '/v1/')).body.epoch;
});

after(async () => {
  await Promise.all(opened.map((c) => c.close()));
  await server?.stop();
});

// One subscriber connection: its subscriptions and every event offset it got, per channel.
class Watcher {
  constructor(name) {
    this.name = name;
    this.got = new Map();        // channel -> offsets, in arrival order (over reconnections)
    this.expectFrom = new Map(); // channel -> the first offset owed to this watcher
    this.targets = null;         // channel -> final offset, set once publishing is over
    this.done = new Promise((resolve) => { this.resolveDone = resolve; });
  }

  async open() {
    // Uncompressed: the npm ws client inflates on Node's thread pool, at most 10 messages at a
    // time for the whole process, and 44 clients replaying 1,500 events would measure that
    // rather than the server (compressed delivery: permessage_deflate.test.js).
    this.client = await connect(server.wsUrl, { timeoutMs: 10_000, wsOptions: { perMessageDeflate: false } });
    opened.push(this.client);
    this.client.tap((f) => {
      if (f.type !== 'event') return false;
      if (!this.got.has(f.channel)) this.got.set(f.channel, []);
      this.got.get(f.channel).push(f.offset);
      this.check();
      return true;
    });
  }

  last(channel) {
    const list = this.got.get(channel);
    return list && list.length ? list[list.length - 1] : undefined;
  }

  async subscribe(channel, since) {
    const answer = await this.client.subscribe(channel, since, 10_000);
    assert.equal(answer.type, 'subscribed', `${this.name} ${channel}: ${JSON.stringify(answer)}`);
    assert.equal(answer.epoch, epoch);
    let from = answer.offset + 1;
    if (since && answer.recovered) from = since.offset + 1;
    if (since) {
      // Every requested event is in the history (5000 per channel): the resume is recovered.
      assert.equal(answer.recovered, true, `${this.name} ${channel} since ${since.offset}: ${JSON.stringify(answer)}`);
    }
    if (!this.expectFrom.has(channel)) this.expectFrom.set(channel, from);
    return answer;
  }

  setTargets(targets) {
    this.targets = targets;
    this.check();
  }

  check() {
    if (!this.targets) return;
    for (const channel of this.expectFrom.keys()) {
      const target = this.targets.get(channel) ?? 0;
      const from = this.expectFrom.get(channel);
      if (from > target) continue;             // subscribed after the last event: owed nothing
      if ((this.last(channel) ?? 0) < target) return;
    }
    this.resolveDone();
  }
}

test(`${CLIENTS} subscribers racing ${TOTAL_EVENTS} published events get contiguous offsets`, async (t) => {
  const random = prng(Number(process.env.RACE_SEED ?? 20240601));
  const known = new Map(CHANNELS.map((c) => [c, 0]));   // highest offset a POST answer gave
  const watchers = [];
  const starting = [];
  const errors = [];

  // Starts watcher i: 1 to 3 channels, each live or resuming from a random known offset.
  function startWatcher(i) {
    const w = new Watcher(`client${i}`);
    watchers.push(w);
    w.ready = subscribeWatcher(w);
    return w.ready;
  }
  async function subscribeWatcher(w) {
    await w.open();
    const count = 1 + Math.floor(random() * 3);
    const pool = [...CHANNELS];
    for (let k = 0; k < count; k++) {
      const channel = pool.splice(Math.floor(random() * pool.length), 1)[0];
      const head = known.get(channel);
      const mode = random();
      if (mode < 0.35) await w.subscribe(channel);
      else await w.subscribe(channel, { epoch, offset: Math.floor(random() * (head + 1)) });
    }
    return w;
  }

  // Drops a watcher's connection and resumes every channel from the last offset it got.
  async function resume(w) {
    await w.ready;
    const channels = [...w.expectFrom.keys()];
    await w.client.close();
    await w.open();
    for (const channel of channels) {
      const last = w.last(channel) ?? (w.expectFrom.get(channel) - 1);
      await w.subscribe(channel, { epoch, offset: last });
    }
  }

  // Client i starts once this many POSTs were answered; a few start before any.
  const startAt = Array.from({ length: CLIENTS }, (_, i) => (i < 4 ? 0 : Math.floor((i / CLIENTS) * TOTAL_EVENTS * 0.95)));
  const resumeAt = Array.from({ length: RESUMERS }, (_, i) => Math.floor(TOTAL_EVENTS * (0.3 + 0.08 * i)));
  let nextClient = 0;
  let nextResume = 0;
  const launch = (answered) => {
    while (nextClient < CLIENTS && startAt[nextClient] <= answered) {
      starting.push(startWatcher(nextClient).catch((e) => errors.push(e)));
      nextClient++;
    }
    while (nextResume < RESUMERS && resumeAt[nextResume] <= answered) {
      const w = watchers[nextResume];
      if (w) starting.push(resume(w).catch((e) => errors.push(e)));
      nextResume++;
    }
  };
  launch(0);
  await Promise.all(starting.splice(0));

  // The publisher: TOTAL_EVENTS single-event POSTs, IN_FLIGHT at a time.
  let sent = 0;
  let answered = 0;
  const started = Date.now();
  async function publisher() {
    while (sent < TOTAL_EVENTS) {
      sent++;
      const collection = COLLECTIONS[Math.floor(random() * COLLECTIONS.length)];
      const published = await publishOk(server.url, recordEvent({ bucket: BUCKET, collection }));
      for (const { channel, offset } of published) if (offset > known.get(channel)) known.set(channel, offset);
      answered++;
      launch(answered);
    }
  }
  await withTimeout(Promise.all(Array.from({ length: IN_FLIGHT }, publisher)), 60_000, 'publishing');
  launch(Infinity);
  await withTimeout(Promise.all(starting), 20_000, 'subscriptions');
  assert.deepEqual(errors, []);
  const publishMs = Date.now() - started;

  // Every offset was given once: the heads are the counts.
  const sum = COLLECTIONS.reduce((n, c) => n + known.get(collectionChannel(BUCKET, c)), 0);
  assert.equal(sum, TOTAL_EVENTS);
  assert.equal(known.get(bucketChannel(BUCKET)), TOTAL_EVENTS);

  for (const w of watchers) w.setTargets(known);
  await withTimeout(Promise.all(watchers.map((w) => w.done)), 30_000,
    'every subscriber reaching the last offsets').catch((e) => {
    const behind = watchers.filter((w) => [...w.expectFrom.keys()].some((c) => (w.last(c) ?? 0) < known.get(c)))
      .map((w) => `${w.name}: ${[...w.expectFrom.keys()].map((c) => `${c}@${w.last(c)}/${known.get(c)}`).join(' ')}`);
    throw new Error(`${e.message}\n${behind.join('\n')}`);
  });

  let checked = 0;
  for (const w of watchers) {
    assert.equal(w.client.closeInfo, null, `${w.name} was closed: ${JSON.stringify(w.client.closeInfo)}`);
    for (const [channel, from] of w.expectFrom) {
      const got = w.got.get(channel) ?? [];
      const to = known.get(channel);
      const expected = [];
      for (let o = from; o <= to; o++) expected.push(o);
      if (got.length !== expected.length || got.some((o, i) => o !== expected[i])) {
        const dupes = got.filter((o, i) => got.indexOf(o) !== i).slice(0, 10);
        const holes = expected.filter((o) => !got.includes(o)).slice(0, 10);
        assert.fail(`${w.name} ${channel}: expected ${from}..${to} (${expected.length}), got ${got.length}; ` +
          `duplicates ${JSON.stringify(dupes)}, holes ${JSON.stringify(holes)}, first ${JSON.stringify(got.slice(0, 5))}`);
      }
      checked += got.length;
    }
  }
  // A short wait: nothing arrives after the last offsets.
  await new Promise((r) => setTimeout(r, 200));
  for (const w of watchers)
    for (const [channel, list] of w.got) assert.equal(list[list.length - 1], known.get(channel));
  assert.ok(checked > TOTAL_EVENTS * 10, `checked ${checked} deliveries`);
  assert.ok(server.alive());
  t.diagnostic(`published ${TOTAL_EVENTS} in ${publishMs} ms; ${checked} deliveries checked`);
});
