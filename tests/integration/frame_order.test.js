'use strict';
// PROTOCOL.md section 3, "Order": a connection's frames are handled one after the other, in
// the order they arrive; the effect of a frame (an auth that changes the identity, a
// subscribe, an unsubscribe) and its reply come before anything done for a later frame. So
// an auth then a subscribe sent back to back is judged with the new credentials, and replies
// come in request order.

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const { startServer, connect, pool } = require('./support/server');
const { jwt, nowS } = require('./support/jwt');

const SECRET = 'frame-order-jwt-secret';
const token = (channels, sub = 'order') => jwt({ sub, exp: nowS() + 3600, channels }, { secret: SECRET });

// Concurrent connections: 100, or fewer when the file descriptor limit is low (each
// connection holds one descriptor here and one in the server, which has the same limit).
function concurrency() {
  try {
    const m = /^Max open files\s+(\d+)/m.exec(fs.readFileSync('/proc/self/limits', 'utf8'));
    if (m) return Math.max(1, Math.min(100, Math.floor((Number(m[1]) - 200) / 2)));
  } catch { /* not Linux: keep the default */ }
  return 100;
}

// Sends `frames` back to back: in one TCP write when `oneWrite`, else one ws.send each, all
// in the same tick.
function sendAll(client, frames, oneWrite) {
  const socket = client.ws._socket;
  if (oneWrite) socket.cork();
  for (const f of frames) client.send(f);
  if (oneWrite) socket.uncork();
}

// The frames carrying one of `ids`, in arrival order, once there are as many as `ids` or
// `timeoutMs` passed (then what arrived, and whether the connection closed).
function replies(client, ids, timeoutMs = 5_000) {
  const wanted = new Set(ids);
  const got = [];
  return new Promise((resolve) => {
    let timer;
    const done = () => {
      clearTimeout(timer);
      untap();
      resolve(got);
    };
    const untap = client.tap((f) => {
      if (f.id === undefined || !wanted.has(f.id)) return false;
      got.push(f);
      if (got.length === ids.length) done();
      return true;
    });
    timer = setTimeout(done, timeoutMs);
    client.closed.then(() => setImmediate(done));
  });
}

const describeReply = (f) => (f.type === 'error' ? `${f.id}:error:${f.code}` : `${f.id}:${f.type}`);

let server;
before(async () => {
  server = await startServer(['--jwt-secret', SECRET, '--shards', '2']);
});
after(async () => {
  await server?.stop();
});

