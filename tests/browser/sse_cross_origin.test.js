'use strict';
// Server-Sent Events in Debian's Chromium (playwright-core, /usr/bin/chromium), from a page on
// ANOTHER origin: a small static server on another port of 127.0.0.1 serves the page; in it, a
// bare `EventSource` on /v1/sse and the JS client's SSE transport (imported cross-origin from
// the server's /kinto-push.js, which imports /kinto-push-sse.js: both need --cors-origins)
// receive events, then resume after a restart of the SQLite server on the same port (the
// EventSource by itself, with Last-Event-ID; the client from its own positions): no hole, no
// duplicate. From an origin --allowed-origins does not list, the stream is refused (403 before
// any stream, unreadable by the page): the EventSource fails for good, the client never opens.

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { launchChromium, startOtherOriginPage } = require('./support/browser');
const { startServer, publishOk, recordEvent, collectionChannel } = require('../integration/support/server');

const CHANNEL = collectionChannel('ssebrowser', 'articles');
const WAIT_MS = 20_000;

let browser;
let pageServer;
let pageOrigin;

before(async () => {
  pageServer = await startOtherOriginPage();
  pageOrigin = pageServer.origin;
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await pageServer?.close();
});

async function openPage() {
  const context = await browser.newContext();
  const tab = await context.newPage();
  const console = [];
  tab.on('console', (m) => console.push(`${m.type()}: ${m.text()}`));
  tab.on('pageerror', (e) => console.push(`pageerror: ${e.message}`));
  await tab.goto(`${pageOrigin}/index.html`, { timeout: 15_000 });
  assert.equal(await tab.evaluate(() => window.location.origin), pageOrigin);
  return { tab, console, close: () => context.close() };
}

// In the page: a bare EventSource and the JS client over SSE, both on `channel`; what they
// receive is kept in window.seen.
function startReaders(tab, serverUrl, channel) {
  return tab.evaluate(async ({ serverUrl, channel }) => {
    const seen = { es: [], esSubscribed: [], esErrors: [], esOpens: 0, client: [], clientMeta: [], resyncs: [], connects: 0 };
    window.seen = seen;
    const es = new EventSource(`${serverUrl}/v1/sse?channel=${encodeURIComponent(channel)}`);
    window.es = es;
    es.onopen = () => { seen.esOpens += 1; };
    es.addEventListener('subscribed', (e) => seen.esSubscribed.push(JSON.parse(e.data)));
    es.onmessage = (e) => seen.es.push({ offset: JSON.parse(e.data).offset, id: e.lastEventId });
    es.addEventListener('error', (e) => { if (e.data) seen.esErrors.push(JSON.parse(e.data)); });

    const { KintoPushClient } = await import(`${serverUrl}/kinto-push.js`);
    const client = new KintoPushClient(serverUrl, { transport: 'sse', backoff: { initialMs: 100, maxMs: 1000 } });
    window.client = client;
    client.on('connect', () => { seen.connects += 1; });
    client.on('resync', (r) => seen.resyncs.push(r));
    const subscribed = await client.subscribe(channel, (event, meta) => {
      seen.client.push(event.offset);
      seen.clientMeta.push(meta.replay);
    });
    return { transport: client.transport, subscribed };
  }, { serverUrl, channel });
}

function waitCounts(tab, n) {
  return tab.waitForFunction((n) => window.seen.es.length >= n && window.seen.client.length >= n, n, { timeout: WAIT_MS })
    .catch(async (e) => {
      const seen = await tab.evaluate(() => window.seen);
      throw new Error(`waiting for ${n} events in the page: ${e.message.split('\n')[0]}; seen ${JSON.stringify(seen)}`);
    });
}

const range = (from, to) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

