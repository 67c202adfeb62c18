'use strict';
// The store failing while clients are connected (docs/reliability.md). The server is the
// test-only build kinto-push-faulty-disk (tests/support/faulty_disk.cpp): the real server whose
// SQLite writes fail with SQLITE_FULL, as on a full disk, while a control file exists. Creating
// and removing that file breaks and repairs the "disk" of the running server. (A real full
// disk needs a small mounted file system, i.e. root and a mount: not something a test suite
// should do; chmod does not stop root.)

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const {
  startServer, connect, publish, publishOk, getJSON, recordEvent, collectionChannel, offsetOf,
} = require('./support/server');

const BIN = process.env.KINTO_PUSH_FAULTY_DISK_BIN;
const COL = collectionChannel('disk', 'c');
let server;
let dir;
let control;

before(async () => {
  if (!BIN) throw new Error('KINTO_PUSH_FAULTY_DISK_BIN must name the kinto-push-faulty-disk binary (ctest sets it)');
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kinto-push-faulty-disk-'));
  control = path.join(dir, 'disk-is-full');
  server = await startServer(['--store', `sqlite:${path.join(dir, 'history.sqlite3')}`, '--shards', '2'],
    { bin: BIN, env: { KP_FAULTY_DISK_FILE: control } });
});

after(async () => {
  try { fs.rmSync(control, { force: true }); } catch { /* gone */ }
  await server?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

const event = (i) => recordEvent({ bucket: 'disk', collection: 'c', id: `r${i}` });

test('disk full: publishing answers 503 and stores nothing; live clients, replays and history carry on; all recovers', async () => {
  const live = await connect(server.wsUrl);
  try {
    const subscribed = await live.subscribe(COL);
    const { epoch } = subscribed;
    for (let i = 1; i <= 5; i++) await publishOk(server.url, event(i));
    assert.deepEqual((await live.events(COL, 5)).map((e) => e.offset), [1, 2, 3, 4, 5]);

    // The disk fills up.
    fs.writeFileSync(control, '');
    for (let i = 6; i <= 8; i++) {
      const res = await publish(server.url, event(i));
      assert.equal(res.status, 503, res.text);
      assert.equal(res.body.errno, 201);
      assert.match(res.body.message, /store unavailable/);
    }
    const heartbeat = await getJSON(server.url, '/__heartbeat__');
    assert.equal(heartbeat.status, 503);
    assert.deepEqual(heartbeat.body, { store: 'unavailable' });
    assert.equal((await getJSON(server.url, '/__lbheartbeat__')).status, 200, 'the process itself is alive');

    // Nothing of the refused POSTs reached the live client.
    assert.deepEqual(await live.drain((f) => f.type === 'event', 300), []);
    // What is stored is still served: a resume replays it, the history reads it.
    const resumer = await connect(server.wsUrl);
    try {
      const resumed = await resumer.subscribe(COL, { epoch, offset: 2 });
      assert.equal(resumed.recovered, true);
      assert.equal(resumed.offset, 5);
      assert.deepEqual((await resumer.events(COL, 3)).map((e) => e.offset), [3, 4, 5]);
      const history = await getJSON(server.url, `/v1/history?channel=${encodeURIComponent(COL)}&since=0`);
      assert.equal(history.status, 200);
      assert.deepEqual(history.body.events.map((e) => e.offset), [1, 2, 3, 4, 5]);
      assert.equal(live.closeInfo, null);
      assert.equal((await live.request({ type: 'ping' })).type, 'pong');

      // The disk has room again: the heartbeat's write succeeds, publishing resumes at the
      // next offset (the refused POSTs used none), and both clients get it live.
      fs.rmSync(control);
      assert.equal((await getJSON(server.url, '/__heartbeat__')).status, 200);
      const published = await publishOk(server.url, event(6));
      assert.equal(offsetOf(published, COL), 6);
      assert.equal((await live.events(COL, 1))[0].offset, 6);
      assert.equal((await resumer.events(COL, 1))[0].offset, 6);
      // The POST refused while the disk was full can be retried: it is stored now, once.
      const retried = await publishOk(server.url, event(7));
      assert.equal(offsetOf(retried, COL), 7);
    } finally {
      await resumer.close();
    }
  } finally {
    await live.close();
  }
});
