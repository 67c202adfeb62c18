'use strict';
// The dashboard's Webhooks panel and subscriber counts (web-demo/webhooks-panel.js,
// web-demo/channel-info.js) in Debian's Chromium against the real server and a real webhook
// receiver on 127.0.0.1: status, lag and offsets after deliveries, retrying with failures and
// the 500 in the attempts list, the enabled switch (checked through the API), subscriber
// counts per channel card, and the admin token for a server with --admin-secret.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const { launchChromium } = require('./support/browser');
const { startServer, publishOk, request, connect } = require('../integration/support/server');

const ARTIFACTS = process.env.KINTO_PUSH_ARTIFACTS
  || path.join(path.dirname(process.env.KINTO_PUSH_BIN || '.'), '..', 'tests-artifacts');
const WAIT_MS = 15_000;
const ARTICLES = '/buckets/blog/collections/articles';
const PRODUCTS = '/buckets/shop/collections/products';

// A webhook receiver on 127.0.0.1: answers `status` (200 until told otherwise; 'drop' closes the
// connection without answering) and keeps the bodies it received.
function startReceiver() {
  const receiver = { status: 200, bodies: [], server: null, url: null };
  receiver.server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      if (receiver.status === 'drop') { req.socket.destroy(); return; }   // no answer at all
      try { receiver.bodies.push(JSON.parse(Buffer.concat(chunks).toString('utf8'))); } catch { receiver.bodies.push(null); }
      res.writeHead(receiver.status, { 'content-type': 'text/plain' });
      res.end(receiver.status < 300 ? 'ok' : 'failing on purpose');
    });
  });
  return new Promise((resolve) => {
    receiver.server.listen(0, '127.0.0.1', () => {
      receiver.url = `http://127.0.0.1:${receiver.server.address().port}/hook`;
      receiver.close = () => new Promise((done) => { receiver.server.closeAllConnections(); receiver.server.close(done); });
      resolve(receiver);
    });
  });
}

// Page errors and console errors; `allowed` matches the ones a test expects.
function watchConsole(page, allowed = /^$/) {
  const problems = [];
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && !allowed.test(m.text())) problems.push(`console: ${m.text()}`);
  });
  return problems;
}

function waitFor(page, selector, what, state = 'attached') {
  return page.locator(selector).first().waitFor({ state, timeout: WAIT_MS }).catch((e) => {
    throw new Error(`waiting for ${what} (${selector}): ${e.message.split('\n')[0]}`);
  });
}

