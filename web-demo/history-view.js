// The history of one channel, a page at a time: GET /v1/history with since/limit. It opens on
// the newest page; *Older* reads the PAGE_SIZE events before the first shown, *Newer* those
// after the last shown (`more` says whether newer ones remain); newest first on the page, as in
// the feed. It takes the feed's place until *Back to the feed*.

import { $ } from '/dom.js';
import { createEventRow } from '/event-feed.js';
import { fetchHistory, readBefore } from '/history-api.js';

export const PAGE_SIZE = 50;

// `server()` gives {serverUrl, token}; `onRender()` after each page (the filters apply there).
export function startHistoryView({ server, onRender = () => {} }) {
  let view = null;   // {channel, epoch, last, oldest, first, lastShown, more}
  let busy = 0;      // the number of the latest request: older answers are dropped

  function status(text, kind = '') {
    const line = $('history-status');
    line.hidden = !text;
    line.textContent = text;
    line.dataset.kind = kind;
  }

  function render(events, { last, more }) {
    const list = $('history-rows');
    list.replaceChildren(...[...events].reverse().map((e) => createEventRow(e, {}).el));
    view.last = last;
    const root = $('history-view');
    if (!events.length) {
      view.first = null;
      view.lastShown = null;
      $('history-range').textContent = last > 0 ? `no events held (offset ${last})` : 'no events on this channel yet';
      root.dataset.first = '';
      root.dataset.lastShown = '';
    } else {
      view.first = events[0].offset;
      view.lastShown = events.at(-1).offset;
      $('history-range').textContent = `offsets ${view.first}–${view.lastShown} of ${last}`;
      root.dataset.first = String(view.first);
      root.dataset.lastShown = String(view.lastShown);
    }
    view.more = !!more;
    $('history-older').disabled = view.first === null || view.first <= (view.oldest ?? 1);
    $('history-newer').disabled = view.lastShown === null || !(more || view.lastShown < last);
    onRender();
  }

  async function run(task) {
    const mine = ++busy;
    status('loading…');
    try {
      await task(() => mine === busy);
      if (mine === busy) status('');
    } catch (error) {
      if (mine === busy) status(error.message, 'error');
    }
  }

  const newest = () => run(async (current) => {
    const { serverUrl, token } = server();
    const head = await fetchHistory(serverUrl, token, { channel: view.channel, since: 0, limit: 1 });
    view.epoch = head.epoch;
    view.oldest = null;
    const page = await readBefore(serverUrl, token, { channel: view.channel, epoch: head.epoch, before: head.offset + 1, count: PAGE_SIZE });
    if (!current()) return;
    if (page.oldest !== null) view.oldest = page.oldest;
    render(page.events, { last: page.last ?? head.offset, more: false });
  });

  const older = () => run(async (current) => {
    const { serverUrl, token } = server();
    const page = await readBefore(serverUrl, token, { channel: view.channel, epoch: view.epoch, before: view.first, count: PAGE_SIZE });
    if (!current()) return;
    if (page.epoch !== view.epoch) return newest();
    if (page.oldest !== null) view.oldest = page.oldest;
    if (!page.events.length) {
      view.oldest = view.first;
      $('history-older').disabled = true;
      return;
    }
    render(page.events, { last: page.last ?? view.last, more: true });
  });

  const newer = () => run(async (current) => {
    const { serverUrl, token } = server();
    const page = await fetchHistory(serverUrl, token, { channel: view.channel, since: view.lastShown, limit: PAGE_SIZE, epoch: view.epoch });
    if (!current()) return;
    if (!page.recovered || page.epoch !== view.epoch) return newest();
    render(page.events, { last: page.offset, more: page.more });
  });

  function open(channel) {
    view = { channel, epoch: null, last: 0, oldest: null, first: null, lastShown: null, more: false };
    $('history-channel').textContent = channel;
    $('history-view').dataset.channel = channel;
    $('history-rows').replaceChildren();
    $('history-range').textContent = '';
    $('history-view').hidden = false;
    $('feed-panel').hidden = true;
    $('history-filters-slot').append($('feed-filters'));   // the filters apply here too
    newest();
  }

  function close() {
    busy += 1;
    view = null;
    $('history-view').hidden = true;
    $('feed-panel').hidden = false;
    $('empty').before($('feed-filters'));
  }

  $('history-newest').addEventListener('click', () => view && newest());
  $('history-older').addEventListener('click', () => view && view.first !== null && older());
  $('history-newer').addEventListener('click', () => view && view.lastShown !== null && newer());
  $('history-close').addEventListener('click', close);
  return { open, close };
}
