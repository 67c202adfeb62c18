'use strict';
// PROTOCOL.md section 7: positions live in the store. A restart or a SIGKILL mid-stream loses
// nothing and repeats at most the request that was in flight; with Redis, exactly one node
// delivers a webhook, and another takes over when it dies.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { startServer, publishOk, request, recordEvent, collectionChannel, delay } = require('./support/server');
const { startReceiver, offsetsOf } = require('./support/webhook_receiver');
const { startRedis } = require('./support/redis');

const fast = ['--webhook-allow-private', '--webhook-backoff-initial-ms', '50', '--webhook-backoff-max', '1'];

async function create(server, body) {
  const res = await request(server.url, '/v1/webhooks', {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
  });
  assert.equal(res.status, 201, res.text);
  return res.body;
}

// Every offset 1..n received at least once, in order of first arrival; how many repeats.
function check(receiver, n) {
  const received = receiver.requests.filter((q) => q.status === 200).flatMap(offsetsOf);
  const firsts = [];
  const seen = new Set();
  for (const o of received) if (!seen.has(o)) { seen.add(o); firsts.push(o); }
  assert.deepEqual(firsts, Array.from({ length: n }, (_, i) => i + 1), 'every event, in offset order');
  return received.length - firsts.length;
}

async function sigkill(server) {
  server.proc.kill('SIGKILL');
  await server.exited;
}

test('SQLite: SIGKILL mid-stream, then a restart, loses nothing and repeats at most the request in flight', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kinto-push-wh-'));
  const store = ['--store', `sqlite:${path.join(dir, 'h.sqlite3')}`];
  const receiver = await startReceiver(() => ({ status: 200, delayMs: 15 }));
  let server = await startServer([...store, ...fast]);
  try {
    const channel = collectionChannel('dur', 'c');
    await create(server, { url: receiver.url, channels: [channel] });
    for (let i = 0; i < 60; i++) await publishOk(server.url, { events: [recordEvent({ bucket: 'dur', collection: 'c' })] });
    await receiver.until((reqs) => reqs.length >= 15);
    await sigkill(server);
    const atKill = receiver.requests.length;
    server = await startServer([...store, ...fast]);
    await receiver.until((reqs) => new Set(reqs.filter((q) => q.status === 200).flatMap(offsetsOf)).size >= 60, 20_000);
    const repeats = check(receiver, 60);
    assert.ok(repeats <= 1, `${repeats} repeated requests (at most the one in flight at the kill)`);
    assert.ok(atKill < 60, 'the kill came mid-stream');

    // A graceful restart: the same again.
    for (let i = 0; i < 20; i++) await publishOk(server.url, { events: [recordEvent({ bucket: 'dur', collection: 'c' })] });
    await receiver.until((reqs) => reqs.length >= atKill + 5);
    await server.stop();
    server = await startServer([...store, ...fast]);
    await receiver.until((reqs) => new Set(reqs.filter((q) => q.status === 200).flatMap(offsetsOf)).size >= 80, 20_000);
    assert.ok(check(receiver, 80) <= 2);
  } finally {
    // The receiver is closed even when stop() reports a sanitizer finding, so the run ends.
    try {
      await server.stop();
    } finally {
      await receiver.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
});

test('Redis: one node delivers; SIGKILL it and the other takes over within seconds, nothing lost', async () => {
  const redis = await startRedis();
  const receiver = await startReceiver(() => ({ status: 200, delayMs: 10 }));
  const nodes = [];
  try {
    const args = ['--store', redis.url, ...fast];
    nodes.push(await startServer(args), await startServer(args));
    const [a, b] = nodes;
    const channel = collectionChannel('lease', 'c');
    const webhook = await create(a, { url: receiver.url, channels: [channel] });
    let published = 0;
    const publishSome = async (server, n) => {
      for (let i = 0; i < n; i++, published++) await publishOk(server.url, { events: [recordEvent({ bucket: 'lease', collection: 'c' })] });
    };
    await publishSome(a, 20);
    await receiver.until((reqs) => reqs.length >= 20, 15_000);
    // Exactly one node says it delivers it.
    const here = [];
    for (const n of nodes) here.push((await request(n.url, `/v1/webhooks/${webhook.id}`)).body.delivered_here);
    assert.equal(here.filter(Boolean).length, 1, `delivered_here on ${JSON.stringify(here)}`);
    const deliverer = here[0] ? a : b;
    const survivor = here[0] ? b : a;

    await sigkill(deliverer);
    const killedAt = Date.now();
    const before = receiver.requests.length;
    await publishSome(survivor, 20);
    await receiver.until((reqs) => reqs.length > before, 15_000, 'the take-over');
    const takeover = receiver.requests[before].at - killedAt;
    console.log(`# take-over after SIGKILL of the delivering node: ${takeover} ms`);
    assert.ok(takeover < 10_000, `take-over took ${takeover} ms`);
    await receiver.until((reqs) => new Set(reqs.filter((q) => q.status === 200).flatMap(offsetsOf)).size >= published, 15_000);
    const repeats = check(receiver, published);
    assert.ok(repeats <= 1, `${repeats} repeated requests`);
    // The last answer's position is saved just after the receiver answered.
    let state;
    for (let i = 0; i < 50; i++) {
      state = (await request(survivor.url, `/v1/webhooks/${webhook.id}`)).body;
      if (state.positions[channel].delivered === published) break;
      await delay(100);
    }
    assert.equal(state.delivered_here, true);
    assert.equal(state.positions[channel].delivered, published);
  } finally {
    try {
      for (const n of nodes) await n.stop();
    } finally {
      await receiver.close();
      await redis.remove();
    }
  }
});
