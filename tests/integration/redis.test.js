'use strict';
// Several kinto-push nodes on one Redis (--store redis://…): shared offsets and history, fan-out
// to every node, exact resume on another node, gaps filled from the streams, Redis restarts and
// outages. Each test starts its own redis-server on a free loopback port (support/redis.js).

const { test } = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const {
  startServer, connect, publish, publishOk, getJSON, recordEvent, collectionChannel, offsetOf, delay,
} = require('./support/server');
const { startRedis } = require('./support/redis');

function startNode(redis, args = []) {
  return startServer(['--store', redis.url, ...args]);
}

// Waits (bounded) until /__heartbeat__ answers `status`.
async function heartbeatBecomes(server, status, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    last = await getJSON(server.url, '/__heartbeat__');
    if (last.status === status) return last;
    await delay(100);
  }
  throw new Error(`/__heartbeat__ stayed ${last && last.status}, expected ${status}`);
}

async function withCluster(options, body) {
  const redis = await startRedis(options.redis);
  const nodes = [];
  try {
    for (const args of options.nodes) nodes.push(await startNode(redis, args));
    await body(redis, nodes);
  } finally {
    for (const node of nodes) await node.stop();
    await redis.remove();
  }
}

test('two nodes on one Redis: an event posted to A reaches subscribers on A and B with the same offsets',
  async () => {
    await withCluster({ nodes: [[], []] }, async (redis, [a, b]) => {
      const channel = collectionChannel('scale', 'both');
      const infoA = (await getJSON(a.url, '/v1/')).body;
      const infoB = (await getJSON(b.url, '/v1/')).body;
      assert.equal(infoA.store, 'redis');
      assert.equal(infoA.epoch, infoB.epoch, 'one history, one epoch');
      const ca = await connect(a.wsUrl);
      const cb = await connect(b.wsUrl);
      assert.equal((await ca.subscribe(channel)).offset, 0);
      assert.equal((await cb.subscribe(channel)).offset, 0);

      const first = await publishOk(a.url, recordEvent({ bucket: 'scale', collection: 'both' }));
      const second = await publishOk(b.url, recordEvent({ bucket: 'scale', collection: 'both' }));
      assert.equal(offsetOf(first, channel), 1);
      assert.equal(offsetOf(second, channel), 2, 'the other node continues the same numbering');
      const onA = await ca.events(channel, 2);
      const onB = await cb.events(channel, 2);
      assert.deepEqual(onA.map((e) => e.offset), [1, 2]);
      assert.deepEqual(onB, onA, 'both nodes send the same frames');
      // Both nodes answer the same history.
      const historyA = (await getJSON(a.url, `/v1/history?channel=${encodeURIComponent(channel)}&since=0`)).body;
      const historyB = (await getJSON(b.url, `/v1/history?channel=${encodeURIComponent(channel)}&since=0`)).body;
      assert.deepEqual(historyA.events, onA);
      assert.deepEqual(historyB.events, onA);
      await ca.close();
      await cb.close();
    });
  });

test('a client of node A resumes on node B exactly, also from beyond B\'s memory tail', async () => {
  await withCluster({ nodes: [[], ['--history-cache', '2']] }, async (redis, [a, b]) => {
    const channel = collectionChannel('scale', 'resume');
    const client = await connect(a.wsUrl);
    const { epoch } = await client.subscribe(channel);
    for (let i = 0; i < 2; i++) await publishOk(a.url, recordEvent({ bucket: 'scale', collection: 'resume' }));
    assert.deepEqual((await client.events(channel, 2)).map((e) => e.offset), [1, 2]);
    await client.close();

    for (let i = 0; i < 6; i++) await publishOk(b.url, recordEvent({ bucket: 'scale', collection: 'resume' }));
    const again = await connect(b.wsUrl);
    const subscribed = await again.subscribe(channel, { epoch, offset: 2 });
    assert.equal(subscribed.recovered, true);
    assert.equal(subscribed.epoch, epoch);
    assert.equal(subscribed.offset, 8);
    // 3..6 are older than B's 2-event memory tail: read from the Redis stream.
    const replay = await again.events(channel, 6);
    assert.deepEqual(replay.map((e) => e.offset), [3, 4, 5, 6, 7, 8]);
    await publishOk(a.url, recordEvent({ bucket: 'scale', collection: 'resume' }));
    assert.deepEqual((await again.events(channel, 1)).map((e) => e.offset), [9], 'then live, from the other node');
    assert.equal((await again.drain((f) => f.type === 'event')).length, 0, 'no duplicate');
    await again.close();
  });
});

