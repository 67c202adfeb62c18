// kinto-push live dashboard. Plain ES module; the client library is served at /kinto-push.js.
// URL parameters: ?channel=/buckets/b/collections/c (repeatable), &token=…, &server=http://host:port.
// Without a channel it subscribes to the firehose /buckets. See docs/dashboard.md.

import { KintoPushClient, memoryStorage } from '/kinto-push.js';
import { $, clock } from '/dom.js';
import { addEventRow, clearFeed } from '/event-feed.js';
import { ReplayNotice } from '/replay-notice.js';
import { LastClose } from '/last-close.js';
import { loadRecentHistory, emptyFeedNote } from '/recent-history.js';
import { startFeedFilters } from '/feed-filters.js';
import { startHistoryView } from '/history-view.js';
import { createAdminApi } from '/admin-api.js';
import { startWebhooksPanel } from '/webhooks-panel.js';
import { startChannelInfo } from '/channel-info.js';

const FIREHOSE = '/buckets';
const SPARK_SECONDS = 60;
const CHANNEL_RE = /^\/buckets(\/[a-zA-Z0-9_-]{1,64}(\/collections\/[a-zA-Z0-9_-]{1,64})?)?$/;

// ---------------------------------------------------------------------------------------------
// State

const params = new URLSearchParams(location.search);
const state = {
  serverUrl: params.get('server') || location.origin,
  token: params.get('token') || '',
  tokenInUrl: params.has('token'),
  storage: memoryStorage(),      // positions, kept while the server URL stays the same
  storageServer: null,
  client: null,
  channels: new Map(),           // channel -> card state
  rows: new Map(),               // event key -> row state
  total: 0,                      // Kinto events (one per row, whatever the channels)
  deliveries: 0,                 // event frames received (one per channel)
  hidden: 0,
  welcomes: 0,
  reconnects: 0,
  replay: new ReplayNotice(),    // the banner after a reconnection
  lastClose: new LastClose(),    // the Connection panel's "Last close"
  filters: null,                 // feed-filters.js
  historyView: null,             // history-view.js
  channelInfo: null,             // the poller of the subscriber counts (channel-info.js)
};

// ---------------------------------------------------------------------------------------------
// Connection state

const STATE_TEXT = {
  idle: 'idle',
  connecting: 'connecting…',
  open: 'connected',
  reconnecting: 'reconnecting…',
  unauthorized: 'unauthorized: set a token and connect',
  failed: 'connection failed',
  closed: 'disconnected',
};

function showState(name, detail = '') {
  $('state').dataset.state = name;
  $('state-text').textContent = STATE_TEXT[name] + (detail ? ` ${detail}` : '');
  $('connect-button').textContent = name === 'open' || name === 'connecting' || name === 'reconnecting' ? 'Reconnect' : 'Connect';
  $('disconnect-button').disabled = name === 'closed' || name === 'idle';
}

function showError(message) {
  const line = $('last-error');
  line.hidden = !message;
  line.textContent = message ? `${clock()} ${message}` : '';
}

// ---------------------------------------------------------------------------------------------
// Channels

function setChannelStatus(card, status, text) {
  card.status = status;
  card.el.dataset.status = status;
  card.el.querySelector('.status-text').textContent = text;
}