test('1,000 connections: auth then subscribe back to back is judged with the new credentials', async (t) => {
  const X = '/buckets/order/collections/x';
  const tokenX = token([X]);
  const total = 1000;
  const width = concurrency();
  t.diagnostic(`${width} connections at a time`);
  const outcomes = new Map();   // "mode: replies" -> count
  let ok = 0;
  await pool(total, width, async (i) => {
    const oneWrite = i % 2 === 0;
    const mode = oneWrite ? 'one TCP write' : 'two ws.send';
    let outcome;
    const c = await connect(server.wsUrl);
    try {
      const answers = replies(c, ['a', 's']);
      sendAll(c, [{ type: 'auth', id: 'a', token: tokenX }, { type: 'subscribe', id: 's', channel: X }], oneWrite);
      const got = await answers;
      outcome = got.map(describeReply).join(', ') || 'nothing';
      if (c.closeInfo) outcome += ` (closed ${c.closeInfo.code})`;
      if (outcome === 'a:authenticated, s:subscribed') ok += 1;
    } finally {
      await c.close();
    }
    const key = `${mode}: ${outcome}`;
    outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
  });
  const summary = [...outcomes].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${n} × ${k}`).join('\n  ');
  // One diagnostic per line: the TAP reporter escapes newlines.
  t.diagnostic(`${ok}/${total} got authenticated then subscribed`);
  for (const [k, n] of outcomes) t.diagnostic(`  ${n} × ${k}`);
  assert.equal(ok, total, `${ok}/${total} connections got authenticated then subscribed; all outcomes:\n  ${summary}`);
});

test('a second auth then a subscribe back to back: judged with the second token, replies in frame order', async () => {
  const X = '/buckets/orderx/collections/a';
  const otherX = '/buckets/orderx/collections/b';
  const Y = '/buckets/ordery/collections/a';
  const c = await connect(server.wsUrl);
  try {
    const first = await c.request({ type: 'auth', token: token(['/buckets/orderx/collections/*'], 'first') });
    assert.deepEqual([first.type, first.sub], ['authenticated', 'first']);
    const subscribed = await c.subscribe(X);
    assert.equal(subscribed.type, 'subscribed', JSON.stringify(subscribed));

    // Now only Y is allowed: Y is subscribed, another channel of X's pattern is forbidden.
    const answers = replies(c, ['a2', 'y', 'x2']);
    sendAll(c, [
      { type: 'auth', id: 'a2', token: token([Y], 'second') },
      { type: 'subscribe', id: 'y', channel: Y },
      { type: 'subscribe', id: 'x2', channel: otherX },
    ], true);
    const got = await answers;
    assert.deepEqual(got.map(describeReply), ['a2:authenticated', 'y:subscribed', 'x2:error:forbidden']);
    assert.equal(got[0].sub, 'second');
    assert.equal(got[1].channel, Y);
  } finally {
    await c.close();
  }
});

test('replies come in request order for a burst mixing ping, auth, subscribe and unsubscribe', async (t) => {
  const A = (n) => `/buckets/burst/collections/c${n}`;
  const B = (n) => `/buckets/burst2/collections/c${n}`;
  const tokenA = token(['/buckets/burst/collections/*'], 'a');
  const tokenB = token(['/buckets/burst2/collections/*'], 'b');
  // [frame, expected reply] in order: the ids are the positions.
  const script = [
    [{ type: 'ping' }, 'pong'],
    [{ type: 'subscribe', channel: A(1) }, 'error:unauthorized'],   // no credentials yet
    [{ type: 'auth', token: tokenA }, 'authenticated'],
    [{ type: 'subscribe', channel: A(1) }, 'subscribed'],
    [{ type: 'ping' }, 'pong'],
    [{ type: 'subscribe', channel: A(2) }, 'subscribed'],
    [{ type: 'unsubscribe', channel: A(1) }, 'unsubscribed'],
    [{ type: 'auth', token: tokenB }, 'authenticated'],
    [{ type: 'subscribe', channel: B(3) }, 'subscribed'],
    [{ type: 'subscribe', channel: A(4) }, 'error:forbidden'],
    [{ type: 'unsubscribe', channel: A(2) }, 'unsubscribed'],
    [{ type: 'ping' }, 'pong'],
    [{ type: 'auth', token: tokenA }, 'authenticated'],
    [{ type: 'subscribe', channel: A(4) }, 'subscribed'],
    [{ type: 'unsubscribe', channel: B(3) }, 'unsubscribed'],
    [{ type: 'subscribe', channel: A(5) }, 'subscribed'],
    [{ type: 'unsubscribe', channel: A(5) }, 'unsubscribed'],
    [{ type: 'unsubscribe', channel: A(5) }, 'error:not_found'],
    [{ type: 'ping' }, 'pong'],
  ];
  const frames = script.map(([f], i) => ({ ...f, id: `r${i}` }));
  const expected = script.map(([, reply], i) => `r${i}:${reply}`);
  const ids = frames.map((f) => f.id);

  // The burst on 20 connections, in one TCP write on half of them.
  const runs = await pool(20, 20, async (i) => {
    const c = await connect(server.wsUrl);
    try {
      const answers = replies(c, ids);
      sendAll(c, frames, i % 2 === 0);
      return (await answers).map(describeReply);
    } finally {
      await c.close();
    }
  });
  const wrong = runs.filter((r) => JSON.stringify(r) !== JSON.stringify(expected));
  if (wrong.length) t.diagnostic(`${wrong.length}/20 bursts out of order; the first: ${wrong[0].join(', ')}`);
  assert.deepEqual(wrong[0] ?? expected, expected, `${wrong.length}/20 bursts answered otherwise`);
});
