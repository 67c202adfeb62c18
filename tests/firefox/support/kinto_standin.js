'use strict';
// A stand-in for Kinto / Remote Settings on 127.0.0.1:0, for the real-Firefox test: it
// answers what Firefox's Remote Settings client asks at start-up and on a push (JSON with
// Content-Type application/json and a Date header, as Firefox requires) and records every
// request, so that a test can wait for one.

const http = require('node:http');

// Starts the stand-in; resolves with {url (…/v1), requests, waitFor(predicate, ms), close()}.
async function startKintoStandin() {
  const requests = [];   // {method, path, query (URLSearchParams), at}
  let waiters = [];

  function answer(res, status, body) {
    const text = JSON.stringify(body);
    res.writeHead(status, {
      'Content-Type': 'application/json',
      'Content-Length': Buffer.byteLength(text),
      Date: new Date().toUTCString(),
      'Cache-Control': 'no-cache',
    });
    res.end(text);
  }

  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://127.0.0.1');
    const entry = { method: req.method, path: url.pathname, query: url.searchParams, at: Date.now() };
    requests.push(entry);
    for (const w of waiters.filter((x) => x.predicate(entry))) {
      clearTimeout(w.timer);
      w.resolve(entry);
    }
    waiters = waiters.filter((x) => !x.predicate(entry));
    req.resume();
    if (url.pathname === '/v1/' || url.pathname === '/v1') {
      return answer(res, 200, { project_name: 'kinto-standin', http_api_version: '1.22', capabilities: {}, settings: {} });
    }
    // Every changeset (monitor/changes and any collection): nothing changed. The timestamp
    // is what Firefox was told to expect, or 1.
    if (url.pathname.endsWith('/changeset')) {
      const expected = Number(url.searchParams.get('_expected')) || 1;
      return answer(res, 200, { metadata: {}, timestamp: expected, changes: [] });
    }
    answer(res, 404, { code: 404, errno: 111, error: 'Not Found', message: 'stand-in' });
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address();

  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    // The first recorded or later request matching `predicate`, within `timeoutMs`.
    waitFor(predicate, timeoutMs, what = 'a request') {
      const seen = requests.find(predicate);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const waiter = { predicate, resolve };
        waiter.timer = setTimeout(() => {
          waiters = waiters.filter((x) => x !== waiter);
          const last = requests.slice(-5).map((r) => `${r.method} ${r.path}?${r.query}`).join('\n  ');
          reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last requests:\n  ${last}`));
        }, timeoutMs);
        waiters.push(waiter);
      });
    },
    close() {
      for (const w of waiters) clearTimeout(w.timer);
      server.closeAllConnections();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}

module.exports = { startKintoStandin };
