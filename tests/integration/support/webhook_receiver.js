'use strict';
// A webhook target on 127.0.0.1 for the tests: records every request (headers, body, when)
// and answers as the test says: a status per request, a delay, silence, a huge body, a redirect.

const http = require('node:http');

// `answer(req, index)` returns what to do with the index-th request (0-based):
//   a number (status), or {status, delayMs, body, headers, hang: true (never answer)}.
async function startReceiver(answer = () => 200) {
  const requests = [];
  const waiters = [];
  const sockets = new Set();
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const index = requests.length;
      const record = { method: req.method, url: req.url, headers: req.headers, body, at: Date.now() };
      try { record.json = JSON.parse(body); } catch { record.json = undefined; }
      let plan = answer(record, index);
      if (typeof plan === 'number') plan = { status: plan };
      record.status = plan.hang ? null : plan.status;
      requests.push(record);
      for (const w of [...waiters]) w();
      if (plan.hang) return;   // never answers; the socket stays open
      const send = () => {
        res.writeHead(plan.status, { 'content-type': 'text/plain', ...(plan.headers ?? {}) });
        res.end(plan.body ?? '');
      };
      if (plan.delayMs) setTimeout(send, plan.delayMs);
      else send();
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.keepAliveTimeout = 60_000;
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}/hook`,
    port,
    requests,
    connections: () => sockets.size,
    setAnswer(fn) { answer = fn; },
    // Resolves once `predicate(requests)` holds, or rejects after `ms`.
    until(predicate, ms = 10_000, what = 'webhook requests') {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (!predicate(requests)) return false;
          clearTimeout(timer);
          waiters.splice(waiters.indexOf(check), 1);
          resolve(requests);
          return true;
        };
        const timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(check), 1);
          reject(new Error(`timed out after ${ms} ms waiting for ${what}; got ${requests.length}: ` +
            JSON.stringify(requests.map((r) => [r.status, r.json?.type, r.headers['webhook-id']]))));
        }, ms);
        waiters.push(check);
        check();
      });
    },
    close() {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}

// The offsets of the events a request carried (one event, a batch, none for a resync).
function offsetsOf(record) {
  const j = record.json;
  if (!j) return [];
  if (j.type === 'kinto.event') return [j.data.offset];
  if (j.type === 'kinto.events') return j.data.map((e) => e.offset);
  return [];
}

module.exports = { startReceiver, offsetsOf };
