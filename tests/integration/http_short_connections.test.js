'use strict';
// Answers made off the connection's shard (history reads go through the blocking pool, with
// the credentials checked first) on connections that close right after them: the HTTP session
// must end on its own shard, whatever thread made its answer. A copy of the answer callback
// left on the blocking pool once made the pool the session's last owner, and its destructor
// raced the shard (the server aborted within a few thousand such reads).

const { test } = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const { startServer, publishOk, recordEvent, collectionChannel } = require('./support/server');

const SANITIZED = (process.env.KINTO_PUSH_SANITIZER ?? 'none') !== 'none';
const WORKERS = 8;
const READS = SANITIZED ? 150 : 600;   // per worker

// One GET on a connection of its own, closed after the answer: the status.
function getOnce(port, path) {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent: false, headers: { Connection: 'close' }, timeout: 10_000 },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode));
      });
    req.on('timeout', () => req.destroy(new Error('no answer within 10 s')));
    req.on('error', reject);
  });
}

test(`${WORKERS} × ${READS} history reads, each on a connection closed after its answer: all answered, the server stays up`, { timeout: 180_000 }, async () => {
  const server = await startServer(['--shards', '2']);
  try {
    await publishOk(server.url, recordEvent('short', 'c', 'r1'));
    const path = `/v1/history?channel=${encodeURIComponent(collectionChannel('short', 'c'))}`;
    const statuses = new Map();
    const deadline = Date.now() + 120_000;
    await Promise.all(Array.from({ length: WORKERS }, async () => {
      for (let i = 0; i < READS && Date.now() < deadline; i += 1) {
        const status = await getOnce(server.port, path);
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
      }
    }));
    assert.deepEqual([...statuses], [[200, WORKERS * READS]]);
    assert.ok(server.alive(), 'kinto-push is still running');
  } finally {
    await server.stop();
  }
});
