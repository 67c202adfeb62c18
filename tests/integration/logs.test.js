'use strict';
// --log-format mozlog and text: one line per publish request and per WebSocket connection, in
// MozLog's JSON shape (parsed, every field typed), and no secret or credential in any line.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const {
  startServer, Client, publish, recordEvent, collectionChannel, delay,
} = require('./support/server');
const { jwt: signJwt } = require('./support/jwt');

const PUBLISH_SECRET = 'publish-secret-that-must-never-be-logged';
const JWT_SECRET = 'jwt-secret-that-must-never-be-logged';

const jwt = (claims) => signJwt(claims, { secret: JWT_SECRET });

function sign(secret, body) {
  const t = Math.floor(Date.now() / 1000);
  return `t=${t},v1=${crypto.createHmac('sha256', secret).update(`${t}.${body}`).digest('hex')}`;
}

// Publishes and subscribes with every kind of credential, good and bad; returns the
// credentials used, which the log must not contain.
async function exercise(server) {
  const token = jwt({ sub: 'alice', exp: Math.floor(Date.now() / 1000) + 3600, channels: ['/buckets/logs/collections/*'] });
  const badToken = jwt({ sub: 'mallory', exp: Math.floor(Date.now() / 1000) + 3600, channels: ['/buckets'] }).slice(0, -4) + 'AAAA';
  const col = collectionChannel('logs', 'c');
  const client = await Client.connect(server.wsUrl, { wsOptions: { headers: { Authorization: `Bearer ${token}` } } });
  await client.subscribe(col);
  const body = JSON.stringify({ events: [recordEvent({ bucket: 'logs', collection: 'c' }), recordEvent({ bucket: 'logs', collection: 'c' })] });
  assert.equal((await publish(server.url, body, { Authorization: `Bearer ${PUBLISH_SECRET}` })).status, 202);
  await client.events(col, 2);
  const signed = JSON.stringify(recordEvent({ bucket: 'logs', collection: 'c' }));
  assert.equal((await publish(server.url, signed, { 'Kinto-Push-Signature': sign(PUBLISH_SECRET, signed) })).status, 202);
  assert.equal((await publish(server.url, signed, { Authorization: `Bearer ${PUBLISH_SECRET}x` })).status, 401);
  const refused = await Client.connect(`${server.wsUrl}?access_token=${badToken}`, { welcome: false });
  assert.equal((await refused.waitClosed()).code, 4001);
  client.ws.close(1000);
  await client.waitClosed();
  // The server logs the close once its side of the handshake is over: wait for it (bounded).
  for (let i = 0; i < 200 && (server.log().match(/websocket\.close/g) ?? []).length < 2; i++) await delay(25);
  return [PUBLISH_SECRET, JWT_SECRET, token, badToken, `${PUBLISH_SECRET}x`];
}

function assertNoSecret(log, secrets) {
  for (const secret of secrets) assert.ok(!log.includes(secret), `the log contains a credential: ${secret.slice(0, 12)}…`);
  assert.ok(!/authorization/i.test(log), 'the log mentions an Authorization header');
}

const serverArgs = ['--publish-secret', PUBLISH_SECRET, '--jwt-secret', JWT_SECRET, '--log-level', 'trace'];

test('mozlog: every line is MozLog JSON; publish and connection lines carry their fields; no secret', async () => {
  const server = await startServer([...serverArgs, '--log-format', 'mozlog']);
  let secrets;
  try {
    secrets = await exercise(server);
  } finally {
    await server.stop();
  }
  const log = server.log();
  const lines = log.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l));
  assert.ok(lines.length >= 6, `${lines.length} lines`);
  const startedNs = BigInt(Date.now() - 60_000) * 1_000_000n;
  for (const line of lines) {
    assert.deepEqual(Object.keys(line).sort(),
      ['EnvVersion', 'Fields', 'Hostname', 'Logger', 'Pid', 'Severity', 'Timestamp', 'Type']);
    assert.ok(Number.isInteger(line.Timestamp) && BigInt(line.Timestamp) > startedNs, `Timestamp in ns: ${line.Timestamp}`);
    assert.equal(typeof line.Type, 'string');
    assert.equal(line.Logger, 'kinto-push');
    assert.equal(typeof line.Hostname, 'string');
    assert.equal(line.EnvVersion, '2.0');
    assert.ok(Number.isInteger(line.Severity) && line.Severity >= 0 && line.Severity <= 7);
    assert.equal(line.Pid, server.pid);
    assert.equal(typeof line.Fields, 'object');
  }
  const listening = lines.find((l) => l.Type === 'log' && /listening on/.test(l.Fields.msg));
  assert.equal(listening.Severity, 6, 'info is syslog 6');

  const publishes = lines.filter((l) => l.Type === 'publish');
  assert.deepEqual(publishes.map((l) => l.Fields.status), [202, 202, 401]);
  assert.deepEqual(publishes.map((l) => l.Fields.events), [2, 1, 0], 'a refused body is not read');
  assert.deepEqual(publishes.map((l) => l.Fields.channels), [6, 3, 0]);
  for (const p of publishes) {
    assert.equal(p.Fields.remote, '127.0.0.1');
    assert.equal(typeof p.Fields.duration_ms, 'number');
    assert.ok(p.Fields.duration_ms >= 0);
  }
  const opens = lines.filter((l) => l.Type === 'websocket.open');
  const closes = lines.filter((l) => l.Type === 'websocket.close');
  assert.equal(opens.length, 2);
  assert.equal(closes.length, 2);
  for (const open of opens) {
    assert.match(open.Fields.session, /^[0-9a-f]{16}$/);
    assert.equal(open.Fields.remote, '127.0.0.1');
  }
  const bySession = Object.fromEntries(closes.map((c) => [c.Fields.session, c.Fields]));
  assert.deepEqual(Object.keys(bySession).sort(), opens.map((o) => o.Fields.session).sort());
  const codes = closes.map((c) => [c.Fields.code, c.Fields.initiator]).sort();
  assert.deepEqual(codes, [[1000, 'client'], [4001, 'server']]);
  for (const c of closes) assert.ok(Number.isInteger(c.Fields.duration_ms) && c.Fields.duration_ms >= 0);

  assertNoSecret(log, secrets);
});

test('text: the same events as key=value lines, no secret', async () => {
  const server = await startServer([...serverArgs, '--log-format', 'text']);
  let secrets;
  try {
    secrets = await exercise(server);
  } finally {
    await server.stop();
  }
  const log = server.log();
  const publishes = log.split('\n').filter((l) => / info publish /.test(l));
  assert.equal(publishes.length, 3);
  assert.match(publishes[0], /publish channels=6 duration_ms=[\d.]+ events=2 remote=127\.0\.0\.1 status=202$/);
  assert.match(publishes[2], /status=401$/);
  assert.equal(log.split('\n').filter((l) => / info websocket\.close .*code=1000 /.test(l)).length, 1);
  assertNoSecret(log, secrets);
});