function addChannel(channel, { subscribe = true } = {}) {
  channel = channel.trim();
  if (!channel) return;
  if (state.channels.has(channel)) {
    const existing = state.channels.get(channel).el;
    existing.classList.remove('fresh');
    void existing.offsetWidth;
    existing.classList.add('fresh');
    return;
  }
  const node = $('channel-template').content.firstElementChild.cloneNode(true);
  node.dataset.channel = channel;
  // Line breaks may fall after a slash only.
  const name = node.querySelector('.channel-name');
  channel.split('/').forEach((part, i) => {
    if (i > 0) name.append('/', document.createElement('wbr'));
    name.append(part);
  });
  node.querySelector('.remove').addEventListener('click', () => removeChannel(channel));
  node.querySelector('.history-open').addEventListener('click', () => state.historyView?.open(channel));
  node.querySelector('.history-open').setAttribute('aria-label', `History of ${channel}`);
  node.querySelector('.remove').setAttribute('aria-label', `Remove ${channel}`);
  const card = {
    channel, el: node, count: 0, offset: null, epoch: null, history: null,
    buckets: new Array(SPARK_SECONDS).fill(0), status: 'pending',
  };
  state.channels.set(channel, card);
  $('channels').append(node);
  renderSparkline(card);
  syncUrl();
  state.channelInfo?.poke();   // its subscriber count
  if (subscribe && state.client) subscribeChannel(channel);
}

function removeChannel(channel) {
  const card = state.channels.get(channel);
  if (!card) return;
  state.channels.delete(channel);
  card.el.remove();
  state.client?.unsubscribe(channel).catch(() => {});
  syncUrl();
}

function subscribeChannel(channel) {
  const client = state.client;
  const card = state.channels.get(channel);
  if (card) setChannelStatus(card, 'pending', client?.state === 'open' ? 'subscribing…' : 'waiting for the connection');
  client.subscribe(channel).catch((error) => {
    if (state.client !== client || error.code === 'closed' || error.code === 'unsubscribed') return;
    const c = state.channels.get(channel);
    if (c) setChannelStatus(c, 'refused', `refused: ${error.code ?? ''} ${error.frame?.message ?? ''}`.trim());
  });
}

function renderCardStats(card) {
  card.el.querySelector('.count').textContent = String(card.count);
  card.el.querySelector('.offset').textContent = card.offset === null ? '—' : String(card.offset);
  const lastSecond = card.buckets[SPARK_SECONDS - 2];
  card.el.querySelector('.rate').textContent = `${lastSecond} ev/s`;
}

function renderSparkline(card) {
  const values = card.buckets;
  const max = Math.max(1, ...values);
  const w = 120;
  const h = 24;
  const step = w / (values.length - 1);
  const points = values.map((v, i) => `${(i * step).toFixed(1)},${(h - 1 - (v / max) * (h - 3)).toFixed(1)}`);
  const svg = card.el.querySelector('.sparkline');
  svg.querySelector('.line').setAttribute('points', points.join(' '));
  svg.querySelector('.area').setAttribute('points', `0,${h} ${points.join(' ')} ${w},${h}`);
  svg.setAttribute('aria-label', `events per second over the last ${SPARK_SECONDS} s, peak ${Math.max(...values)}`);
}

// Every second: the sparklines move one step left.
function tick() {
  for (const card of state.channels.values()) {
    card.buckets.shift();
    card.buckets.push(0);
    renderSparkline(card);
    renderCardStats(card);
  }
}

// ---------------------------------------------------------------------------------------------
// Feed

function updateFeedCount() {
  const rows = $('feed').querySelectorAll(':scope > li.event');
  const history = $('feed').querySelectorAll(':scope > li.event.history').length;
  const live = rows.length - history;
  let text = `${state.total} event${state.total === 1 ? '' : 's'}`;
  if (live < state.total - state.hidden) text += ` (${live} shown)`;
  if (state.deliveries !== state.total) text += ` · ${state.deliveries} deliveries on ${state.channels.size} channels`;
  if (state.hidden) text += `, ${state.hidden} while paused`;
  if (history) text += ` · ${history} from the history`;
  if (state.filters?.active()) text += ` · ${[...rows].filter((li) => !li.hidden).length} match the filters`;
  $('feed-count').textContent = text;
  $('empty').hidden = rows.length > 0;
  // Never "No events yet" beside a channel that has had events.
  const note = emptyFeedNote(state.channels.values());
  $('empty-text').textContent = note
    ? `${note}. New events appear here. Try:`
    : 'No events yet. When Kinto (or you) publishes a change, it appears here. Try:';
  $('empty').dataset.note = note ? 'history' : 'none';
}

