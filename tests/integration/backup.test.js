'use strict';
// docs/operations.md, "Back up and restore": SQLite's online backup and VACUUM INTO taken from
// a live server's WAL database restore the same history and epoch, so clients resume with
// recovered: true. The copies are made with Python's sqlite3 module (the same SQLite APIs as
// the sqlite3 shell's .backup and VACUUM INTO; python3 is a test dependency already).

const { test } = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { startServer, publishOk, getJSON, recordEvent, collectionChannel } = require('./support/server');

const PYTHON = '/usr/bin/python3';

function backup(source, target, how) {
  const script = how === 'backup'
    ? 'import sqlite3,sys\nsrc=sqlite3.connect(sys.argv[1]); dst=sqlite3.connect(sys.argv[2])\nsrc.backup(dst); dst.close(); src.close()'
    : 'import sqlite3,sys\nsrc=sqlite3.connect(sys.argv[1]); src.execute("VACUUM INTO ?", (sys.argv[2],)); src.close()';
  execFileSync(PYTHON, ['-c', script, source, target], { timeout: 30_000 });
}

test('an online backup or VACUUM INTO of a live store restores its history and epoch', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kinto-push-backup-'));
  const live = path.join(dir, 'live.sqlite3');
  const col = collectionChannel('backup', 'c');
  try {
    const server = await startServer(['--store', `sqlite:${live}`]);
    let epoch;
    try {
      epoch = (await getJSON(server.url, '/v1/')).body.epoch;
      for (let i = 0; i < 5; i++) await publishOk(server.url, recordEvent({ bucket: 'backup', collection: 'c' }));
      // Taken while the server runs, with its WAL not checkpointed.
      assert.ok(fs.existsSync(`${live}-wal`), 'the live database is in WAL mode');
      backup(live, path.join(dir, 'online.sqlite3'), 'backup');
      backup(live, path.join(dir, 'vacuum.sqlite3'), 'vacuum');
    } finally {
      await server.stop();
    }
    for (const copy of ['online.sqlite3', 'vacuum.sqlite3']) {
      const restored = await startServer(['--store', `sqlite:${path.join(dir, copy)}`]);
      try {
        const history = await getJSON(restored.url, `/v1/history?channel=${col}&since=2&epoch=${epoch}`);
        assert.equal(history.status, 200);
        assert.equal(history.body.epoch, epoch, `${copy}: same epoch`);
        assert.equal(history.body.recovered, true, copy);
        assert.deepEqual(history.body.events.map((e) => e.offset), [3, 4, 5], copy);
        const next = await publishOk(restored.url, recordEvent({ bucket: 'backup', collection: 'c' }));
        assert.equal(next.find((p) => p.channel === col).offset, 6, `${copy}: offsets carry on`);
      } finally {
        await restored.stop();
      }
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
