'use strict';
// The browser route of docs/js-client.md run as written, in Debian's Chromium (playwright-core,
// /usr/bin/chromium): the module script of the docs, in a page on another origin that the
// server lists in --cors-origins, imports the client from the server's /kinto-push.js and
// receives an event over WebSocket.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const { launchChromium, startOtherOriginPage } = require('./support/browser');
const { startServer, publishOk, recordEvent, request } = require('../integration/support/server');

const CHANNEL = '/buckets/blog/collections/articles';
const { docBlock } = require('../integration/support/doc_blocks');

test('the browser route of docs/js-client.md, as written: import from the server, subscribe, get events', async () => {
  const pageServer = await startOtherOriginPage();
  const server = await startServer(['--cors-origins', pageServer.origin]);
  const browser = await launchChromium();
  try {
    const tab = await (await browser.newContext()).newPage();
    const lines = [];
    tab.on('console', (m) => lines.push(m.text()));
    tab.on('pageerror', (e) => lines.push(`pageerror: ${e.message}`));
    await tab.goto(`${pageServer.origin}/index.html`, { timeout: 15_000 });
    const script = docBlock('docs/js-client.md', 'browser-route').replaceAll('http://127.0.0.1:8080', server.url);
    await tab.setContent(`<!doctype html><html><body>${script}</body></html>`);
    assert.equal(await tab.evaluate(() => window.location.origin), pageServer.origin);

    // Once the server counts the page's subscription (GET /v1/channels, loopback: allowed),
    // one event; the page got it over WebSocket.
    const deadline = Date.now() + 20_000;
    const subscribers = async () =>
      (await request(server.url, `/v1/channels/${encodeURIComponent(CHANNEL)}`)).body?.subscribers?.node ?? 0;
    while (await subscribers() < 1) {
      if (Date.now() > deadline) throw new Error(`the page never subscribed: ${JSON.stringify(lines)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.match(server.log(), /websocket\.open/);
    await publishOk(server.url, { events: [recordEvent({ action: 'create' })] });
    while (!lines.includes('event 1 create')) {
      if (Date.now() > deadline) throw new Error(`no event in the page: ${JSON.stringify(lines)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    await browser.close();
    await server.stop();
    await pageServer.close();
  }
});