test('a since.timestamp resume that needs Redis never holds up the shard: its other clients are served meanwhile',
  async () => {
    // One shard, a 2-event memory tail, a node started after the events: the position of the
    // timestamp must come from Redis, and Redis is stopped while the subscribe waits for it.
    const channel = collectionChannel('scale', 'located');
    const redis = await startRedis();
    let node;
    try {
      const first = await startNode(redis);
      const stamps = [];
      for (let i = 0; i < 6; i++) {
        const event = recordEvent({ bucket: 'scale', collection: 'located' });
        stamps.push(event.payload.timestamp);
        await publishOk(first.url, event);
      }
      await first.stop();
      node = await startNode(redis, ['--shards', '1', '--history-cache', '2']);
      const other = await connect(node.wsUrl);
      await other.subscribe(collectionChannel('scale', 'elsewhere'));
      const resuming = await connect(node.wsUrl);

      process.kill(redis.pid, 'SIGSTOP');
      let answer;
      try {
        answer = resuming.subscribe(channel, { timestamp: stamps[1] }, 10_000);
        await delay(100);   // the subscribe is now waiting for Redis
        for (let i = 0; i < 5; i++) {
          const started = Date.now();
          await other.request({ type: 'ping' }, 1_000);
          assert.ok(Date.now() - started < 500, `a ping on the same shard answered in ${Date.now() - started} ms`);
          await delay(100);
        }
      } finally {
        process.kill(redis.pid, 'SIGCONT');
      }
      // Stopped past the command deadline, or answered just after: either is a clear answer.
      const reply = await answer;
      if (reply.type === 'error') {
        assert.equal(reply.code, 'unavailable');
        await heartbeatBecomes(node, 200);
        assert.equal((await resuming.subscribe(channel, { timestamp: stamps[1] })).type, 'subscribed');
      } else {
        assert.equal(reply.type, 'subscribed');
      }
      // Events 3..6 are newer than the second one's timestamp; 3 and 4 come from the stream.
      assert.deepEqual((await resuming.events(channel, 4)).map((e) => e.offset), [3, 4, 5, 6]);
      assert.equal((await resuming.drain((f) => f.type === 'event')).length, 0, 'no duplicate');
      await resuming.close();
      await other.close();
    } finally {
      if (node) await node.stop();
      await redis.remove();
    }
  });

test('concurrent publishers on both nodes: contiguous offsets, the same order on every subscriber', async () => {
  await withCluster({ nodes: [[], []] }, async (redis, [a, b]) => {
    const channel = collectionChannel('scale', 'race');
    const subscribers = [await connect(a.wsUrl), await connect(a.wsUrl), await connect(b.wsUrl)];
    for (const s of subscribers) await s.subscribe(channel);
    const perNode = 40;
    const posts = [];
    for (let i = 0; i < perNode; i++) {
      for (const node of [a, b]) {
        posts.push(publishOk(node.url, recordEvent({ bucket: 'scale', collection: 'race', id: `${node.port}-${i}` })));
      }
    }
    const answers = await Promise.all(posts);
    const given = answers.map((published) => offsetOf(published, channel)).sort((x, y) => x - y);
    assert.deepEqual(given, Array.from({ length: 2 * perNode }, (_, i) => i + 1), 'each offset given once');
    const seen = [];
    for (const s of subscribers) seen.push(await s.events(channel, 2 * perNode, 20_000));
    for (const events of seen) {
      assert.deepEqual(events.map((e) => e.offset), given, 'contiguous, in order');
      assert.deepEqual(events.map((e) => e.payload.record_id), seen[0].map((e) => e.payload.record_id),
        'every subscriber sees the same order');
    }
    for (const s of subscribers) await s.close();
  });
});