function rowsAdded() {
  state.filters?.apply();   // it calls updateFeedCount()
  if (!state.filters) updateFeedCount();
}

// ---------------------------------------------------------------------------------------------
// Client

function connect() {
  if (state.client) state.client.close();
  if (state.storageServer !== state.serverUrl) {
    state.storage = memoryStorage();
    state.storageServer = state.serverUrl;
  }
  let client;
  try {
    client = new KintoPushClient(state.serverUrl, {
      token: state.token || null,
      storage: state.storage,
      backoff: { initialMs: 250, maxMs: 5_000, factor: 2, jitter: true },
    });
  } catch (error) {
    showState('failed');
    showError(`cannot connect to ${state.serverUrl}: ${error.message}`);
    return;
  }
  state.client = client;
  window.kintoPushDashboard.client = client;
  const mine = (fn) => (...args) => { if (state.client === client) fn(...args); };

  client.on('state', mine((s) => {
    showState(s);
    if (s !== 'open') {
      for (const card of state.channels.values()) {
        if (card.status !== 'refused') setChannelStatus(card, 'pending', 'waiting for the connection');
      }
    }
  }));
  client.on('connect', mine((welcome) => {
    $('server-name').textContent = welcome.server ?? '';
    $('session').textContent = welcome.session ? `session ${String(welcome.session).slice(0, 8)}` : '';
    showError('');
    if (state.welcomes > 0) {
      state.reconnects += 1;
      $('reconnects').textContent = String(state.reconnects);
      state.replay.reconnected();
    }
    state.welcomes += 1;
    state.lastClose.opened();
  }));
  client.on('disconnect', mine((info) => {
    state.lastClose.closed(info);
    if (info.willReconnect) {
      showState('reconnecting', `(next attempt in ${(info.delayMs / 1000).toFixed(1)} s)`);
    }
  }));
  client.on('subscribed', mine((frame) => {
    const card = state.channels.get(frame.channel);
    if (!card) return;
    card.epoch = frame.epoch;
    if (card.offset === null || frame.recovered === false) card.offset = frame.offset;
    setChannelStatus(card, 'subscribed', `live · epoch ${frame.epoch}`);
    renderCardStats(card);
    if (!card.history) {
      loadRecentHistory({ serverUrl: state.serverUrl, token: state.token, card, frame, rows: state.rows, onChange: rowsAdded });
    }
  }));
  client.on('resync', mine((info) => {
    state.replay.resync(info);
  }));
  client.on('event', mine((frame, meta) => {
    const card = state.channels.get(frame.channel);
    if (card) {
      card.count += 1;
      card.offset = frame.offset;
      card.buckets[SPARK_SECONDS - 1] += 1;
      renderCardStats(card);
      renderSparkline(card);
    }
    state.replay.event(frame, meta);
    state.deliveries += 1;
    if ($('pause').checked) {
      state.hidden += 1;
      state.total += 1;
    } else if (addEventRow(state.rows, frame, meta)) {
      state.total += 1;
    }
    rowsAdded();
  }));
  client.on('error', mine((error) => {
    const where = error.channel ? ` on ${error.channel}` : '';
    showError(`${error.code ?? error.type ?? 'error'}${where}: ${error.message ?? ''}`);
    if (error.type === 'close' && error.code === 4001) showState('unauthorized');
  }));

  for (const channel of state.channels.keys()) subscribeChannel(channel);
}

function disconnect() {
  state.client?.close();
}

// ---------------------------------------------------------------------------------------------
// URL

