'use strict';
// The dashboard shows what is there (issue 22), in Debian's Chromium against the real server:
// the recent history of each channel on open, below a "live from here" separator; "replayed N"
// counting each Kinto event once however many channels delivered it; "Last close" keeping the
// server's 1001 through the failed reconnection attempts; filters; the paged history view.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { launchChromium } = require('./support/browser');
const { startServer, publishOk, recordEvent, collectionEvent } = require('../integration/support/server');

const WAIT_MS = 15_000;
const ARTICLES = '/buckets/blog/collections/articles';

function watchConsole(page) {
  const problems = [];
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    if (/WebSocket connection to .* failed|ERR_CONNECTION_REFUSED|net::ERR_/.test(m.text())) return;
    problems.push(`console: ${m.text()}`);
  });
  return problems;
}

function waitFor(page, selector, what, state = 'attached') {
  return page.locator(selector).first().waitFor({ state, timeout: WAIT_MS }).catch((e) => {
    throw new Error(`waiting for ${what} (${selector}): ${e.message.split('\n')[0]}`);
  });
}

// The rows of the feed, top to bottom: "live:offset", "history:offset" or "separator".
function feedOrder(page) {
  return page.locator('#feed > li:not([hidden])').evaluateAll((lis) => lis.map((li) => (li.id === 'live-separator'
    ? 'separator' : `${li.classList.contains('history') ? 'history' : 'live'}:${li.dataset.offset}`)));
}

const visibleIds = (page, list = '#feed') => page.locator(`${list} > li.event:not([hidden])`)
  .evaluateAll((lis) => lis.map((li) => li.dataset.ids));

async function withBrowser(fn) {
  const browser = await launchChromium();
  try {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const problems = watchConsole(page);
    await fn(page);
    assert.deepEqual(problems, []);
  } finally {
    await browser.close();
  }
}

test('on open: the history of the channel below "live from here", live events above; filters', async () => {
  const server = await startServer();
  try {
    const before = [
      recordEvent({ id: 'a1', action: 'create' }),
      recordEvent({ id: 'b2', action: 'update' }),
      recordEvent({ id: 'a1', action: 'delete' }),
    ];
    for (const e of before) await publishOk(server.url, e);
    await withBrowser(async (page) => {
      await page.goto(`${server.url}/?channel=${ARTICLES}`, { timeout: WAIT_MS });
      await waitFor(page, `.channel[data-channel="${ARTICLES}"][data-status=subscribed]`, 'the subscription');
      await waitFor(page, '#feed > li.event.history[data-offset="1"]', 'the oldest history row');
      assert.equal(await page.locator(`.channel[data-channel="${ARTICLES}"] .offset`).textContent(), '3');
      assert.ok(await page.locator('#empty').isHidden(), 'no "No events yet" beside offset 3');
      assert.ok(await page.locator('#live-separator').isVisible());
      assert.deepEqual(await feedOrder(page), ['separator', 'history:3', 'history:2', 'history:1']);
      assert.equal(await page.locator('#feed li.history .badge-history').count(), 3);

      await publishOk(server.url, recordEvent({ id: 'c3', action: 'create' }));
      await publishOk(server.url, collectionEvent({ collection: 'comments' }));   // another channel: not shown
      await publishOk(server.url, recordEvent({ id: 'b2', action: 'update' }));
      await waitFor(page, '#feed > li.event[data-offset="5"]', 'live event 5');
      assert.deepEqual(await feedOrder(page), ['live:5', 'live:4', 'separator', 'history:3', 'history:2', 'history:1']);

      // Filters: by action, resource and record id; a live event arriving while filtered.
      await page.selectOption('#filter-action', 'update');
      assert.deepEqual(await visibleIds(page), ['b2', 'b2']);
      await page.selectOption('#filter-action', '');
      await page.fill('#filter-id', 'a1');
      assert.deepEqual(await visibleIds(page), ['a1', 'a1']);
      await publishOk(server.url, recordEvent({ id: 'zz', action: 'create' }));
      await waitFor(page, '#feed > li.event[data-offset="6"]', 'live event 6', 'attached');
      assert.ok(await page.locator('#feed > li.event[data-offset="6"]').isHidden(), 'a new row that does not match is hidden');
      await page.fill('#filter-id', '');
      await page.selectOption('#filter-resource', 'collection');
      assert.deepEqual(await visibleIds(page), []);
      await page.selectOption('#filter-resource', 'record');
      assert.equal((await visibleIds(page)).length, 6);
      assert.match(await page.locator('#feed-count').textContent(), /6 match the filters/);
    });
  } finally {
    await server.stop();
  }
});

