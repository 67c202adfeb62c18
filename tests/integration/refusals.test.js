'use strict';
// Refusals that say why, against the real binary: a refused JWT names its reason (never the
// token) in the 4001 close, the `error` frame, the SSE refusal, /v1/history and the log;
// start-up refuses the --print-config mask as a secret, and --print-config what start refuses;
// secrets from files; clearer messages for a certificate as --tls-key, a trailing comma, a
// misspelled variable, a bad channel, an id, a uri that disagrees with its ids.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const {
  startServer, Client, collectionChannel, delay, publish, recordEvent,
} = require('./support/server');
const { jwt, nowS, b64url } = require('./support/jwt');
const { makeCertificate } = require('./support/tls');

const secret = 'refusals-jwt-secret';

// Each kind of bad token and the reason the server must give for it.
function badTokens() {
  const later = nowS() + 3600;
  return [
    ['expired', jwt({ exp: nowS() - 120, channels: ['/buckets'] }, { secret }), 'token expired'],
    ['not yet valid', jwt({ exp: later, nbf: nowS() + 600 }, { secret }), 'token not valid yet (nbf)'],
    ['wrongly signed', jwt({ exp: later }, { secret: 'another-secret' }), 'invalid token signature'],
    ['refused alg', jwt({ exp: later }, { alg: 'none' }), 'token algorithm not accepted by this server'],
    ['without exp', jwt({ channels: ['/buckets'] }, { secret }), 'token has no expiry (exp)'],
    ['malformed', `${b64url('{"alg":"HS256"')}.${b64url('{}')}.c2ln`, 'malformed token'],
  ];
}

test('a refused JWT says why: close 4001 reason, error frame, SSE, history, log; never the token', async () => {
  const server = await startServer(['--jwt-secret', secret, '--log-level', 'debug']);
  const tokens = badTokens();
  try {
    const channel = encodeURIComponent(collectionChannel('blog', 'articles'));
    for (const [what, token, reason] of tokens) {
      const expected = `invalid credentials: ${reason}`;
      const c = await Client.connect(`${server.wsUrl}`, { welcome: false, wsOptions: { headers: { Authorization: `Bearer ${token}` } } });
      const closed = await c.waitClosed(5_000);
      assert.equal(closed.code, 4001, what);
      assert.equal(closed.reason, expected, what);
      assert.ok(Buffer.byteLength(closed.reason) <= 123, what);

      let res = await fetch(`${server.url}/v1/sse?channel=${channel}`, { headers: { Authorization: `Bearer ${token}` } });
      assert.equal(res.status, 401, what);
      assert.equal((await res.json()).message, expected, `SSE: ${what}`);

      res = await fetch(`${server.url}/v1/history?channel=${channel}&access_token=${encodeURIComponent(token)}`);
      assert.equal(res.status, 401, what);
      assert.equal((await res.json()).message, expected, `history: ${what}`);
    }

    // An auth frame: the error frame carries the reason; the connection stays.
    const good = jwt({ sub: 'alice', exp: nowS() + 3600, channels: ['/buckets/blog/collections/*'] }, { secret });
    const client = await Client.connect(server.wsUrl, { wsOptions: { headers: { Authorization: `Bearer ${good}` } } });
    for (const [what, token, reason] of tokens) {
      const answer = await client.request({ type: 'auth', token });
      assert.equal(answer.type, 'error', what);
      assert.equal(answer.code, 'unauthorized', what);
      assert.equal(answer.message, `invalid credentials: ${reason}`, what);
    }
    assert.equal((await client.subscribe(collectionChannel('blog', 'articles'))).type, 'subscribed');
    await client.close();

    await delay(100);
    const log = server.log();
    for (const [what, token, reason] of tokens) {
      assert.ok(log.includes(`invalid credentials: ${reason}`), `the log names the reason: ${what}`);
      assert.ok(!log.includes(token.split('.')[2] || token), `the log never holds the token: ${what}`);
    }
  } finally {
    await server.stop();
  }
});