function syncUrl() {
  const parts = [];
  const enc = (v) => encodeURIComponent(v).replace(/%2F/gi, '/').replace(/%3A/gi, ':');
  if (state.serverUrl !== location.origin) parts.push(`server=${enc(state.serverUrl)}`);
  for (const channel of state.channels.keys()) parts.push(`channel=${enc(channel)}`);
  if (state.tokenInUrl && state.token) parts.push(`token=${encodeURIComponent(state.token)}`);
  const query = parts.length ? `?${parts.join('&')}` : '';
  if (location.search !== query) history.replaceState(null, '', `${location.pathname}${query}${location.hash}`);
}

function curlExample() {
  const channel = [...state.channels.keys()].find((c) => /\/collections\//.test(c)) ?? '/buckets/blog/collections/articles';
  const [, bucket = 'blog', collection = 'articles'] = /^\/buckets\/([^/]+)\/collections\/([^/]+)/.exec(channel) ?? [];
  const now = Date.now();
  let base = state.serverUrl;
  try { base = new URL(state.serverUrl, location.href).origin; } catch { /* as typed */ }
  base = base.replace(/^ws/, 'http');
  return `curl -X POST ${base}/v1/events -H 'Content-Type: application/json' -d '{
  "payload": {"timestamp": ${now}, "action": "create", "resource_name": "record",
              "uri": "/buckets/${bucket}/collections/${collection}/records/r1", "user_id": "account:alice",
              "bucket_id": "${bucket}", "collection_id": "${collection}", "record_id": "r1"},
  "impacted_objects": [{"new": {"id": "r1", "last_modified": ${now}, "title": "Hello"}}]}'`;
}

// ---------------------------------------------------------------------------------------------
// Start

function start() {
  window.kintoPushDashboard = { state, client: null };
  // On a phone the feed matters most: the connection form starts folded.
  if (window.matchMedia?.('(max-width: 800px)').matches) $('connection-panel').open = false;
  $('server-url').value = state.serverUrl;
  $('token').value = state.token;

  const initial = params.getAll('channel').map((c) => c.trim()).filter(Boolean);
  for (const channel of initial.length ? initial : [FIREHOSE]) addChannel(channel, { subscribe: false });
  $('curl-example').textContent = curlExample();
  state.filters = startFeedFilters({ lists: () => [$('feed'), $('history-rows')], onChange: updateFeedCount });
  state.historyView = startHistoryView({
    server: () => ({ serverUrl: state.serverUrl, token: state.token }),
    onRender: () => state.filters.apply(),
  });
  updateFeedCount();
  showState('idle');

  $('connect-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const server = $('server-url').value.trim() || location.origin;
    const token = $('token').value.trim();
    if (token !== state.token) state.tokenInUrl = state.tokenInUrl && !!token;
    state.serverUrl = server;
    state.token = token;
    syncUrl();
    $('curl-example').textContent = curlExample();
    connect();
  });
  $('disconnect-button').addEventListener('click', disconnect);
  $('channel-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const input = $('channel-input');
    const channel = input.value.trim();
    const hint = $('channel-hint');
    if (!CHANNEL_RE.test(channel)) {
      hint.hidden = false;
      hint.textContent = 'A channel is /buckets, /buckets/{bid} or /buckets/{bid}/collections/{cid} (ids: letters, digits, _ and -).';
      return;
    }
    hint.hidden = true;
    input.value = '';
    addChannel(channel);
    $('curl-example').textContent = curlExample();
  });
  $('firehose-button').addEventListener('click', () => addChannel(FIREHOSE));
  $('notice-close').addEventListener('click', () => { $('notice').hidden = true; });
  $('clear').addEventListener('click', () => {
    clearFeed(state.rows);
    state.total = 0;
    state.deliveries = 0;
    state.hidden = 0;
    updateFeedCount();
  });
  $('pause').addEventListener('change', () => { if (!$('pause').checked) { state.hidden = 0; updateFeedCount(); } });
  setInterval(tick, 1_000);
  syncUrl();
  connect();
  const api = createAdminApi(() => state.serverUrl);
  startWebhooksPanel({ api });
  state.channelInfo = startChannelInfo({ api, cards: () => state.channels.values() });
}

start();
