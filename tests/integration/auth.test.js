'use strict';
// Publisher and subscriber authentication, and TLS, against the real server: signed
// publishing, public channels, JWT (HS256, RS256), Kinto delegation against a stand-in Kinto,
// wss with a certificate made at test time.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const WebSocket = require('ws');
const {
  startServer, connect, publish, getJSON, recordEvent, collectionChannel, Client, withTimeout, delay,
} = require('./support/server');
const { makeCertificate } = require('./support/tls');
const { jwt, nowS, b64url } = require('./support/jwt');

function sign(secret, body, t = nowS()) {
  return `t=${t},v1=${crypto.createHmac('sha256', secret).update(`${t}.${body}`).digest('hex')}`;
}

async function connectWith(server, options = {}) {
  const { query = '', headers } = options;
  return Client.connect(`${server.wsUrl}${query}`, { welcome: false, wsOptions: { headers } });
}

test('signed publishing: valid, wrong secret, altered body, expired, replayed; bearer still works', async () => {
  const secret = 'kinto-shared-secret';
  const server = await startServer(['--publish-secret', secret]);
  try {
    const body = JSON.stringify(recordEvent({ bucket: 'sig', collection: 'c' }));
    const header = sign(secret, body);
    let res = await publish(server.url, body, { 'Kinto-Push-Signature': header });
    assert.equal(res.status, 202, res.text);

    res = await publish(server.url, body, { 'Kinto-Push-Signature': header });
    assert.equal(res.status, 401);
    assert.equal(res.body.errno, 105);
    assert.match(res.body.message, /already used/);

    const other = JSON.stringify(recordEvent({ bucket: 'sig', collection: 'c' }));
    res = await publish(server.url, other, { 'Kinto-Push-Signature': sign('wrong-secret', other) });
    assert.equal(res.status, 401);
    assert.match(res.body.message, /invalid signature/);

    res = await publish(server.url, other + ' ', { 'Kinto-Push-Signature': sign(secret, other) });
    assert.equal(res.status, 401, 'the signature covers the raw body');

    res = await publish(server.url, other, { 'Kinto-Push-Signature': sign(secret, other, nowS() - 301) });
    assert.equal(res.status, 401);
    assert.match(res.body.message, /window/);

    res = await publish(server.url, other, { 'Kinto-Push-Signature': 'v1=abc' });
    assert.equal(res.status, 401);

    res = await publish(server.url, other, { Authorization: `Bearer ${secret}` });
    assert.equal(res.status, 202, 'the bearer secret works alongside signatures');

    const info = (await getJSON(server.url, '/v1/')).body;
    assert.ok(info.capabilities.includes('signed-publishing'));
  } finally {
    await server.stop();
  }
});

test('public channels open matching channels only, never the firehose', async () => {
  const server = await startServer(['--public-channels', '/buckets/main/collections/*']);
  try {
    const client = await connectWith(server);
    await client.next((f) => f.type === 'welcome');
    const ok = await client.subscribe('/buckets/main/collections/monitor');
    assert.equal(ok.type, 'subscribed');
    for (const channel of ['/buckets/main', '/buckets', '/buckets/other/collections/monitor']) {
      const refused = await client.subscribe(channel);
      assert.equal(refused.type, 'error');
      assert.equal(refused.code, 'unauthorized', channel);
    }
    // The refusals changed nothing: the public subscription still delivers.
    await publish(server.url, recordEvent({ bucket: 'main', collection: 'monitor' }));
    const [event] = await client.events('/buckets/main/collections/monitor', 1);
    assert.equal(event.offset, 1);
    await client.close();
  } finally {
    await server.stop();
  }
  await assert.rejects(startServer(['--public-channels', '/buckets']), /firehose/);
});