// ---------------------------------------------------------------------------------------------
// Start-up: the real binary run to its refusal (nothing served).

function run(args, env = {}) {
  const clean = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('KINTO_PUSH_')) clean[k] = v;
  const res = spawnSync(process.env.KINTO_PUSH_BIN, ['--listen', '127.0.0.1:0', '--store', 'memory', ...args],
    { env: { ...clean, ...env }, encoding: 'utf8', timeout: 10_000 });
  return { code: res.status, stdout: res.stdout, stderr: res.stderr };
}

function scratch() {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'kinto-push-refusals-'));
}

test('--print-config output fed back unedited is refused: the mask is never a secret', () => {
  const dir = scratch();
  try {
    const printed = run(['--publish-secret', 'real-publish', '--jwt-secret', 'real-jwt', '--admin-secret', 'real-admin', '--print-config']);
    assert.equal(printed.code, 0, printed.stderr);
    assert.equal(JSON.parse(printed.stdout)['publish-secret'], '********');
    const file = path.join(dir, 'printed.json');
    fs.writeFileSync(file, printed.stdout);
    for (const args of [['--config', file], ['--config', file, '--print-config']]) {
      const res = run(args);
      assert.equal(res.code, 2, `${args}: ${res.stderr}`);
      assert.match(res.stderr, /(publish|jwt|admin)-secret=\*{8}: is the mask --print-config shows/);
    }
    const flag = run(['--jwt-secret', '********']);
    assert.equal(flag.code, 2);
    assert.match(flag.stderr, /--jwt-secret=\*{8}: is the mask/);
    const env = run([], { KINTO_PUSH_ADMIN_SECRET: '********' });
    assert.equal(env.code, 2);
    assert.match(env.stderr, /KINTO_PUSH_ADMIN_SECRET=\*{8}: is the mask/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('--print-config refuses what start refuses, with the same message and a non-zero exit', () => {
  const dir = scratch();
  try {
    const { cert } = makeCertificate({ dir });
    const cases = [
      [['--public-channels', '/buckets'], /--public-channels=\/buckets: /],
      [['--tls-cert', cert, '--tls-key', cert], /--tls-key .*holds a certificate, not a private key/],
      [['--jwt-public-key', path.join(dir, 'missing.pem')], /missing\.pem/],
    ];
    for (const [args, pattern] of cases) {
      const started = run(args);
      const printed = run([...args, '--print-config']);
      assert.notEqual(started.code, 0, `start ${args}`);
      assert.equal(printed.code, started.code, `--print-config ${args}: ${printed.stderr}`);
      assert.equal(printed.stdout, '', 'nothing printed');
      assert.match(started.stderr, pattern);
      const message = pattern.exec(started.stderr)[0];
      assert.ok(printed.stderr.includes(message), `same message: ${printed.stderr} / ${started.stderr}`);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('secrets from files: --publish-secret-file, KINTO_PUSH_JWT_SECRET_FILE, admin_secret_file; bad files refused', async () => {
  const dir = scratch();
  try {
    const publishFile = path.join(dir, 'publish');
    fs.writeFileSync(publishFile, 'publish-from-file\n', { mode: 0o600 });
    const jwtFile = path.join(dir, 'jwt');
    fs.writeFileSync(jwtFile, 'jwt-from-file\r\n', { mode: 0o600 });
    const server = await startServer(['--publish-secret-file', publishFile], { env: { KINTO_PUSH_JWT_SECRET_FILE: jwtFile } });
    try {
      const body = JSON.stringify(recordEvent({ bucket: 'files', collection: 'c' }));
      assert.equal((await publish(server.url, body, { Authorization: 'Bearer publish-from-file' })).status, 202);
      assert.equal((await publish(server.url, body, { Authorization: 'Bearer publish-from-fil' })).status, 401);
      const token = jwt({ sub: 'a', exp: nowS() + 60, channels: ['/buckets/files/collections/*'] }, { secret: 'jwt-from-file' });
      const c = await Client.connect(server.wsUrl, { wsOptions: { headers: { Authorization: `Bearer ${token}` } } });
      assert.equal((await c.subscribe(collectionChannel('files', 'c'))).type, 'subscribed');
      await c.close();
      assert.ok(!server.log().includes('publish-from-file') && !server.log().includes('jwt-from-file'));
    } finally {
      await server.stop();
    }

    const empty = path.join(dir, 'empty');
    fs.writeFileSync(empty, '\n');
    let res = run(['--admin-secret-file', empty]);
    assert.equal(res.code, 2);
    assert.match(res.stderr, /--admin-secret-file .*empty: is empty/);
    res = run(['--admin-secret-file', path.join(dir, 'nope')]);
    assert.equal(res.code, 2);
    assert.match(res.stderr, /--admin-secret-file .*nope: cannot be read/);
    res = run(['--publish-secret-file', publishFile], { KINTO_PUSH_PUBLISH_SECRET: 'plain' });
    assert.equal(res.code, 2);
    assert.match(res.stderr, /--publish-secret and --publish-secret-file are exclusive/);
    const config = path.join(dir, 'config.json');
    fs.writeFileSync(config, JSON.stringify({ admin_secret_file: publishFile }));
    res = run(['--config', config, '--print-config']);
    assert.equal(res.code, 0, res.stderr);
    assert.equal(JSON.parse(res.stdout)['admin-secret-file'], publishFile);
    assert.ok(!res.stdout.includes('publish-from-file'), 'the secret is never printed');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('clearer start-up messages: a trailing comma says where; a misspelled variable is warned about', async () => {
  const dir = scratch();
  try {
    const file = path.join(dir, 'trailing.json');
    fs.writeFileSync(file, '{\n  "heartbeat": 10,\n}\n');
    const res = run(['--config', file]);
    assert.equal(res.code, 2);
    assert.match(res.stderr, /trailing\.json: not JSON: line 3, column 1: /);

    const server = await startServer([], { env: { KINTO_PUSH_HEARTBEET: '5' } });
    try {
      assert.match(server.log(), /KINTO_PUSH_HEARTBEET is not a kinto-push variable \(ignored\); did you mean KINTO_PUSH_HEARTBEAT\?/);
    } finally {
      await server.stop();
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('clearer protocol refusals: channel grammar, integer ids echoed, a uri that disagrees with its ids', async () => {
  const server = await startServer([]);
  try {
    const c = await Client.connect(server.wsUrl);
    const bad = await c.request({ type: 'subscribe', channel: '/buckets/a b' });
    assert.equal(bad.code, 'bad_request');
    assert.match(bad.message, /^channel: not a channel name \(\/buckets, \/buckets\/BID or \/buckets\/BID\/collections\/CID, ids of 1 to 64 characters/);
    c.send({ type: 'subscribe', id: 42, channel: collectionChannel('ids', 'c') });
    const subscribed = await c.next((f) => f.type === 'subscribed');
    assert.equal(subscribed.id, 42);
    c.send({ type: 'ping', id: 1.5 });
    assert.equal((await c.next((f) => f.type === 'error')).message, 'id: must be a string or an integer');
    await c.close();

    const event = recordEvent({ bucket: 'ids', collection: 'c', id: 'r1' });
    event.payload.uri = '/buckets/ids/collections/other/records/r1';
    const res = await publish(server.url, JSON.stringify(event));
    assert.equal(res.status, 400);
    assert.equal(res.body.message, "payload.uri: names collection_id 'other', but payload.collection_id is 'c'");
    const history = await fetch(`${server.url}/v1/history?channel=${encodeURIComponent(collectionChannel('ids', 'c'))}`);
    assert.equal((await history.json()).events.length, 0, 'nothing stored');
  } finally {
    await server.stop();
  }
});
