'use strict';
// The dashboard (web-demo/) in Debian's Chromium, driven by playwright-core, against the real
// server: events appear with the right fields, expand to a diff, and a restart of the SQLite
// server on the same port shows "reconnected, replayed N missed events" with the right N.
// Screenshots go to $KINTO_PUSH_ARTIFACTS (default: <build dir>/tests-artifacts/).

const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { launchChromium } = require('./support/browser');
const { startServer, publishOk, request } = require('../integration/support/server');

const ARTIFACTS = process.env.KINTO_PUSH_ARTIFACTS
  || path.join(path.dirname(process.env.KINTO_PUSH_BIN || '.'), '..', 'tests-artifacts');
const WAIT_MS = 15_000;
const ARTICLES = '/buckets/blog/collections/articles';

const launch = launchChromium;

function tempStore() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kinto-push-dashboard-'));
  return { dir, url: `sqlite:${path.join(dir, 'h.sqlite3')}` };
}

// Kinto timestamps: current time, strictly increasing.
let lastTimestamp = 0;
function now() {
  lastTimestamp = Math.max(lastTimestamp + 1, Date.now());
  return lastTimestamp;
}

// A record event with realistic objects. `before`/`after` are the record's fields.
function recordEvent({ bucket = 'blog', collection = 'articles', id, action, user, before, after }) {
  const ts = now();
  const previous = before && { id, last_modified: ts - 1500, ...before };
  let impacted;
  if (action === 'create') impacted = [{ new: { id, last_modified: ts, ...after } }];
  else if (action === 'delete') impacted = [{ new: { id, last_modified: ts, deleted: true }, old: previous }];
  else impacted = [{ new: { id, last_modified: ts, ...after }, old: previous }];
  return {
    payload: {
      timestamp: ts, action, uri: `/buckets/${bucket}/collections/${collection}/records/${id}`, user_id: user,
      resource_name: 'record', bucket_id: bucket, collection_id: collection, record_id: id,
    },
    impacted_objects: impacted,
  };
}

const article = (title, extra = {}) => ({
  title, author: 'Alice Martin', tags: ['kinto', 'sync'], published: false, ...extra,
});

// Page errors and console errors, except the connection failures a restart causes.
function watchConsole(page) {
  const problems = [];
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    const text = m.text();
    if (/WebSocket connection to .* failed|ERR_CONNECTION_REFUSED|net::ERR_/.test(text)) return;
    problems.push(`console: ${text}`);
  });
  return problems;
}

function waitFor(page, selector, what, state = 'attached') {
  return page.locator(selector).first().waitFor({ state, timeout: WAIT_MS }).catch((e) => {
    throw new Error(`waiting for ${what} (${selector}): ${e.message.split('\n')[0]}`);
  });
}

// The feed row holding the event `offset` of `channel`.
function row(page, channel, offset) {
  return page.locator(`li.event:has(.chip[data-channel="${channel}"][data-offset="${offset}"])`);
}

async function rowFacts(locator) {
  return locator.evaluate((li) => ({
    action: li.dataset.action,
    resource: li.dataset.resource,
    ids: li.querySelector('.ids').textContent,
    user: li.querySelector('.user').textContent,
    timestamp: Number(li.querySelector('.timestamp').dataset.timestamp),
    chips: [...li.querySelectorAll('.chip')].map((c) => `${c.dataset.channel}#${c.dataset.offset}`),
    replayed: !!li.querySelector('.badge-replay'),
  }));
}