test('a page on another origin: EventSource and the client over SSE receive, and resume after a restart with no hole and no duplicate', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kinto-push-sse-browser-'));
  const store = `sqlite:${path.join(dir, 'h.sqlite3')}`;
  const origins = ['--cors-origins', pageOrigin, '--allowed-origins', pageOrigin];
  let server = await startServer(['--store', store, ...origins]);
  const port = server.port;
  const { tab, console, close } = await openPage();
  const event = () => recordEvent({ bucket: 'ssebrowser', collection: 'articles' });
  try {
    const started = await startReaders(tab, server.url, CHANNEL);
    assert.equal(started.transport, 'sse');
    assert.deepEqual(started.subscribed, { type: 'subscribed', channel: CHANNEL, epoch: started.subscribed.epoch, offset: 0, recovered: true });
    const epoch = started.subscribed.epoch;
    await tab.waitForFunction(() => window.seen.esSubscribed.length === 1, null, { timeout: WAIT_MS });

    for (let i = 0; i < 3; i++) await publishOk(server.url, event());
    await waitCounts(tab, 3);
    let seen = await tab.evaluate(() => window.seen);
    assert.deepEqual(seen.es, range(1, 3).map((o) => ({ offset: o, id: `${epoch}_${o}` })));
    assert.deepEqual(seen.client, [1, 2, 3]);

    // The server stops (event: error shutdown); another instance stores 4 events on the same
    // file while the port is free; the server comes back on the same port; 2 more.
    await server.stop();
    await tab.waitForFunction(() => window.seen.esErrors.length === 1, null, { timeout: WAIT_MS });
    const elsewhere = await startServer(['--store', store]);
    for (let i = 0; i < 4; i++) await publishOk(elsewhere.url, event());
    await elsewhere.stop();
    server = await startServer(['--store', store, ...origins], { port });
    for (let i = 0; i < 2; i++) await publishOk(server.url, event());
    await waitCounts(tab, 9);
    await publishOk(server.url, event());
    await waitCounts(tab, 10);
    await new Promise((resolve) => setTimeout(resolve, 300));   // room for a duplicate to show
    seen = await tab.evaluate(() => window.seen);
    assert.deepEqual(seen.esErrors.map((e) => e.code), ['shutdown']);
    assert.deepEqual(seen.es.map((e) => e.offset), range(1, 10), 'EventSource: no hole, no duplicate');
    assert.deepEqual(seen.es.map((e) => e.id), range(1, 10).map((o) => `${epoch}_${o}`));
    assert.equal(seen.esSubscribed.length, 2);
    assert.equal(seen.esSubscribed[1].recovered, true, 'resumed from Last-Event-ID');
    assert.ok(seen.esOpens >= 2);
    assert.deepEqual(seen.client, range(1, 10), 'the client: no hole, no duplicate');
    assert.deepEqual(seen.clientMeta.slice(3, 7), [true, true, true, true], 'the events stored while away are replay');
    assert.equal(seen.connects, 2);
    assert.deepEqual(seen.resyncs, []);
    const position = await tab.evaluate((c) => window.client.position(c), CHANNEL);
    assert.equal(position.offset, 10);
    assert.equal(position.epoch, epoch);
    await tab.evaluate(() => { window.es.close(); return window.client.close(); });
    // Only the connection failures of the restart may show in the console.
    const unexpected = console.filter((l) => /^(error|pageerror)/.test(l) && !/ERR_CONNECTION_REFUSED|ERR_INCOMPLETE_CHUNKED_ENCODING|net::ERR_|Failed to fetch|EventSource's response/.test(l));
    assert.deepEqual(unexpected, []);
  } finally {
    await close();
    await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('from an origin --allowed-origins does not list: the EventSource fails for good; the client never opens a stream and keeps retrying', async () => {
  // The page's origin is in --cors-origins (so that it can import the client at all) but not
  // in --allowed-origins: /v1/sse answers 403 before any stream. That answer carries no CORS
  // fields, so the page cannot read it: EventSource fails (CLOSED, not retried); the client's
  // fetch fails as a network error would, and the client retries with backoff, as its
  // WebSocket does when an upgrade is refused for its Origin.
  const server = await startServer(['--cors-origins', pageOrigin, '--allowed-origins', 'https://app.example.com']);
  const { tab, close } = await openPage();
  try {
    const result = await tab.evaluate(async ({ serverUrl, channel }) => {
      const out = {};
      out.es = await new Promise((resolve) => {
        const es = new EventSource(`${serverUrl}/v1/sse?channel=${encodeURIComponent(channel)}`);
        let opened = false;
        es.onopen = () => { opened = true; };
        es.onerror = () => {
          // A refusal is not retried: CLOSED (a lost connection would be CONNECTING again).
          setTimeout(() => { resolve({ opened, readyState: es.readyState }); es.close(); }, 2_500);
        };
      });
      const { KintoPushClient } = await import(`${serverUrl}/kinto-push.js`);
      const client = new KintoPushClient(serverUrl, { transport: 'sse', backoff: { initialMs: 100, maxMs: 300 } });
      const errors = [];
      const disconnects = [];
      client.on('error', (e) => errors.push(e.type));
      client.on('disconnect', (d) => disconnects.push(d.code));
      let settled = null;
      client.subscribe(channel).then(() => { settled = 'subscribed'; }, (e) => { settled = `rejected ${e.code}`; });
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      Object.assign(out, { settled, state: client.state, connections: client.connections, errors, disconnects });
      await client.close();
      return out;
    }, { serverUrl: server.url, channel: CHANNEL });
    assert.deepEqual(result.es, { opened: false, readyState: 2 });
    assert.equal(result.settled, null, 'the subscribe neither resolves nor rejects');
    assert.equal(result.state, 'reconnecting');
    assert.equal(result.connections, 0);
    assert.ok(result.disconnects.length >= 2 && result.disconnects.every((c) => c === 1006), JSON.stringify(result.disconnects));
    assert.ok(result.errors.every((t) => t === 'transport'), JSON.stringify(result.errors));
    const refused = server.log().match(new RegExp(`origin refused: ${pageOrigin.replace(/[.]/g, '\\.')} on /v1/sse`, 'g')) ?? [];
    assert.ok(refused.length >= 3, `the EventSource once and the client at least twice were refused (${refused.length})`);
  } finally {
    await close();
    await server.stop();
  }
});