// Polls `fn` until it returns a truthy value (bounded).
async function eventually(fn, what, timeoutMs = WAIT_MS) {
  const until = Date.now() + timeoutMs;
  let last;
  while (Date.now() < until) {
    last = await fn();
    if (last) return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what} (last: ${JSON.stringify(last)})`);
}

async function createWebhook(server, body, headers = {}) {
  const res = await request(server.url, '/v1/webhooks', {
    method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body),
  });
  assert.equal(res.status, 201, `webhook creation: ${res.text}`);
  return res.body;
}

// A record created in ARTICLES, with a strictly increasing timestamp.
let lastTimestamp = 0;
function article(id, title) {
  const ts = lastTimestamp = Math.max(lastTimestamp + 1, Date.now());
  return {
    payload: { timestamp: ts, action: 'create', resource_name: 'record', uri: `${ARTICLES}/records/${id}`,
      user_id: 'account:alice', bucket_id: 'blog', collection_id: 'articles', record_id: id },
    impacted_objects: [{ new: { id, last_modified: ts, title } }],
  };
}

test('webhooks panel: status, lag, retrying with the 500 attempts, the enabled switch; subscriber counts', async () => {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  // Short backoff: the retries of the failing phases come within the waits below.
  const server = await startServer(['--webhook-allow-private', '--webhook-backoff-initial-ms', '200', '--webhook-backoff-max', '1']);
  const receiver = await startReceiver();
  const browser = await launchChromium();
  let other;
  try {
    const hostile = '<img src=x onerror="window.__pwned=1">';
    const webhook = await createWebhook(server, { url: receiver.url, channels: [ARTICLES], description: `blog mirror ${hostile}` });
    const id = webhook.id;
    const card = `.webhook[data-id="${id}"]`;
    const line = `${card} .webhook-channels li[data-channel="${ARTICLES}"]`;

    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const problems = watchConsole(page);
    await page.goto(`${server.url}/?channel=${ARTICLES}&channel=${PRODUCTS}`, { timeout: WAIT_MS });
    await waitFor(page, `.channel[data-channel="${PRODUCTS}"][data-status=subscribed]`, 'the subscriptions');
    await waitFor(page, card, 'the webhook in the panel');
    assert.equal(await page.locator(`${card} .webhook-url`).textContent(), receiver.url);
    assert.equal(await page.locator(`${card} .webhook-description`).textContent(), `blog mirror ${hostile}`, 'shown as text');
    assert.equal(await page.locator(`${card} img`).count(), 0, 'server text is never parsed as HTML');

    // Three events, delivered: active, lag 0, delivered 3 / 3.
    for (let i = 1; i <= 3; i++) await publishOk(server.url, article(`a${i}`, `Article ${i}`));
    await eventually(() => receiver.bodies.length >= 3, 'three deliveries');
    await waitFor(page, `${line}[data-lag="0"][data-delivered="3"][data-last="3"]`, 'lag 0 after the deliveries');
    assert.equal(await page.locator(`${card} .badge`).textContent(), 'active');
    assert.match(await page.locator(`${line} .lag`).textContent(), /^lag 0 events/);
    assert.equal(await page.locator(`${line} .delivered`).textContent(), 'delivered 3 / 3');
    assert.equal(await page.locator(`${card} .enabled-toggle`).isChecked(), true);

    // The receiver fails: retrying, with failures, and 500 in the attempts.
    receiver.status = 500;
    await publishOk(server.url, article('a4', 'Article 4'));
    await waitFor(page, `${card}[data-status=retrying]`, 'the retrying status');
    assert.equal(await page.locator(`${card} .badge`).textContent(), 'retrying');
    await waitFor(page, `${line}[data-lag="1"]`, 'lag 1 while retrying');
    const failures = Number(await page.locator(line).getAttribute('data-failures'));
    assert.ok(failures >= 1, `failures shown (${failures})`);
    assert.match(await page.locator(`${line} .failures`).textContent(), /^\d+ failures?/);
    await page.locator(`${card} .attempts-button`).click();
    await waitFor(page, `${card} .attempts-table tr[data-status="500"]`, 'a 500 in the attempts', 'visible');
    const attempts = await page.locator(`${card} .attempts-table tbody tr`).evaluateAll((trs) => trs.map((tr) => ({
      status: tr.dataset.status, result: tr.querySelector('.result b').textContent,
      what: tr.querySelector('.what').textContent, took: tr.querySelector('.duration').textContent,
    })));
    assert.equal(attempts[0].status, '500', 'newest first');
    assert.equal(attempts[0].result, '500');
    assert.equal(attempts[0].what, `${ARTICLES} #4`);
    assert.match(attempts[0].took, /^\d+ ms$/);
    assert.ok(attempts.some((a) => a.status === '200' && a.what === `${ARTICLES} #3`), 'the 200 of event 3 is listed');

    // The receiver closes the connection: an attempt without status (null) and with an error,
    // shown as "no answer" with the server's error text and time.
    receiver.status = 'drop';
    const dropped = `${card} .attempts-table tbody tr[data-status="0"]`;
    await waitFor(page, dropped, 'an attempt without answer', 'visible');
    const shown = await page.locator(dropped).first().evaluate((tr) => ({
      result: tr.querySelector('.result b').textContent, error: tr.querySelector('.attempt-error')?.textContent.trim(),
      what: tr.querySelector('.what').textContent, time: tr.querySelector('.when').title,
      clock: tr.querySelector('.when').textContent, took: tr.querySelector('.duration').textContent,
    }));
    const log = await request(server.url, `/v1/webhooks/${id}/deliveries`);
    assert.equal(log.status, 200);
    const match = log.body.deliveries.find((d) => Date.parse(d.time) === Date.parse(shown.time) && d.status === null);
    assert.ok(match, `the shown attempt ${JSON.stringify(shown)} is in the API's list ${JSON.stringify(log.body.deliveries.slice(0, 3))}`);
    assert.equal(typeof match.error, 'string');
    assert.ok(match.error.length > 0, 'the API gives an error');
    assert.equal(shown.result, 'no answer');
    assert.equal(shown.error, match.error, 'the API error text is shown');
    assert.equal(shown.what, `${ARTICLES} #${match.first}`);
    assert.equal(match.first, 4);
    assert.match(shown.clock, /^\d\d:\d\d:\d\d$/);
    assert.equal(shown.took, `${Math.round(match.duration_ms)} ms`);
    // Every 500 row agrees with an API entry that has status 500 and the same time.
    const rows500 = await page.locator(`${card} .attempts-table tbody tr[data-status="500"] .when`).evaluateAll((tds) => tds.map((td) => td.title));
    assert.ok(rows500.length >= 1);
    const times500 = new Set(log.body.deliveries.filter((d) => d.status === 500).map((d) => Date.parse(d.time)));
    for (const t of rows500) assert.ok(times500.has(Date.parse(t)), `500 at ${t} is in the API's list`);

    // Subscriber counts: the dashboard on both channels, another WebSocket client on PRODUCTS.
    other = await connect(server.wsUrl);
    await other.subscribe(PRODUCTS);
    const products = `.channel[data-channel="${PRODUCTS}"] .subscribers`;
    await waitFor(page, `${products}[data-node="2"]`, '2 subscribers on the products channel');
    assert.equal(await page.locator(products).textContent(), '2 subscribers');
    assert.equal(await page.locator(`.channel[data-channel="${ARTICLES}"] .subscribers`).getAttribute('data-node'), '1');
    const info = await request(server.url, `/v1/channels/${encodeURIComponent(PRODUCTS)}`);
    assert.equal(info.status, 200);
    assert.equal(info.body.subscribers.node, 2, 'the API agrees');
    await page.waitForTimeout(300);
    await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard-webhooks.png') });
    await other.close();
    await waitFor(page, `${products}[data-node="1"]`, '1 subscriber once the other client left');

    // The switch disables the webhook on the server.
    await page.locator(`${card} .enabled-toggle`).uncheck();
    await waitFor(page, `${card}[data-status=disabled]`, 'the disabled status');
    assert.equal(await page.locator(`${card} .badge`).textContent(), 'disabled');
    const stored = await request(server.url, `/v1/webhooks/${id}`);
    assert.equal(stored.status, 200);
    assert.equal(stored.body.enabled, false, 'the server reports enabled: false');
    assert.equal(stored.body.status, 'disabled');
    assert.equal(stored.body.disabled_reason, 'disabled by an administrator');
    assert.equal(await page.locator(`${card} .webhook-reason`).isVisible(), true);
    assert.equal(await page.locator(`${card} .webhook-reason`).textContent(), stored.body.disabled_reason);
    // And enables it again: it resumes and delivers event 4.
    receiver.status = 200;
    await page.locator(`${card} .enabled-toggle`).check();
    await eventually(async () => (await request(server.url, `/v1/webhooks/${id}`)).body.enabled === true, 'enabled again');
    await waitFor(page, `${card}[data-status=active] .webhook-channels li[data-lag="0"][data-delivered="4"]`, 'event 4 delivered after re-enabling');

    assert.equal(await page.evaluate(() => window.__pwned), undefined);
    assert.deepEqual(problems, []);
    await context.close();
  } finally {
    await other?.close();
    await browser.close();
    await receiver.close();
    await server.stop();
  }
});

