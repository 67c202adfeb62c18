'use strict';
// `cmake --install` into a temporary prefix, then the installed binary serves: /__heartbeat__
// and /__version__ on 127.0.0.1:0 with an SQLite store under the prefix.
// Environment: CMAKE_COMMAND, KINTO_PUSH_BUILD_DIR (the configured build tree).

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const prefix = fs.mkdtempSync(path.join(os.tmpdir(), 'kinto-push-install-'));
const installed = path.join(prefix, 'bin', 'kinto-push');

before(() => {
  execFileSync(process.env.CMAKE_COMMAND || 'cmake', ['--install', process.env.KINTO_PUSH_BUILD_DIR, '--prefix', prefix],
    { stdio: 'pipe', timeout: 120_000 });
});
after(() => fs.rmSync(prefix, { recursive: true, force: true }));

test('the install lays out the binary, the docs and the systemd unit', () => {
  fs.accessSync(installed, fs.constants.X_OK);
  const doc = path.join(prefix, 'share', 'doc', 'kinto-push');
  for (const file of ['README.md', 'operations.md', 'configuration.md', 'protocol.md', 'examples/config.example.json']) {
    assert.ok(fs.statSync(path.join(doc, file)).size > 0, file);
  }
  const unit = fs.readFileSync(path.join(prefix, 'lib', 'systemd', 'system', 'kinto-push.service'), 'utf8');
  const settings = new Map();
  for (const line of unit.split('\n')) {
    const m = /^([A-Za-z]+)=(.*)$/.exec(line);
    if (m && !settings.has(m[1])) settings.set(m[1], m[2]);
  }
  assert.match(settings.get('ExecStart'), /\/bin\/kinto-push serve$/);
  assert.doesNotMatch(unit, /@[A-Z_]+@/, 'every placeholder was configured');
  for (const [key, value] of [['DynamicUser', 'yes'], ['StateDirectory', 'kinto-push'], ['ProtectSystem', 'strict'],
    ['ProtectHome', 'yes'], ['NoNewPrivileges', 'yes'], ['PrivateTmp', 'yes']]) {
    assert.equal(settings.get(key), value, key);
  }
  assert.match(settings.get('Environment'), /sqlite:\/var\/lib\/kinto-push\//);
  // The example configuration is one the binary accepts.
  const example = path.join(doc, 'examples', 'config.example.json');
  const shown = JSON.parse(execFileSync(installed, ['--config', example, '--print-config'], { encoding: 'utf8', timeout: 10_000 }));
  assert.equal(shown['log-format'], 'mozlog');
});

test('the installed binary serves /__heartbeat__ and /__version__', async () => {
  process.env.KINTO_PUSH_BIN = installed;
  const { startServer, getJSON } = require('../integration/support/server');
  const store = path.join(prefix, 'var', 'kinto-push.sqlite3');
  const server = await startServer(['--store', `sqlite:${store}`]);
  try {
    const heartbeat = await getJSON(server.url, '/__heartbeat__');
    assert.equal(heartbeat.status, 200);
    assert.deepEqual(heartbeat.body, { store: 'ok' });
    const version = await getJSON(server.url, '/__version__');
    assert.equal(version.status, 200);
    const cmakeLists = fs.readFileSync(path.join(__dirname, '..', '..', 'CMakeLists.txt'), 'utf8');
    assert.equal(version.body.version, /project\(kinto_push VERSION (\S+)/.exec(cmakeLists)[1]);
    const printed = execFileSync(installed, ['--version'], { encoding: 'utf8', timeout: 10_000 });
    assert.equal(printed, `kinto-push ${version.body.version} (commit ${version.body.commit}, ${version.body.build})\n`);
    // The commit is the one the build read from git (server/build_commit.cpp in the build tree),
    // a real commit of this repository; "unknown" only outside git.
    const generated = fs.readFileSync(path.join(process.env.KINTO_PUSH_BUILD_DIR, 'server', 'build_commit.cpp'), 'utf8');
    assert.equal(version.body.commit, /return "([^"]*)"/.exec(generated)[1]);
    let inGit = true;
    try {
      execFileSync('git', ['rev-parse', '--git-dir'], { cwd: __dirname, stdio: 'ignore' });
    } catch { inGit = false; }
    if (inGit) {
      assert.match(version.body.commit, /^[0-9a-f]{12}$/);
      execFileSync('git', ['cat-file', '-e', `${version.body.commit}^{commit}`], { cwd: __dirname, stdio: 'ignore' });
    } else {
      assert.equal(version.body.commit, 'unknown');
    }
    assert.ok(fs.statSync(store).size > 0, 'the SQLite store was created');
  } finally {
    await server.stop();
  }
});
