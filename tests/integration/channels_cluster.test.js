'use strict';
// PROTOCOL.md section 8 across nodes: GET /v1/channels/{channel} on two kinto-push nodes sharing
// one Redis counts the node's own subscribers (`node`) and every node's (`cluster`, from the
// reports each node sends every 2 s and that are kept 6 s: server/subscriber_census.cpp); a
// node killed with SIGKILL stops counting once its last report expires.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const { startServer, connect, request, collectionChannel, delay } = require('./support/server');
const { openSse } = require('./support/sse_client');
const { startRedis } = require('./support/redis');

const enc = encodeURIComponent;

// Polls GET /v1/channels/{channel} on `server` until `check(subscribers)` holds (bounded by
// `timeoutMs`); returns the time it took and the answer.
async function subscribersBecome(server, channel, check, timeoutMs, what) {
  const started = Date.now();
  let last;
  while (Date.now() - started < timeoutMs) {
    last = await request(server.url, `/v1/channels/${enc(channel)}`);
    if (last.status === 200 && check(last.body.subscribers)) return { ms: Date.now() - started, body: last.body };
    await delay(100);
  }
  assert.fail(`${what}: never within ${timeoutMs} ms; last answer ${last?.status} ${last?.text}`);
}

test('two nodes on one Redis: node and cluster subscriber counts, and a killed node forgotten', async () => {
  const redis = await startRedis();
  const nodes = [];
  const closers = [];
  try {
    const a = await startServer(['--store', redis.url]);
    nodes.push(a);
    const b = await startServer(['--store', redis.url]);
    nodes.push(b);
    const channel = collectionChannel('census', 'both');
    const other = collectionChannel('census', 'other');

    for (let i = 0; i < 2; i++) {
      const ws = await connect(a.wsUrl);
      closers.push(() => ws.close());
      await ws.subscribe(channel);
    }
    const sse = await openSse(b.url, `/v1/sse?channel=${enc(channel)}`);
    closers.push(async () => sse.close());
    await sse.until((x) => x.named('subscribed').length === 1, 5000, 'subscribed');

    const is = (node, cluster) => (s) => s.node === node && s.cluster === cluster;
    const onA = await subscribersBecome(a, channel, is(2, 3), 8000, 'A: node 2, cluster 3');
    const onB = await subscribersBecome(b, channel, is(1, 3), 8000, 'B: node 1, cluster 3');
    assert.deepEqual(onA.body.subscribers, { node: 2, cluster: 3 });
    assert.deepEqual(onB.body.subscribers, { node: 1, cluster: 3 });
    // Another channel is not mixed in.
    const none = await request(b.url, `/v1/channels/${enc(other)}`);
    assert.equal(none.status, 200);
    assert.deepEqual(none.body.subscribers, { node: 0, cluster: 0 });

    // A dies without a word: its last report expires (kept 6 s), B counts only its own.
    a.proc.kill('SIGKILL');
    const dropped = await subscribersBecome(b, channel, is(1, 1), 12_000, 'B: cluster 1 after A died');
    assert.ok(dropped.ms <= 9000, `B forgot A after ${dropped.ms} ms (reports are kept 6 s)`);
    // And it stays so (A's stale report does not come back).
    await delay(2500);
    const later = await request(b.url, `/v1/channels/${enc(channel)}`);
    assert.deepEqual(later.body.subscribers, { node: 1, cluster: 1 });
  } finally {
    for (const close of closers) await close().catch(() => {});
    for (const node of nodes) await node.stop();
    await redis.remove();
  }
});