test('an idempotent retry on the other node answers the first offsets and stores nothing', async () => {
  await withCluster({ nodes: [[], []] }, async (redis, [a, b]) => {
    const channel = collectionChannel('scale', 'retry');
    const event = recordEvent({ bucket: 'scale', collection: 'retry' });
    const first = await publishOk(a.url, event);
    assert.deepEqual(await publishOk(b.url, event), first);
    const other = recordEvent({ bucket: 'scale', collection: 'retry' });
    const mixed = await publishOk(b.url, { events: [event, other] });
    assert.equal(mixed[0].offset, offsetOf(first, channel));
    assert.equal(offsetOf(mixed, channel), 2, 'only the new event took an offset');
    // Node A learns of B's event through Pub/Sub, a moment after B answered: wait (bounded).
    let history;
    for (let i = 0; i < 50; i++) {
      history = (await getJSON(a.url, `/v1/history?channel=${encodeURIComponent(channel)}&since=0`)).body;
      if (history.offset >= 2) break;
      await delay(100);
    }
    assert.deepEqual(history.events.map((e) => e.offset), [1, 2]);
  });
});

test('a Pub/Sub message that never arrived: the node reads the gap from the stream before later events',
  async () => {
    await withCluster({ nodes: [[], []] }, async (redis, [a, b]) => {
      const channel = collectionChannel('scale', 'gap');
      const client = await connect(a.wsUrl);
      await client.subscribe(channel);
      await publishOk(b.url, recordEvent({ bucket: 'scale', collection: 'gap' }));
      assert.deepEqual((await client.events(channel, 1)).map((e) => e.offset), [1]);
      // Offset 2 is stored as the publish script would, but its message is never published.
      assert.equal(await redis.cli('HINCRBY', 'kp:offsets', channel, '1'), '2');
      const body = JSON.stringify({ payload: { action: 'update', note: 'lost message' }, impacted_objects: [] });
      assert.equal(await redis.cli('XADD', `kp:s:${channel}`, '2-0', 'ts', '1717000000999', 'at',
        String(Date.now()), 'body', body), '2-0');
      await publishOk(b.url, recordEvent({ bucket: 'scale', collection: 'gap' }));
      const events = await client.events(channel, 2);
      assert.deepEqual(events.map((e) => e.offset), [2, 3]);
      assert.equal(events[0].payload.note, 'lost message', 'the gap came from the stream');
      assert.equal(events[0].timestamp, 1717000000999);
      await client.close();
    });
  });

test('a node whose subscription dropped catches up from the streams when it reconnects', async () => {
  await withCluster({ nodes: [[], []] }, async (redis, [a, b]) => {
    const channel = collectionChannel('scale', 'dropped');
    const client = await connect(a.wsUrl);
    await client.subscribe(channel);
    await publishOk(b.url, recordEvent({ bucket: 'scale', collection: 'dropped' }));
    await client.events(channel, 1);
    // Only A's Pub/Sub connection is cut; B keeps publishing meanwhile.
    const line = (await redis.cli('CLIENT', 'LIST')).split('\n')
      .find((l) => l.includes(` name=kinto-push-events-${a.pid} `));
    assert.ok(line, 'node A names its subscription connection');
    const id = /\bid=(\d+)/.exec(line)[1];
    assert.equal(await redis.cli('CLIENT', 'KILL', 'ID', id), '1');
    const published = [];
    for (let i = 0; i < 5; i++) published.push(await publishOk(b.url, recordEvent({ bucket: 'scale', collection: 'dropped' })));
    const events = await client.events(channel, 5, 15_000);
    assert.deepEqual(events.map((e) => e.offset), [2, 3, 4, 5, 6], 'no hole, no duplicate');
    assert.equal((await client.drain((f) => f.type === 'event')).length, 0);
    await client.close();
  });
});

