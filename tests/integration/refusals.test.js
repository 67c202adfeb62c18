'use strict';
// Refusals that say why, against the real server: a refused JWT names its reason (never the
// token) in the 4001 close, the `error` frame, the SSE refusal, /v1/history and the log.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const {
  startServer, Client, collectionChannel, delay,
} = require('./support/server');
const { jwt, nowS, b64url } = require('./support/jwt');

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
