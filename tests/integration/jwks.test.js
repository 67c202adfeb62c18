'use strict';
// --jwt-jwks-url: RS256/ES256 keys from a JWK Set served by a small HTTP server on 127.0.0.1,
// which rotates its keys while kinto-push runs: a new kid is fetched without a restart (the
// WebSocket upgrade, auth frame, SSE stream or history read naming it waits for that fetch),
// the cached keys verify while the endpoint is down, an unknown kid is then refused with a reason.
// Also --jwt-audience, --jwt-issuer and two --jwt-secret values (a rotation of HS256 secrets).

const { test } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const http = require('node:http');
const { startServer, Client, delay } = require('./support/server');
const { jwt, nowS } = require('./support/jwt');

const AUD = 'kinto-push-test';
const ISS = 'https://idp.test';
const OLD_SECRET = 'jwks-test-old-secret';
const NEW_SECRET = 'jwks-test-new-secret';
const CHANNEL = '/buckets/blog/collections/articles';

// A key pair with its public JWK named `kid`.
function keyPair(kid, type) {
  const { publicKey, privateKey } = type === 'rsa'
    ? crypto.generateKeyPairSync('rsa', { modulusLength: 2048 })
    : crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { kid, privateKey, alg: type === 'rsa' ? 'RS256' : 'ES256', jwk: { ...publicKey.export({ format: 'jwk' }), kid, use: 'sig' } };
}