test('Redis restarted with appendonly: nodes reconnect, no acknowledged event is lost, no hole', async () => {
  await withCluster({ redis: { appendonly: true, fsyncAlways: true }, nodes: [[], []] }, async (redis, [a, b]) => {
    const channel = collectionChannel('scale', 'restart');
    const ca = await connect(a.wsUrl);
    const cb = await connect(b.wsUrl);
    const { epoch } = await ca.subscribe(channel);
    await cb.subscribe(channel);
    for (let i = 0; i < 3; i++) await publishOk(a.url, recordEvent({ bucket: 'scale', collection: 'restart' }));
    assert.deepEqual((await ca.events(channel, 3)).map((e) => e.offset), [1, 2, 3]);
    assert.deepEqual((await cb.events(channel, 3)).map((e) => e.offset), [1, 2, 3]);

    await redis.kill('SIGKILL');
    const refused = await publish(b.url, recordEvent({ bucket: 'scale', collection: 'restart' }));
    assert.equal(refused.status, 503, 'not acknowledged while Redis is away');
    const restarted = await startRedis({ appendonly: true, fsyncAlways: true, dir: redis.dir, port: redis.port });
    try {
      await heartbeatBecomes(a, 200);
      await heartbeatBecomes(b, 200);
      assert.equal((await getJSON(a.url, '/v1/')).body.epoch, epoch, 'the history survived: same epoch');
      for (let i = 0; i < 3; i++) await publishOk(b.url, recordEvent({ bucket: 'scale', collection: 'restart' }));
      assert.deepEqual((await ca.events(channel, 3)).map((e) => e.offset), [4, 5, 6], 'the subscriber carries on');
      assert.deepEqual((await cb.events(channel, 3)).map((e) => e.offset), [4, 5, 6]);
      const history = (await getJSON(a.url, `/v1/history?channel=${encodeURIComponent(channel)}&since=0`)).body;
      assert.deepEqual(history.events.map((e) => e.offset), [1, 2, 3, 4, 5, 6]);
    } finally {
      await ca.close();
      await cb.close();
      await restarted.kill();
    }
  });
});

test('a node killed: its clients resume on the other node exactly', async () => {
  await withCluster({ nodes: [[], []] }, async (redis, [a, b]) => {
    const channel = collectionChannel('scale', 'killed');
    const client = await connect(a.wsUrl);
    const { epoch } = await client.subscribe(channel);
    for (let i = 0; i < 3; i++) await publishOk(a.url, recordEvent({ bucket: 'scale', collection: 'killed' }));
    const got = await client.events(channel, 3);
    a.proc.kill('SIGKILL');
    await a.exited;
    await client.waitClosed();
    for (let i = 0; i < 4; i++) await publishOk(b.url, recordEvent({ bucket: 'scale', collection: 'killed' }));
    const again = await connect(b.wsUrl);
    const subscribed = await again.subscribe(channel, { epoch, offset: got[got.length - 1].offset });
    assert.equal(subscribed.recovered, true);
    assert.equal(subscribed.offset, 7);
    assert.deepEqual((await again.events(channel, 4)).map((e) => e.offset), [4, 5, 6, 7]);
    assert.equal((await again.drain((f) => f.type === 'event')).length, 0, 'no duplicate');
    await again.close();
  });
});

test('Redis down: publishing answers 503 at once, /__heartbeat__ reports it, subscriptions stay open; '
  + 'a wiped Redis is a new epoch', async () => {
  await withCluster({ nodes: [[]] }, async (redis, [a]) => {
    const channel = collectionChannel('scale', 'down');
    const client = await connect(a.wsUrl);
    const { epoch } = await client.subscribe(channel);
    await publishOk(a.url, recordEvent({ bucket: 'scale', collection: 'down' }));
    await client.events(channel, 1);
    assert.equal((await getJSON(a.url, '/__heartbeat__')).status, 200);

    await redis.kill('SIGKILL');
    const started = Date.now();
    const refused = await publish(a.url, recordEvent({ bucket: 'scale', collection: 'down' }));
    const took = Date.now() - started;
    assert.equal(refused.status, 503);
    assert.equal(refused.body.errno, 201);
    assert.equal(refused.body.error, 'Service Unavailable');
    assert.ok(took < 1_000, `answered in ${took} ms`);
    const heartbeat = await heartbeatBecomes(a, 503);
    assert.equal(heartbeat.body.store, 'unavailable');
    // The WebSocket is still served: a live subscription to another channel is granted.
    const other = await client.subscribe(collectionChannel('scale', 'other'));
    assert.equal(other.type, 'subscribed');
    assert.equal(other.epoch, epoch);

    // Redis comes back empty: the history is lost, which the node tells its clients.
    const fresh = await startRedis({ port: redis.port });
    try {
      await heartbeatBecomes(a, 200);
      const closed = await client.waitClosed(10_000);
      assert.equal(closed.code, 1001);
      assert.match(closed.reason, /history lost/);
      const newEpoch = (await getJSON(a.url, '/v1/')).body.epoch;
      assert.notEqual(newEpoch, epoch);
      const again = await connect(a.wsUrl);
      const subscribed = await again.subscribe(channel, { epoch, offset: 1 });
      assert.equal(subscribed.recovered, false, 'the old position means resync');
      assert.equal(subscribed.epoch, newEpoch);
      const published = await publishOk(a.url, recordEvent({ bucket: 'scale', collection: 'down' }));
      assert.equal(offsetOf(published, channel), 1, 'the new history starts over');
      await again.close();
    } finally {
      await fresh.remove();
    }
  });
});