test('JWT (HS256): channels claim, firehose claim, upgrade header and access_token, refusals close with 4001', async () => {
  const secret = 'jwt-secret-for-tests';
  const server = await startServer(['--jwt-secret', secret]);
  try {
    const token = jwt({ sub: 'alice', exp: nowS() + 3600, channels: ['/buckets/blog/collections/*'] }, { secret });
    const client = await connectWith(server, { headers: { Authorization: `Bearer ${token}` } });
    await client.next((f) => f.type === 'welcome');
    assert.equal((await client.subscribe(collectionChannel('blog', 'articles'))).type, 'subscribed');
    const refused = await client.subscribe('/buckets/blog');
    assert.equal(refused.code, 'forbidden');
    assert.equal((await client.subscribe('/buckets')).code, 'forbidden');
    await client.close();

    const firehose = jwt({ sub: 'dashboard', exp: nowS() + 3600, channels: ['/buckets'] }, { secret });
    const admin = await connectWith(server, { query: `?access_token=${firehose}` });
    await admin.next((f) => f.type === 'welcome');
    assert.equal((await admin.subscribe('/buckets')).type, 'subscribed');
    await admin.close();

    const none = await connectWith(server);
    await none.next((f) => f.type === 'welcome');
    assert.equal((await none.subscribe(collectionChannel('blog', 'articles'))).code, 'unauthorized');
    await none.close();

    // GET /v1/history: the same authorization as subscribing.
    assert.equal((await fetch(`${server.url}/v1/history?channel=${encodeURIComponent(collectionChannel('blog', 'articles'))}`)).status, 401);
    let res = await fetch(`${server.url}/v1/history?channel=${encodeURIComponent(collectionChannel('blog', 'articles'))}`,
      { headers: { Authorization: `Bearer ${token}` } });
    assert.equal(res.status, 200);
    res = await fetch(`${server.url}/v1/history?channel=${encodeURIComponent(collectionChannel('blog', 'articles'))}&access_token=${token}`);
    assert.equal(res.status, 200);
    res = await fetch(`${server.url}/v1/history?channel=%2Fbuckets%2Fblog`, { headers: { Authorization: `Bearer ${token}` } });
    assert.equal(res.status, 403);
    assert.equal((await res.json()).errno, 121);
    res = await fetch(`${server.url}/v1/history?channel=%2Fbuckets%2Fblog`, { headers: { Authorization: 'Bearer garbage.x.y' } });
    assert.equal(res.status, 401);

    const bad = {
      expired: jwt({ exp: nowS() - 120, channels: ['/buckets'] }, { secret }),
      'not yet valid': jwt({ exp: nowS() + 3600, nbf: nowS() + 600, channels: ['/buckets'] }, { secret }),
      tampered: token.replace(/\.[^.]+\./, `.${b64url(JSON.stringify({ sub: 'alice', exp: nowS() + 3600, channels: ['/buckets'] }))}.`),
      'alg none': jwt({ exp: nowS() + 3600, channels: ['/buckets'] }, { alg: 'none' }),
      'wrong secret': jwt({ exp: nowS() + 3600 }, { secret: 'another' }),
      'no exp': jwt({ channels: ['/buckets'] }, { secret }),
      garbage: 'not.a.jwt',
    };
    for (const [what, value] of Object.entries(bad)) {
      const c = await connectWith(server, { headers: { Authorization: `Bearer ${value}` } });
      const closed = await c.waitClosed(5_000);
      assert.equal(closed.code, 4001, what);
    }
  } finally {
    await server.stop();
  }
});

test('JWT: auth frames, expiry closes with 4001, a fresh token keeps the connection', async () => {
  const secret = 'jwt-secret-for-tests';
  const server = await startServer(['--jwt-secret', secret]);
  try {
    const client = await connectWith(server);
    await client.next((f) => f.type === 'welcome');
    let answer = await client.request({ type: 'auth', token: 'garbage' });
    assert.equal(answer.type, 'error');
    assert.equal(answer.code, 'unauthorized');
    // Expires within the 30 s leeway: accepted, and the connection ends about 2 s from now.
    const soon = nowS() - 28;
    answer = await client.request({ type: 'auth', token: jwt({ sub: 'bob', exp: soon, channels: ['/buckets/b'] }, { secret }) });
    assert.deepEqual([answer.type, answer.sub, answer.expires], ['authenticated', 'bob', soon]);
    assert.equal((await client.subscribe('/buckets/b')).type, 'subscribed');
    const fresh = nowS() + 3600;
    answer = await client.request({ type: 'auth', token: jwt({ sub: 'bob', exp: fresh, channels: ['/buckets/b'] }, { secret }) });
    assert.equal(answer.expires, fresh);

    const expiring = await connectWith(server, { headers: { Authorization: `Bearer ${jwt({ sub: 'eve', exp: nowS() - 28, channels: ['/buckets/b'] }, { secret })}` } });
    await expiring.next((f) => f.type === 'welcome');
    const closed = await expiring.waitClosed(6_000);
    assert.equal(closed.code, 4001, 'an expired token closes the connection');
    await delay(500);
    assert.equal(client.closeInfo, null, 'the refreshed connection stays open');
    assert.equal((await client.request({ type: 'ping' })).type, 'pong');
    await client.close();
  } finally {
    await server.stop();
  }
});