test('with --admin-secret: 401 shown in the panel until the admin token is pasted', async () => {
  const secret = 'dashboard-admin-secret';
  const server = await startServer(['--webhook-allow-private', '--admin-secret', secret]);
  const receiver = await startReceiver();
  const browser = await launchChromium();
  try {
    const webhook = await createWebhook(server, { url: receiver.url, channels: [ARTICLES] }, { authorization: `Bearer ${secret}` });
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    // The browser logs each refused request as a console error: expected here.
    const problems = watchConsole(page, /status of 401/);
    await page.goto(`${server.url}/?channel=${ARTICLES}`, { timeout: WAIT_MS });
    await waitFor(page, '#webhooks-error', 'the error line', 'visible');
    assert.match(await page.locator('#webhooks-error').textContent(), /^401 unauthorized: admin credentials needed \(paste an admin token\)/);
    assert.equal(await page.locator('#admin-token-box').getAttribute('open'), '', 'the token box opens by itself');
    await waitFor(page, `.channel[data-channel="${ARTICLES}"] .subscribers[data-error="401"]`, 'the counts need the token');
    assert.equal(await page.locator(`.channel[data-channel="${ARTICLES}"] .subscribers`).textContent(), 'subscribers: admin token needed');

    await page.locator('#admin-token').fill(secret);
    await page.locator('#admin-token-form button[type=submit]').click();
    await waitFor(page, `.webhook[data-id="${webhook.id}"][data-status=active]`, 'the webhook once the token is set');
    assert.equal(await page.locator('#webhooks-error').isHidden(), true);
    await waitFor(page, `.channel[data-channel="${ARTICLES}"] .subscribers[data-node="1"]`, 'the count once the token is set');
    assert.equal(await page.evaluate(() => sessionStorage.getItem('kinto-push.admin-token')), secret, 'kept in sessionStorage');

    // A wrong token: 401 again, said so.
    await page.locator('#admin-token').fill('wrong');
    await page.locator('#admin-token-form button[type=submit]').click();
    await waitFor(page, '#webhooks-error', 'the error line for a wrong token', 'visible');
    assert.match(await page.locator('#webhooks-error').textContent(), /^401 unauthorized: admin credentials needed \(the admin token was refused\)/);
    assert.deepEqual(problems, []);
    await context.close();
  } finally {
    await browser.close();
    await receiver.close();
    await server.stop();
  }
});