// The identity provider: serves `keys` as a JWK Set at /jwks.json, counts the requests.
async function jwksServer() {
  const state = { keys: [], requests: 0 };
  const server = http.createServer((req, res) => {
    state.requests += 1;
    if (req.url !== '/jwks.json') {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ keys: state.keys.map((k) => k.jwk) }));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${server.address().port}/jwks.json`;
  state.stop = () => new Promise((resolve) => {
    server.closeAllConnections();
    server.close(resolve);
  });
  return state;
}

function claims(extra = {}) {
  return { sub: 'alice', exp: nowS() + 600, aud: AUD, iss: ISS, channels: ['/buckets/blog/collections/*'], ...extra };
}

function signed(key, extra = {}) {
  return jwt(claims(extra), { privateKey: key.privateKey, alg: key.alg, header: { kid: key.kid } });
}

// Connects with `token` in the upgrade: the welcome, or the close code and reason.
async function upgrade(server, token) {
  const c = await Client.connect(server.wsUrl, { welcome: false, wsOptions: { headers: { Authorization: `Bearer ${token}` } } });
  try {
    await c.next('welcome');
  } catch {
    const closed = await c.waitClosed(5_000);
    return { ok: false, code: closed.code, reason: closed.reason };
  }
  const answer = await c.subscribe(CHANNEL);
  await c.close();
  return { ok: true, subscribed: answer.type };
}

// Bounded wait for a line of the server's log.
async function logShows(server, pattern, what) {
  for (let i = 0; i < 100; i += 1) {
    if (pattern.test(server.log())) return;
    await delay(50);
  }
  assert.fail(`the log never showed ${what}:\n${server.log().slice(-2000)}`);
}

test('JWKS keys rotate without a restart, and serve while the endpoint is down', async () => {
  const idp = await jwksServer();
  const keyA = keyPair('key-a', 'rsa');
  const keyB = keyPair('key-b', 'ec');
  const keyC = keyPair('key-c', 'rsa');
  idp.keys = [keyA];
  const server = await startServer(['--jwt-jwks-url', idp.url, '--jwt-jwks-refresh-min', '1',
    '--jwt-audience', AUD, '--jwt-issuer', ISS, '--log-level', 'debug']);
  try {
    await logShows(server, /JWKS .*: keys key-a \(RS256\)/, 'the first fetch');
    assert.match(server.log(), /subscriber authentication: JWT \(RS256\/ES256 from a JWKS\)/);
    assert.deepEqual(await upgrade(server, signed(keyA)), { ok: true, subscribed: 'subscribed' });

    // The provider rotates to B (EC, a new kid). An auth frame naming B waits for the fetch.
    idp.keys = [keyB];
    await delay(1_100);   // --jwt-jwks-refresh-min since the first fetch
    const client = await Client.connect(server.wsUrl, { wsOptions: { headers: { Authorization: `Bearer ${signed(keyA)}` } } });
    const answer = await client.request({ type: 'auth', token: signed(keyB, { sub: 'bob' }) });
    assert.equal(answer.type, 'authenticated', JSON.stringify(answer));
    assert.equal(answer.sub, 'bob');
    await client.close();
    assert.deepEqual(await upgrade(server, signed(keyB)), { ok: true, subscribed: 'subscribed' });
    // A is gone from the set.
    const gone = await upgrade(server, signed(keyA));
    assert.deepEqual(gone, { ok: false, code: 4001, reason: 'invalid credentials: token signing key (kid) unknown' });

    // Rotated again, to C: the first upgrade naming C waits for the fetch it starts, and is
    // taken (a client whose provider just rotated is not turned away).
    idp.keys = [keyC];
    await delay(1_100);
    let fetches = idp.requests;
    assert.deepEqual(await upgrade(server, signed(keyC)), { ok: true, subscribed: 'subscribed' });
    assert.equal(idp.requests, fetches + 1, 'one fetch for the new kid');

    // The same for an SSE stream and a history read naming a kid just published (E, then F).
    const keyE = keyPair('key-e', 'ec');
    const keyF = keyPair('key-f', 'rsa');
    idp.keys = [keyC, keyE];
    await delay(1_100);
    const stream = new AbortController();
    const sse = await fetch(`${server.url}/v1/sse?channel=${encodeURIComponent(CHANNEL)}`,
      { headers: { Authorization: `Bearer ${signed(keyE)}` }, signal: stream.signal });
    assert.equal(sse.status, 200);
    assert.equal(sse.headers.get('content-type'), 'text/event-stream');
    stream.abort();
    idp.keys = [keyC, keyE, keyF];
    await delay(1_100);
    fetches = idp.requests;
    const history = await fetch(`${server.url}/v1/history?channel=${encodeURIComponent(CHANNEL)}`,
      { headers: { Authorization: `Bearer ${signed(keyF)}` } });
    assert.equal(history.status, 200, await history.clone().text());
    assert.equal((await history.json()).channel, CHANNEL);
    assert.equal(idp.requests, fetches + 1);

    // The endpoint goes away: C, cached, still verifies; an unknown kid is refused, saying why.
    const before = idp.requests;
    await idp.stop();
    await delay(1_100);
    assert.deepEqual(await upgrade(server, signed(keyC)), { ok: true, subscribed: 'subscribed' });
    const keyD = keyPair('key-d', 'ec');
    const c2 = await Client.connect(server.wsUrl, { wsOptions: { headers: { Authorization: `Bearer ${signed(keyC)}` } } });
    const refused = await c2.request({ type: 'auth', token: signed(keyD) });
    assert.equal(refused.type, 'error');
    assert.equal(refused.code, 'unauthorized');
    assert.equal(refused.message, 'invalid credentials: token signing key (kid) unknown; the key set (JWKS) cannot be fetched');
    await delay(1_100);
    const again = await c2.request({ type: 'auth', token: signed(keyD) });
    assert.equal(again.message, refused.message);
    await c2.close();
    assert.equal(idp.requests, before, 'nothing reached the stopped endpoint');
    assert.deepEqual(await upgrade(server, signed(keyC)), { ok: true, subscribed: 'subscribed' });
    // The outage is logged once, however many fetches failed.
    assert.equal(server.log().match(/cannot be fetched \(no answer\)/g)?.length, 1, server.log().slice(-3000));

    // Audience and issuer, checked on JWKS tokens as on any.
    assert.deepEqual(await upgrade(server, signed(keyC, { aud: ['other', 'another'] })),
      { ok: false, code: 4001, reason: 'invalid credentials: token audience (aud) not accepted' });
    assert.deepEqual(await upgrade(server, signed(keyC, { aud: ['other', AUD] })), { ok: true, subscribed: 'subscribed' });
    assert.deepEqual(await upgrade(server, signed(keyC, { iss: 'https://elsewhere.test' })),
      { ok: false, code: 4001, reason: 'invalid credentials: token issuer (iss) not accepted' });
    // The header cannot pick another algorithm for a key: an RS256 token under the EC key's kid.
    const mismatched = jwt(claims(), { privateKey: keyC.privateKey, alg: 'RS256', header: { kid: 'key-b' } });
    assert.equal((await upgrade(server, mismatched)).code, 4001);
  } finally {
    await server.stop();
    await idp.stop().catch(() => {});
  }
});

test('two HS256 secrets are both accepted during a rotation; audience and issuer refusals say why', async () => {
  const server = await startServer(['--jwt-secret', OLD_SECRET, '--jwt-secret', NEW_SECRET,
    '--jwt-audience', AUD, '--jwt-issuer', ISS]);
  try {
    assert.match(server.log(), /JWT \(HS256 with 2 secrets\)/);
    assert.deepEqual(await upgrade(server, jwt(claims(), { secret: OLD_SECRET })), { ok: true, subscribed: 'subscribed' });
    assert.deepEqual(await upgrade(server, jwt(claims(), { secret: NEW_SECRET })), { ok: true, subscribed: 'subscribed' });
    assert.deepEqual(await upgrade(server, jwt(claims(), { secret: 'a-third-secret' })),
      { ok: false, code: 4001, reason: 'invalid credentials: invalid token signature' });
    const noAud = claims();
    delete noAud.aud;
    assert.deepEqual(await upgrade(server, jwt(noAud, { secret: NEW_SECRET })),
      { ok: false, code: 4001, reason: 'invalid credentials: token audience (aud) not accepted' });
    assert.deepEqual(await upgrade(server, jwt(claims({ iss: 'https://elsewhere.test' }), { secret: OLD_SECRET })),
      { ok: false, code: 4001, reason: 'invalid credentials: token issuer (iss) not accepted' });
    // SSE says the same.
    const res = await fetch(`${server.url}/v1/sse?channel=${encodeURIComponent(CHANNEL)}`,
      { headers: { Authorization: `Bearer ${jwt(claims({ aud: 'other' }), { secret: OLD_SECRET })}` } });
    assert.equal(res.status, 401);
    assert.equal((await res.json()).message, 'invalid credentials: token audience (aud) not accepted');
    assert.ok(!server.log().includes(OLD_SECRET) && !server.log().includes(NEW_SECRET));
  } finally {
    await server.stop();
  }
});