test('live feed, diff, and the replay indicator across a restart of a SQLite server on the same port', async () => {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const store = tempStore();
  let server = await startServer(['--store', store.url]);
  const port = server.port;
  const browser = await launch();
  try {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    const problems = watchConsole(page);
    await page.goto(`${server.url}/?channel=${ARTICLES}`, { timeout: WAIT_MS });
    await waitFor(page, '#state[data-state=open]', 'the connection');
    await waitFor(page, `.channel[data-channel="${ARTICLES}"][data-status=subscribed]`, 'the subscription');
    assert.equal(await page.locator('.channel').count(), 1, 'only the channel of the URL');
    assert.equal(new URL(page.url()).searchParams.get('channel'), ARTICLES);

    // Four events: they appear newest first, with action, ids, user, timestamp and offset.
    const first = [
      recordEvent({ id: 'intro-to-kinto', action: 'create', user: 'account:alice', after: article('Introducing Kinto') }),
      recordEvent({ id: 'offline-first', action: 'create', user: 'account:bob', after: article('Offline-first apps', { author: 'Bob Chen' }) }),
      recordEvent({ id: 'intro-to-kinto', action: 'update', user: 'account:alice',
        before: article('Introducing Kinto'), after: article('Introducing Kinto 15', { published: true }) }),
      recordEvent({ id: 'offline-first', action: 'delete', user: 'account:bob', before: article('Offline-first apps', { author: 'Bob Chen' }) }),
    ];
    for (const e of first) await publishOk(server.url, e);
    await waitFor(page, `.chip[data-channel="${ARTICLES}"][data-offset="4"]`, 'event 4 in the feed');
    assert.equal(await page.locator('li.event').count(), 4);
    for (let i = 0; i < first.length; i++) {
      const facts = await rowFacts(row(page, ARTICLES, i + 1));
      const p = first[i].payload;
      assert.equal(facts.action, p.action, `event ${i + 1} action`);
      assert.equal(facts.resource, 'record');
      assert.equal(facts.ids, `blog / articles / ${p.record_id}`);
      assert.equal(facts.user, p.user_id);
      assert.equal(facts.timestamp, p.timestamp);
      assert.deepEqual(facts.chips, [`${ARTICLES}#${i + 1}`]);
      assert.equal(facts.replayed, false);
    }
    const order = await page.locator('li.event').evaluateAll((lis) => lis.map((li) => li.dataset.offset));
    assert.deepEqual(order, ['4', '3', '2', '1'], 'newest first');
    const card = page.locator(`.channel[data-channel="${ARTICLES}"]`);
    assert.equal(await card.locator('.count').textContent(), '4');
    assert.equal(await card.locator('.offset').textContent(), '4');
    const points = await card.locator('.sparkline .line').getAttribute('points');
    assert.equal(points.split(' ').length, 60, 'a 60 s sparkline');

    // The update expands to an old/new diff.
    const update = row(page, ARTICLES, 3);
    await update.locator('.event-summary').click();
    await waitFor(page, 'li.event[data-offset="3"] .details tr.changed[data-key=title]', 'the diff', 'visible');
    const title = update.locator('tr[data-key=title]');
    assert.equal(await title.locator('td.old').textContent(), '"Introducing Kinto"');
    assert.equal(await title.locator('td.new').textContent(), '"Introducing Kinto 15"');
    assert.equal(await update.locator('tr[data-key=published]').getAttribute('class'), 'changed');
    assert.equal(await update.locator('tr[data-key=author]').getAttribute('class'), 'same');
    await update.locator('.event-summary').click();
    assert.equal(await update.locator('.details').isHidden(), true, 'collapses again');

    // Restart: the server stops; 3 events are stored meanwhile (another instance on the same
    // SQLite file, on another port); the server comes back on the same port.
    await server.stop();
    await waitFor(page, '#state[data-state=reconnecting]', 'the reconnecting state');
    const elsewhere = await startServer(['--store', store.url]);
    const missed = [
      recordEvent({ id: 'sync-protocol', action: 'create', user: 'account:carol', after: article('How the sync protocol works', { author: 'Carol Diaz' }) }),
      recordEvent({ id: 'sync-protocol', action: 'update', user: 'account:carol',
        before: article('How the sync protocol works', { author: 'Carol Diaz' }),
        after: article('How the sync protocol works', { author: 'Carol Diaz', tags: ['kinto', 'sync', 'protocol'] }) }),
      recordEvent({ id: 'intro-to-kinto', action: 'update', user: 'account:alice',
        before: article('Introducing Kinto 15', { published: true }),
        after: article('Introducing Kinto 15', { published: true, summary: 'A JSON storage service with sync and sharing.' }) }),
    ];
    await publishOk(elsewhere.url, { events: missed });
    await elsewhere.stop();
    server = await startServer(['--store', store.url], { port });
    await waitFor(page, '#notice[data-replayed="3"]', 'the replay indicator with 3 events', 'visible');
    await waitFor(page, '#state[data-state=open]', 'the connection after the restart');
    const notice = await page.locator('#notice-text').textContent();
    assert.match(notice, /Reconnected at \d\d:\d\d:\d\d, replayed 3 missed events/);
    assert.equal(await page.locator('#reconnects').textContent(), '1');
    for (let i = 0; i < missed.length; i++) {
      const facts = await rowFacts(row(page, ARTICLES, 5 + i));
      assert.equal(facts.action, missed[i].payload.action);
      assert.equal(facts.ids, `blog / articles / ${missed[i].payload.record_id}`);
      assert.equal(facts.replayed, true, `event ${5 + i} is marked replayed`);
    }

    // A live event after the replay is not counted.
    await publishOk(server.url, recordEvent({ id: 'offline-first', action: 'create', user: 'account:bob',
      after: article('Offline-first apps, revisited', { author: 'Bob Chen' }) }));
    await waitFor(page, `.chip[data-channel="${ARTICLES}"][data-offset="8"]`, 'live event 8');
    assert.equal((await rowFacts(row(page, ARTICLES, 8))).replayed, false);
    assert.equal(await page.locator('#notice').getAttribute('data-replayed'), '3');
    assert.equal(await page.locator('li.event').count(), 8);
    const offsets = await page.locator(`.chip[data-channel="${ARTICLES}"]`).evaluateAll((cs) => cs.map((c) => Number(c.dataset.offset)));
    assert.deepEqual(offsets.sort((a, b) => a - b), [1, 2, 3, 4, 5, 6, 7, 8], 'no hole, no duplicate');

    // The firehose shortcut: other buckets show up, and an event seen on two channels is one row.
    await page.locator('#firehose-button').click();
    await waitFor(page, '.channel[data-channel="/buckets"][data-status=subscribed]', 'the firehose subscription');
    assert.deepEqual(new URL(page.url()).searchParams.getAll('channel'), [ARTICLES, '/buckets']);
    await publishOk(server.url, recordEvent({ bucket: 'shop', collection: 'products', id: 'p-1042', action: 'update',
      user: 'account:dave', before: { name: 'Walnut desk', price: 349, stock: 12 }, after: { name: 'Walnut desk', price: 329, stock: 11 } }));
    const collectionTs = now();
    await publishOk(server.url, {
      payload: { timestamp: collectionTs, action: 'create', uri: '/buckets/blog/collections/comments', user_id: 'account:alice',
        resource_name: 'collection', bucket_id: 'blog', collection_id: 'comments' },
      impacted_objects: [{ new: { id: 'comments', last_modified: collectionTs, schema: { type: 'object' } } }],
    });
    const both = recordEvent({ id: 'intro-to-kinto', action: 'update', user: 'account:alice',
      before: article('Introducing Kinto 15', { published: true, summary: 'A JSON storage service with sync and sharing.' }),
      after: article('Introducing Kinto 16', { published: true, summary: 'A JSON storage service with sync, sharing and push.', tags: ['kinto', 'sync', 'push'] }) });
    await publishOk(server.url, both);
    await waitFor(page, `.chip[data-channel="${ARTICLES}"][data-offset="9"]`, 'event 9 on the collection');
    await waitFor(page, 'li.event:has(.chip[data-channel="/buckets"]) .chip[data-channel="/buckets/blog/collections/articles"][data-offset="9"]',
      'the same event on the firehose, merged');
    const merged = await rowFacts(row(page, ARTICLES, 9));
    assert.equal(merged.chips.length, 2);
    assert.ok(merged.chips.includes(`${ARTICLES}#9`));
    const shop = page.locator('li.event[data-resource=record]:has(.chip[data-channel="/buckets"])', { hasText: 'shop / products / p-1042' });
    assert.equal(await shop.count(), 1);
    assert.equal(await page.locator('li.event[data-resource=collection]').count(), 1);
    assert.equal(await page.locator('li.event').count(), 11);

    // The screenshot: the newest update expanded.
    await row(page, ARTICLES, 9).locator('.event-summary').click();
    await waitFor(page, 'li.event[data-offset="9"] .details tr.changed[data-key=title]', 'the diff of event 9', 'visible');
    await page.waitForTimeout(1_400);   // the highlight of new rows fades out
    await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard.png') });
    if (process.env.KINTO_PUSH_DOCS_SCREENSHOT) await page.screenshot({ path: process.env.KINTO_PUSH_DOCS_SCREENSHOT });

    // Removing a channel unsubscribes and updates the URL.
    await page.locator('.channel[data-channel="/buckets"] .remove').click();
    assert.deepEqual(new URL(page.url()).searchParams.getAll('channel'), [ARTICLES]);
    assert.deepEqual(problems, []);
    await context.close();
  } finally {
    await browser.close();
    await server.stop();
    fs.rmSync(store.dir, { recursive: true, force: true });
  }
});

