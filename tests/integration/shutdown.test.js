'use strict';
// PROTOCOL.md section 3, close code 1001: SIGTERM closes every connection with "going away"
// and the process exits cleanly.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const net = require('node:net');
const {
  startServer, connect, publishOk, getJSON, recordEvent, collectionChannel, withTimeout,
} = require('./support/server');

function tcpRefused(port) {
  return withTimeout(new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.on('connect', () => { socket.destroy(); resolve(false); });
    socket.on('error', () => resolve(true));
  }), 3_000, 'TCP connect');
}

test('SIGTERM closes every subscriber with 1001 and exits with 0', async () => {
  const server = await startServer(['--shards', '2']);
  const clients = [];
  try {
    const epoch = (await getJSON(server.url, '/v1/')).body.epoch;
    const col = collectionChannel('bye', 'c');
    for (let i = 0; i < 8; i++) {
      const c = await connect(server.wsUrl);
      clients.push(c);
      await c.subscribe(i % 2 ? col : '/buckets');
    }
    // One connection in the middle of a replay.
    const events = [];
    for (let i = 0; i < 300; i++) events.push(recordEvent({ bucket: 'bye', collection: 'c', fields: { pad: 'p'.repeat(500) } }));
    await publishOk(server.url, { events });
    const replaying = await connect(server.wsUrl);
    clients.push(replaying);
    await replaying.subscribe(col, { epoch, offset: 0 });

    const started = Date.now();
    const stopping = server.stop(10_000);
    const closes = await withTimeout(Promise.all(clients.map((c) => c.closed)), 5_000, 'every client closed');
    for (const info of closes) assert.equal(info.code, 1001, JSON.stringify(info));
    assert.equal(await tcpRefused(server.port), true, 'no new connection after SIGTERM');

    const exit = await stopping;
    assert.equal(exit.killed, false, 'exited without SIGKILL');
    assert.equal(exit.code, 0, `exit ${JSON.stringify(exit)}\n${server.log().slice(-2000)}`);
    assert.equal(exit.signal, null);
    assert.ok(Date.now() - started < 3_000, `exited after ${Date.now() - started} ms`);
  } finally {
    for (const c of clients) c.terminate();
    await server.stop();
  }
});

test('SIGTERM: a client that is behind but reads within the grace period gets 1001', async () => {
  // The server gives clients a grace period to complete the close handshake; a client whose
  // socket buffers are full (a write in flight) must still get its 1001 once it reads again.
  const server = await startServer(['--shards', '1', '--send-queue-bytes', '67108864']);
  const behind = await connect(server.wsUrl);
  try {
    const col = collectionChannel('behind', 'c');
    await behind.subscribe(col);
    behind.ws._socket.pause();
    const blob = 'y'.repeat(4096);
    for (let r = 0; r < 40; r++) {   // 16 MB: more than the socket buffers hold
      const events = [];
      for (let i = 0; i < 100; i++) events.push(recordEvent({ bucket: 'behind', collection: 'c', fields: { blob } }));
      await publishOk(server.url, { events });
    }
    let got = 0;
    behind.tap((f) => { if (f.type === 'event') got++; return true; });
    const stopping = server.stop(12_000);
    await new Promise((r) => setTimeout(r, 300));
    behind.ws._socket.resume();
    const closed = await behind.waitClosed(8_000);
    const exit = await stopping;
    assert.equal(exit.code, 0);
    assert.equal(closed.code, 1001, `closed ${JSON.stringify(closed)} after ${got} events; server exited after ${exit.ms} ms`);
  } finally {
    behind.terminate();
    await server.stop();
  }
});

test('SIGTERM with a client that stopped reading still exits with 0 after the grace period', async () => {
  const server = await startServer(['--shards', '1', '--send-queue-bytes', '8388608']);
  const live = await connect(server.wsUrl);
  const stuck = await connect(server.wsUrl);
  try {
    const col = collectionChannel('stuck', 'c');
    await live.subscribe(col);
    await stuck.subscribe(col);
    stuck.ws._socket.pause();
    // Enough to fill the socket buffers of the client that does not read.
    const blob = 'z'.repeat(4096);
    for (let r = 0; r < 10; r++) {
      const events = [];
      for (let i = 0; i < 100; i++) events.push(recordEvent({ bucket: 'stuck', collection: 'c', fields: { blob } }));
      await publishOk(server.url, { events });
    }
    await live.events(col, 1000, 20_000);

    const started = Date.now();
    const exit = await server.stop(12_000);
    const ms = Date.now() - started;
    assert.equal(exit.killed, false, `needed SIGKILL after ${ms} ms`);
    assert.equal(exit.code, 0);
    assert.ok(ms < 9_000, `exited after ${ms} ms`);
    assert.equal((await live.waitClosed(2_000)).code, 1001);
  } finally {
    live.terminate();
    stuck.terminate();
    await server.stop();
  }
});
