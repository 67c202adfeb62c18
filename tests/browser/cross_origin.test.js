'use strict';
// Browsers on other origins (PROTOCOL.md section 4) in Debian's Chromium, driven by
// playwright-core: a page served by a small static server on another port of 127.0.0.1 (so
// another origin) imports http://127.0.0.1:<port>/kinto-push.js, reads /v1/history with an
// Authorization header (a real preflight) and subscribes over WebSocket. It works with
// --cors-origins naming the page's origin, and fails as a browser fails without it ("Failed to
// fetch dynamically imported module", "Failed to fetch"); a WebSocket from an origin that
// --allowed-origins does not list never opens.

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { launchChromium, startOtherOriginPage } = require('./support/browser');
const { startServer, publishOk, recordEvent, collectionChannel } = require('../integration/support/server');
const { jwt, nowS } = require('../integration/support/jwt');

const SECRET = 'cross-origin-test-secret';
const CHANNEL = collectionChannel('crossorigin', 'articles');
const TOKEN = jwt({ sub: 'page', exp: nowS() + 3600, channels: ['/buckets/crossorigin/collections/*'] }, { secret: SECRET });

let browser;
let page;      // the static server of the page (its own origin)
let pageOrigin;

before(async () => {
  page = await startOtherOriginPage();
  pageOrigin = page.origin;
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await page?.close();
});

// A fresh tab on the page's origin; its console errors are collected.
async function openPage() {
  const context = await browser.newContext();
  const tab = await context.newPage();
  const console = [];
  tab.on('console', (m) => console.push(`${m.type()}: ${m.text()}`));
  await tab.goto(`${pageOrigin}/index.html`, { timeout: 15_000 });
  assert.equal(await tab.evaluate(() => window.location.origin), pageOrigin);
  return { tab, console, close: () => context.close() };
}

// In the page: import the client from the server's origin and read the history with an
// Authorization header. Each step's outcome, success or the browser's error message.
function importAndFetch(tab, serverUrl, channel, token) {
  return tab.evaluate(async ({ serverUrl, channel, token }) => {
    const out = {};
    try {
      const module = await import(`${serverUrl}/kinto-push.js`);
      out.imported = typeof module.KintoPushClient === 'function';
    } catch (e) {
      out.importError = String(e.message);
    }
    try {
      const res = await fetch(`${serverUrl}/v1/history?channel=${encodeURIComponent(channel)}`,
        { headers: { Authorization: `Bearer ${token}` } });
      out.status = res.status;
      out.history = await res.json();
    } catch (e) {
      out.fetchError = `${e.name}: ${e.message}`;
    }
    return out;
  }, { serverUrl, channel, token });
}

// In the page: a bare WebSocket to `url`; resolves with 'open' or how it failed.
function openWebSocket(tab, url) {
  return tab.evaluate((url) => new Promise((resolve) => {
    const ws = new WebSocket(url);
    let errored = false;
    ws.onopen = () => { ws.close(); resolve({ opened: true }); };
    ws.onerror = () => { errored = true; };
    ws.onclose = (e) => resolve({ opened: false, errored, code: e.code });
    setTimeout(() => resolve({ opened: false, timeout: true }), 10_000);
  }), url);
}

test('with --cors-origins naming the page: import(), fetch() with Authorization, and live events', async () => {
  const server = await startServer(['--jwt-secret', SECRET, '--cors-origins', pageOrigin,
    '--allowed-origins', pageOrigin]);
  const { tab, console, close } = await openPage();
  try {
    await publishOk(server.url, { events: [recordEvent({ bucket: 'crossorigin', collection: 'articles' })] });
    const result = await importAndFetch(tab, server.url, CHANNEL, TOKEN);
    assert.deepEqual({ imported: result.imported, status: result.status, importError: result.importError,
      fetchError: result.fetchError }, { imported: true, status: 200, importError: undefined, fetchError: undefined });
    assert.equal(result.history.channel, CHANNEL);
    assert.equal(result.history.events.length, 1);

    // The client from the module, over WebSocket from this origin: subscribes and receives an
    // event published afterwards.
    await tab.evaluate(async ({ serverUrl, channel, token }) => {
      const { KintoPushClient } = await import(`${serverUrl}/kinto-push.js`);
      window.received = [];
      window.client = new KintoPushClient(serverUrl, { token });
      await window.client.subscribe(channel, (frame) => window.received.push(frame.offset));
    }, { serverUrl: server.url, channel: CHANNEL, token: TOKEN });
    await publishOk(server.url, { events: [recordEvent({ bucket: 'crossorigin', collection: 'articles' })] });
    await tab.waitForFunction(() => window.received.includes(2), null, { timeout: 10_000 });
    await tab.evaluate(() => window.client.close());
    assert.deepEqual(console.filter((l) => l.startsWith('error')), []);
  } finally {
    await close();
    await server.stop();
  }
});

for (const [name, args] of [
  ['without --cors-origins', []],
  ['with --cors-origins naming another origin', ['--cors-origins', 'https://app.example.com']],
]) {
  test(`${name}: the browser refuses the module and the answer to the page`, async () => {
    const server = await startServer(['--jwt-secret', SECRET, ...args]);
    const { tab, console, close } = await openPage();
    try {
      const result = await importAndFetch(tab, server.url, CHANNEL, TOKEN);
      assert.equal(result.imported, undefined);
      assert.match(result.importError, /Failed to fetch dynamically imported module/);
      assert.equal(result.status, undefined);
      assert.match(result.fetchError, /TypeError: Failed to fetch/);
      assert.ok(console.some((l) => /blocked by CORS policy/.test(l)), console.join('\n'));
      // The same server still answers a same-origin page (the dashboard's origin).
      await tab.goto(`${server.url}/`, { timeout: 15_000 });
      const same = await importAndFetch(tab, server.url, CHANNEL, TOKEN);
      assert.equal(same.imported, true);
      assert.equal(same.status, 200);
    } finally {
      await close();
      await server.stop();
    }
  });
}

test('--allowed-origins not listing the page: its WebSocket never opens; a listed origin opens', async () => {
  const refusing = await startServer(['--allowed-origins', 'https://app.example.com']);
  const allowing = await startServer(['--allowed-origins', `https://app.example.com,${pageOrigin}`]);
  const { tab, close } = await openPage();
  try {
    const refused = await openWebSocket(tab, refusing.wsUrl);
    assert.deepEqual(refused, { opened: false, errored: true, code: 1006 });
    assert.match(refusing.log(), new RegExp(`origin refused: ${pageOrigin.replace(/[.]/g, '\\.')} on /v1/ws`));
    const opened = await openWebSocket(tab, allowing.wsUrl);
    assert.deepEqual(opened, { opened: true });
  } finally {
    await close();
    await refusing.stop();
    await allowing.stop();
  }
});
