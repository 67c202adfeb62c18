'use strict';
// PROTOCOL.md section 3, close code 4008: a client whose send queue passes --send-queue-bytes
// is closed, without holding back the other subscribers of its channels.

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const {
  startServer, connect, publishOk, getJSON, recordEvent, collectionChannel, withTimeout,
} = require('./support/server');

const EVENTS = 2000;
const PER_REQUEST = 10;  // 23 KB per POST: one POST alone stays under the 64 KiB queue
let server;
let epoch;

before(async () => {
  // A small kernel send buffer too: otherwise how much the kernel takes before the server's
  // own queue fills (and 4008 comes) depends on TCP autotuning, and on a loaded machine the
  // kernel alone could absorb the whole test.
  server = await startServer(['--send-queue-bytes', '65536', '--shards', '2', '--socket-send-buffer', '65536',
    '--history-size', String(EVENTS)]);   // the slow client's resume is within the history
  epoch = (await getJSON(server.url, '/v1/')).body.epoch;
});
after(() => server?.stop());

test('a client that does not read is closed with 4008; a fast one gets every event', async () => {
  const col = collectionChannel('slow', 'c');
  const fast = await connect(server.wsUrl);
  const slow = await connect(server.wsUrl);
  try {
    await fast.subscribe(col);
    await slow.subscribe(col);
    slow.ws._socket.pause();

    const fastGot = [];
    let resolveFast;
    const fastDone = new Promise((resolve) => { resolveFast = resolve; });
    fast.tap((f) => {
      if (f.type !== 'event') return false;
      fastGot.push(f.offset);
      if (fastGot.length === EVENTS) resolveFast();
      return true;
    });
    const slowGot = [];
    slow.tap((f) => {
      if (f.type !== 'event') return false;
      slowGot.push(f.offset);
      return true;
    });

    const blob = 'b'.repeat(2048);
    for (let done = 0; done < EVENTS; done += PER_REQUEST) {
      const events = [];
      for (let i = done; i < done + PER_REQUEST; i++) events.push(recordEvent({ bucket: 'slow', collection: 'c', id: `s${i}`, fields: { blob } }));
      await publishOk(server.url, { events });
    }
    await withTimeout(Promise.race([fastDone, fast.closed.then((i) => { throw new Error(`fast client closed: ${i.code}`); })]),
      20_000, `the fast client's ${EVENTS} events (got ${fastGot.length})`);
    assert.deepEqual(fastGot, Array.from({ length: EVENTS }, (_, i) => i + 1));

    // Read again: what was sent before the close, then the close frame. (The server waits 5 s
    // for a close handshake, so this must come soon after the close: publishing takes ~2 s.)
    slow.ws._socket.resume();
    const closed = await slow.waitClosed(5_000);
    assert.equal(closed.code, 4008, JSON.stringify(closed));
    assert.ok(slowGot.length < EVENTS, `the slow client got ${slowGot.length} events`);
    assert.deepEqual(slowGot, Array.from({ length: slowGot.length }, (_, i) => i + 1), 'no hole before the close');
    assert.equal(fast.closeInfo, null);

    // The server stays healthy, and the slow client can resume where it stopped.
    assert.equal((await getJSON(server.url, '/__lbheartbeat__')).status, 200);
    const again = await connect(server.wsUrl);
    try {
      const resumed = await again.subscribe(col, { epoch, offset: slowGot.length });
      assert.equal(resumed.recovered, true);
      assert.equal(resumed.offset, EVENTS);
      const rest = await again.events(col, EVENTS - slowGot.length, 20_000);
      assert.equal(rest[0].offset, slowGot.length + 1);
      assert.equal(rest[rest.length - 1].offset, EVENTS);
    } finally {
      await again.close();
    }
  } finally {
    await fast.close();
    slow.terminate();
  }
});