test('on a phone, without a channel: the firehose, no horizontal scrolling', async () => {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const server = await startServer();
  const browser = await launch();
  try {
    const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
    const page = await context.newPage();
    const problems = watchConsole(page);
    await page.goto(`${server.url}/`, { timeout: WAIT_MS });
    await waitFor(page, '.channel[data-channel="/buckets"][data-status=subscribed]', 'the firehose subscription');
    assert.deepEqual([...await page.locator('.channel').evaluateAll((cs) => cs.map((c) => c.dataset.channel))], ['/buckets']);
    assert.ok(await page.locator('#empty').isVisible(), 'an empty feed explains how to publish');
    await publishOk(server.url, recordEvent({ bucket: 'notes', collection: 'todo', id: 'buy-milk', action: 'create',
      user: 'account:alice', after: { text: 'Buy milk', done: false } }));
    await waitFor(page, '.chip[data-channel="/buckets"][data-offset="1"]', 'the event on the firehose');
    await page.locator('li.event .event-summary').first().click();
    await waitFor(page, 'li.event .details tr.added[data-key=text]', 'the diff of a create', 'visible');
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(overflow <= 0, `no horizontal scrolling (${overflow}px too wide)`);
    await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard-phone.png'), fullPage: true });

    // The files the page loads are served with their types and no-cache.
    for (const [file, type] of [['/', 'text/html'], ['/app.js', 'text/javascript'], ['/style.css', 'text/css'], ['/kinto-push.js', 'text/javascript']]) {
      const res = await request(server.url, file);
      assert.equal(res.status, 200, file);
      assert.equal(res.headers.get('content-type'), `${type}; charset=utf-8`, file);
      assert.equal(res.headers.get('cache-control'), 'no-cache', file);
    }
    const served = await request(server.url, '/kinto-push.js');
    const onDisk = fs.readFileSync(path.join(__dirname, '..', '..', 'clients', 'js', 'kinto-push.js'), 'utf8');
    assert.equal(served.text, onDisk, 'the binary embeds clients/js/kinto-push.js');
    assert.equal((await request(server.url, '/app.js', { method: 'POST', body: '' })).status, 405);
    assert.equal((await request(server.url, '/missing.js')).status, 404);
    const head = await request(server.url, '/style.css', { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.deepEqual(problems, []);
    await context.close();
  } finally {
    await browser.close();
    await server.stop();
  }
});