test('a Redis that stops answering (SIGSTOP) is noticed within seconds; it is used again once it answers',
  async () => {
    await withCluster({ nodes: [[]] }, async (redis, [a]) => {
      const channel = collectionChannel('scale', 'stalled');
      const client = await connect(a.wsUrl);
      await client.subscribe(channel);
      process.kill(redis.pid, 'SIGSTOP');
      try {
        const started = Date.now();
        const refused = await publish(a.url, recordEvent({ bucket: 'scale', collection: 'stalled' }));
        assert.equal(refused.status, 503);
        assert.ok(Date.now() - started < 3_000, `answered in ${Date.now() - started} ms`);
        await heartbeatBecomes(a, 503, 5_000);
      } finally {
        process.kill(redis.pid, 'SIGCONT');
      }
      await heartbeatBecomes(a, 200);
      // The refused POST may have been stored before the deadline: either way offsets stay contiguous.
      await publishOk(a.url, recordEvent({ bucket: 'scale', collection: 'stalled' }));
      const events = await client.events(channel, 1);
      const history = (await getJSON(a.url, `/v1/history?channel=${encodeURIComponent(channel)}&since=0`)).body;
      assert.deepEqual(history.events.map((e) => e.offset), Array.from({ length: history.offset }, (_, i) => i + 1));
      assert.equal(events[0].offset, 1, 'the subscriber got the first stored event');
      await client.close();
    });
  });

test('a Redis that cannot be reached or a bad URL stops start-up with a message', async () => {
  await assert.rejects(startServer(['--store', 'redis://127.0.0.1:1/0']), /cannot use Redis/);
  await assert.rejects(startServer(['--store', 'redis://:secret@127.0.0.1:6379/x']),
    /--store=redis:\/\/.*database must be a number/);
});

test('rediss:// with a password: TLS verified against --redis-tls-ca, AUTH from the environment', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kinto-push-redis-tls-'));
  const cert = path.join(dir, 'cert.pem');
  const key = path.join(dir, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1'],
  { stdio: 'ignore' });
  const redis = await startRedis({ tls: { cert, key }, password: 's3cret' });
  try {
    const url = `rediss://127.0.0.1:${redis.port}/0`;
    const node = await startServer(['--store', url, '--redis-tls-ca', cert],
      { env: { KINTO_PUSH_REDIS_PASSWORD: 's3cret' } });
    try {
      const channel = collectionChannel('scale', 'tls');
      const client = await connect(node.wsUrl);
      await client.subscribe(channel);
      await publishOk(node.url, recordEvent({ bucket: 'scale', collection: 'tls' }));
      assert.deepEqual((await client.events(channel, 1)).map((e) => e.offset), [1]);
      assert.equal(await redis.cli('HGET', 'kp:offsets', channel), '1', 'stored in the TLS Redis');
      await client.close();
    } finally {
      await node.stop();
    }
    await assert.rejects(startServer(['--store', url, '--redis-tls-ca', cert, '--redis-password', 'wrong']),
      /cannot use Redis: AUTH/);
    // The system's CAs do not know this self-signed certificate.
    await assert.rejects(startServer(['--store', url, '--redis-password', 's3cret']),
      /cannot use Redis: TLS handshake/);
  } finally {
    await redis.remove();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