test('JWT (RS256): a public key verifies RS256 and refuses HS256 tokens made with it', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kinto-push-jwt-'));
  const { publicKey, privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pem = publicKey.export({ type: 'spki', format: 'pem' });
  fs.writeFileSync(path.join(dir, 'public.pem'), pem);
  const server = await startServer(['--jwt-public-key', path.join(dir, 'public.pem')]);
  try {
    const good = jwt({ sub: 'carol', exp: nowS() + 60, channels: ['/buckets/x'] }, { privateKey, alg: 'RS256' });
    const client = await connectWith(server, { headers: { Authorization: `Bearer ${good}` } });
    await client.next((f) => f.type === 'welcome');
    assert.equal((await client.subscribe('/buckets/x')).type, 'subscribed');
    await client.close();
    const confused = jwt({ exp: nowS() + 60, channels: ['/buckets'] }, { secret: pem, alg: 'HS256' });
    const c = await connectWith(server, { headers: { Authorization: `Bearer ${confused}` } });
    assert.equal((await c.waitClosed()).code, 4001);
  } finally {
    await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

// A stand-in Kinto: users by Authorization header, readable objects per user.
function standInKinto({ slowPath } = {}) {
  const users = { 'Basic YWxpY2U6cw==': 'account:alice', 'Bearer bob-token': 'account:bob' };
  const readable = { 'account:alice': ['/v1/buckets/blog', '/v1/buckets/blog/collections/articles'] };
  const calls = [];
  const server = http.createServer((req, res) => {
    calls.push(`${req.method} ${req.url}`);
    const user = users[req.headers.authorization];
    const send = (status, body) => {
      res.writeHead(status, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (slowPath && req.url === slowPath) return;   // never answers
    if (req.url === '/v1/') return send(200, user ? { user: { id: user } } : { project_name: 'kinto' });
    if (!user) return send(401, { code: 401, errno: 104, error: 'Unauthorized' });
    if (req.url === '/v1/buckets/secret') return send(403, { code: 403, errno: 121, error: 'Forbidden' });
    if ((readable[user] || []).includes(req.url)) return send(200, { data: {} });
    return send(404, { code: 404, errno: 111, error: 'Not Found' });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({
    url: `http://127.0.0.1:${server.address().port}/v1`, calls,
    close: () => new Promise((r) => { server.closeAllConnections(); server.close(r); }),
  })));
}

test('Kinto delegation: 200 allows, 401/403/404 refuse, cache hits, slow and down Kinto', async () => {
  const kinto = await standInKinto({ slowPath: '/v1/buckets/slow' });
  const server = await startServer(['--kinto-url', kinto.url]);
  try {
    const alice = await connectWith(server, { headers: { Authorization: 'Basic YWxpY2U6cw==' } });
    await alice.next((f) => f.type === 'welcome');
    assert.equal((await alice.subscribe(collectionChannel('blog', 'articles'))).type, 'subscribed');
    assert.equal((await alice.subscribe('/buckets/blog')).type, 'subscribed');
    assert.equal((await alice.subscribe('/buckets/secret')).code, 'forbidden');
    assert.equal((await alice.subscribe('/buckets/other')).code, 'forbidden', '404 refuses');
    assert.equal((await alice.subscribe('/buckets')).code, 'forbidden', 'the firehose is never delegated');
    const authenticated = await alice.request({ type: 'auth', token: 'Basic YWxpY2U6cw==' });
    assert.equal(authenticated.sub, 'account:alice', JSON.stringify(authenticated));
    assert.equal(authenticated.expires, null);

    // The same credential on another connection: answered from the cache.
    const before = kinto.calls.filter((c) => c.includes('/collections/articles')).length;
    const again = await connectWith(server, { headers: { Authorization: 'Basic YWxpY2U6cw==' } });
    await again.next((f) => f.type === 'welcome');
    assert.equal((await again.subscribe(collectionChannel('blog', 'articles'))).type, 'subscribed');
    assert.equal(kinto.calls.filter((c) => c.includes('/collections/articles')).length, before, 'cache hit: Kinto not called');
    await again.close();

    const mallory = await connectWith(server, { headers: { Authorization: 'Basic bWFsbG9yeTpw' } });
    await mallory.next((f) => f.type === 'welcome');
    assert.equal((await mallory.subscribe('/buckets/blog')).code, 'unauthorized', '401 refuses');
    assert.equal((await mallory.request({ type: 'auth', token: 'Basic bWFsbG9yeTpw' })).code, 'unauthorized');
    await mallory.close();

    // Slow Kinto: an `unavailable` error within the client timeout, and the connection stays usable.
    const started = Date.now();
    const slow = await alice.subscribe('/buckets/slow', undefined, 10_000);
    assert.equal(slow.code, 'unavailable');
    assert.ok(Date.now() - started < 9_000);
    assert.equal((await alice.request({ type: 'ping' })).type, 'pong');
    await alice.close();
  } finally {
    // The stand-in Kinto is closed even when the server's stop fails (a sanitizer report):
    // left open, it would keep this test file's process alive.
    try {
      await server.stop();
    } finally {
      await kinto.close();
    }
  }

  // Kinto down: a closed port answers at once.
  const down = await startServer(['--kinto-url', 'http://127.0.0.1:9/v1']);
  try {
    const c = await connectWith(down, { headers: { Authorization: 'Basic YWxpY2U6cw==' } });
    await c.next((f) => f.type === 'welcome');
    assert.equal((await c.subscribe('/buckets/blog')).code, 'unavailable');
    await c.close();
  } finally {
    await down.stop();
  }
});

test('TLS: wss and https with a certificate made at test time; a plaintext client fails cleanly', async () => {
  const { dir, cert, key, ca } = makeCertificate();
  const server = await startServer(['--tls-cert', cert, '--tls-key', key]);
  try {
    const port = server.port;
    const ws = new WebSocket(`wss://127.0.0.1:${port}/v1/ws`, { ca });
    const client = new Client(ws);
    await client.next((f) => f.type === 'welcome');
    assert.equal((await client.subscribe(collectionChannel('tls', 'c'))).type, 'subscribed');

    const body = JSON.stringify(recordEvent({ bucket: 'tls', collection: 'c' }));
    const status = await new Promise((resolve, reject) => {
      const req = require('node:https').request({ host: '127.0.0.1', port, path: '/v1/events', method: 'POST', ca,
        headers: { 'Content-Type': 'application/json' } }, (res) => { res.resume(); resolve(res.statusCode); });
      req.on('error', reject);
      req.end(body);
    });
    assert.equal(status, 202);
    assert.equal((await client.events(collectionChannel('tls', 'c'), 1))[0].offset, 1);
    await client.close();

    const plain = await withTimeout(fetch(`http://127.0.0.1:${port}/v1/`), 5_000, 'plaintext request');
    assert.equal(plain.status, 400);
    assert.match((await plain.json()).message, /TLS/);

    const info = await new Promise((resolve, reject) => {
      require('node:https').get({ host: '127.0.0.1', port, path: '/v1/', ca }, (res) => {
        let text = ''; res.on('data', (c) => { text += c; }); res.on('end', () => resolve(JSON.parse(text)));
      }).on('error', reject);
    });
    assert.ok(info.capabilities.includes('tls'));

    // SIGHUP reloads the certificate: new connections get the new one.
    const fingerprint = () => new Promise((resolve, reject) => {
      const socket = require('node:tls').connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
        resolve(socket.getPeerCertificate().fingerprint256);
        socket.end();
      });
      socket.on('error', reject);
    });
    const before = await fingerprint();
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
      '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=renewed'], { stdio: 'ignore' });
    process.kill(server.pid, 'SIGHUP');
    let after = before;
    for (let i = 0; i < 50 && after === before; i++) {
      await delay(100);
      after = await fingerprint();
    }
    assert.notEqual(after, before, 'a new certificate after SIGHUP');
    assert.ok(server.alive());
  } finally {
    await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