test('a channel whose history was trimmed: no "No events yet" beside its offset', async () => {
  const server = await startServer(['--history-size', '1']);
  try {
    for (let i = 0; i < 3; i++) await publishOk(server.url, recordEvent({ id: `t${i}`, action: 'create' }));
    await withBrowser(async (page) => {
      await page.goto(`${server.url}/?channel=${ARTICLES}`, { timeout: WAIT_MS });
      await waitFor(page, '#feed > li.event.history[data-offset="3"]', 'the one event the history holds');
      assert.deepEqual(await feedOrder(page), ['separator', 'history:3']);
      assert.ok(await page.locator('#empty').isHidden());
      await page.locator('#clear').click();
      assert.ok(await page.locator('#empty').isVisible());
      assert.doesNotMatch(await page.locator('#empty-text').textContent(), /No events yet/);
      assert.match(await page.locator('#empty-text').textContent(), /offset 3/);
    });
  } finally {
    await server.stop();
  }
});

test('a restart: "replayed 3" for 3 events on 2 channels, Last close keeps 1001', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kinto-push-dashboard-'));
  const store = `sqlite:${path.join(dir, 'h.sqlite3')}`;
  let server = await startServer(['--store', store]);
  const port = server.port;
  try {
    await withBrowser(async (page) => {
      await page.goto(`${server.url}/?channel=${ARTICLES}&channel=/buckets`, { timeout: WAIT_MS });
      for (const c of [ARTICLES, '/buckets']) {
        await waitFor(page, `.channel[data-channel="${c}"][data-status=subscribed]`, `the subscription to ${c}`);
      }
      await server.stop();
      await waitFor(page, '#last-close[data-code="1001"]', 'the close of the restart');
      // Reconnection attempts fail while the server is down.
      await waitFor(page, '#last-close:not([data-failed-attempts="0"])', 'a failed reconnection attempt');
      const elsewhere = await startServer(['--store', store]);
      await publishOk(elsewhere.url, { events: [recordEvent({ action: 'create' }), recordEvent(), recordEvent({ action: 'delete' })] });
      await elsewhere.stop();
      server = await startServer(['--store', store], { port });
      await waitFor(page, '#notice:not([hidden])', 'the replay notice', 'visible');
      await waitFor(page, `.chip[data-channel="/buckets"][data-offset="3"]`, 'the third event on the firehose');
      await waitFor(page, `.chip[data-channel="${ARTICLES}"][data-offset="3"]`, 'the third event on the collection');
      assert.equal(await page.locator('#notice').getAttribute('data-replayed'), '3');
      assert.match(await page.locator('#notice-text').textContent(), /replayed 3 missed events/);
      assert.match(await page.locator('#notice').getAttribute('title'), /\/buckets: 3/);
      assert.equal(await page.locator('#last-close').getAttribute('data-code'), '1001');
      assert.match(await page.locator('#last-close').textContent(), /^1001\b/);
      assert.match(await page.locator('#last-close').getAttribute('title'), /failed reconnection attempt.*1006/);
    });
  } finally {
    await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('the history view of one channel pages through 250 events', async () => {
  const server = await startServer();
  try {
    for (let b = 0; b < 5; b++) {
      await publishOk(server.url, { events: Array.from({ length: 50 }, (_, i) => recordEvent({ id: `p${b * 50 + i + 1}` })) });
    }
    await withBrowser(async (page) => {
      await page.goto(`${server.url}/?channel=${ARTICLES}`, { timeout: WAIT_MS });
      await waitFor(page, '#feed > li.event.history[data-offset="250"]', 'the recent history');
      assert.equal(await page.locator('#feed > li.event.history').count(), 25, 'the 25 most recent on open');
      const view = page.locator('#history-view');
      const range = async () => [Number(await view.getAttribute('data-first')), Number(await view.getAttribute('data-last-shown'))];
      const offsets = () => page.locator('#history-rows > li.event').evaluateAll((lis) => lis.map((li) => Number(li.dataset.offset)));
      const expectPage = async (first, last) => {
        await waitFor(page, `#history-view[data-first="${first}"][data-last-shown="${last}"]`, `the page ${first}–${last}`);
        assert.deepEqual(await range(), [first, last]);
        const shown = await offsets();
        assert.equal(shown.length, last - first + 1);
        assert.equal(shown[0], last, 'newest first');
        assert.equal(shown.at(-1), first);
        assert.match(await page.locator('#history-range').textContent(), new RegExp(`offsets ${first}–${last} of 250`));
      };
      await page.locator(`.channel[data-channel="${ARTICLES}"] .history-open`).click();
      assert.ok(await page.locator('#feed-panel').isHidden());
      await expectPage(201, 250);
      assert.ok(await page.locator('#history-newer').isDisabled());
      for (const [first, last] of [[151, 200], [101, 150], [51, 100], [1, 50]]) {
        await page.locator('#history-older').click();
        await expectPage(first, last);
      }
      assert.ok(await page.locator('#history-older').isDisabled());
      await page.locator('#history-newer').click();
      await expectPage(51, 100);
      await page.fill('#filter-id', 'p77');
      assert.deepEqual(await visibleIds(page, '#history-rows'), ['p77']);
      await page.fill('#filter-id', '');
      await page.locator('#history-newest').click();
      await expectPage(201, 250);
      await page.locator('#history-close').click();
      assert.ok(await page.locator('#feed-panel').isVisible());
    });
  } finally {
    await server.stop();
  }
});
