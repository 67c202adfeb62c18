'use strict';
// The real binary's configuration: --config FILE < KINTO_PUSH_* < flags, --print-config with
// secrets masked, and start-up errors naming the bad key (exit code 2, nothing served).

const { test } = require('node:test');
const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const BIN = process.env.KINTO_PUSH_BIN;

function run(args, env = {}) {
  const clean = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('KINTO_PUSH_')) clean[k] = v;
  const res = spawnSync(BIN, args, { env: { ...clean, ...env }, encoding: 'utf8', timeout: 10_000 });
  return { code: res.status, stdout: res.stdout, stderr: res.stderr };
}

function configFile(dir, content) {
  const file = path.join(dir, `config-${Math.random().toString(16).slice(2)}.json`);
  fs.writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
}

test('--print-config: file < environment < flag, secrets masked, exit 0', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kinto-push-config-'));
  try {
    const file = configFile(dir, {
      heartbeat: 30, 'max-replay': 7, history_size: 11, publish_secret: 'file-secret-value', 'log-format': 'mozlog',
    });
    const res = run(['--config', file, '--heartbeat', '50', '--print-config', '--store', 'memory'],
      { KINTO_PUSH_HEARTBEAT: '40', KINTO_PUSH_MAX_REPLAY: '8', KINTO_PUSH_JWT_SECRET: 'env-jwt-secret-value' });
    assert.equal(res.code, 0, res.stderr);
    const config = JSON.parse(res.stdout);
    assert.equal(config.heartbeat, 50, 'the flag wins');
    assert.equal(config['max-replay'], 8, 'the environment beats the file');
    assert.equal(config['history-size'], 11, 'the file beats the default');
    assert.equal(config['log-format'], 'mozlog');
    assert.equal(config['max-subscriptions'], 256, 'the default');
    assert.equal(config.store, 'memory');
    assert.equal(config['publish-secret'], '********');
    assert.equal(config['jwt-secret'], '********');
    assert.equal(config['kinto-url'], null);
    assert.ok(!res.stdout.includes('file-secret-value') && !res.stdout.includes('env-jwt-secret-value'));
    assert.equal(res.stderr, '', 'prints nothing else and starts nothing');

    // The printed configuration (without secrets) is itself a valid --config file.
    const again = run(['--config', configFile(dir, res.stdout.replace(/"\*{8}"/g, 'null')), '--print-config']);
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(JSON.parse(again.stdout), { ...config, 'publish-secret': null, 'jwt-secret': null });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a bad config file stops start-up with a message naming the key', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kinto-push-config-'));
  try {
    for (const [content, expected] of [
      [{ 'no-such-option': 1 }, /no-such-option/],
      [{ shards: 0 }, /shards=0/],
      [{ heartbeat: 1.5 }, /heartbeat=1\.5/],
      [{ 'max-replay': -3 }, /max-replay=-3/],
      [{ listen: 'nohost' }, /listen=nohost/],
      [{ 'log-format': 'xml' }, /log-format=xml.*text or mozlog/],
      [{ 'public-channels': ['/buckets/a'] }, /public-channels.*string or a number/],
      [{ 'history-size': true }, /history-size.*string or a number/],
      [{ 'max-body-bytes': { value: 1 } }, /max-body-bytes.*string or a number/],
      ['{"shards": 2,', /not JSON: line 1, column \d+: /],
    ]) {
      const file = configFile(dir, content);
      const res = run(['--config', file, '--store', 'memory', '--listen', '127.0.0.1:0']);
      assert.equal(res.code, 2, `${JSON.stringify(content)}: ${res.stderr}`);
      assert.match(res.stderr, expected);
      assert.ok(res.stderr.includes(file), `names the file: ${res.stderr}`);
      assert.doesNotMatch(res.stderr, /listening/);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('--version shows the version and the commit', () => {
  const res = run(['--version']);
  assert.equal(res.code, 0);
  assert.match(res.stdout, /^kinto-push \d+\.\d+\.\d+ \(commit ([0-9a-f]{7,40}|unknown), \w+\)\n$/);
});
