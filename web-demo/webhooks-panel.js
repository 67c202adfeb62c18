// The Webhooks panel: every webhook (GET /v1/webhooks) with its status badge (active, retrying,
// disabled and why), URL, and per channel its lag (events, seconds), delivered / last offsets and
// failures; an enabled switch (PATCH /v1/webhooks/{id} {"enabled"}); and, expanded, its last
// delivery attempts (GET /v1/webhooks/{id}/deliveries). Refreshed every few seconds while the
// panel is open and the page visible. Server text is only ever set as text.

import { $, el, clock } from '/dom.js';
import { Poller } from '/poller.js';
import { adminToken, setAdminToken, describeAdminError, isAuthError, onAdminTokenChange, stopsPolling } from '/admin-api.js';

const INTERVAL_MS = 2_000;
const MAX_ATTEMPTS_SHOWN = 50;

const webhookPath = (id) => `/v1/webhooks/${encodeURIComponent(id)}`;
const num = (v) => (Number.isFinite(v) ? v : null);

function timeOf(attempt) {
  const ms = num(attempt.time_ms) ?? (typeof attempt.time === 'string' ? Date.parse(attempt.time) : num(attempt.time));
  return Number.isFinite(ms) ? new Date(ms) : null;
}

function seconds(x) { return x < 10 ? `${x.toFixed(1)} s` : `${Math.round(x)} s`; }

function channelLine(channel, p = {}) {
  const lag = num(p.lag);
  const failures = num(p.failures);
  const lagText = lag === null ? 'lag —'
    : `lag ${lag} event${lag === 1 ? '' : 's'}${num(p.lag_seconds) !== null ? ` · ${seconds(p.lag_seconds)}` : ''}`;
  const parts = [
    el('code', { class: 'webhook-channel', text: channel }),
    el('span', { class: 'lag', text: lagText }),
    el('span', { class: 'delivered', text: `delivered ${num(p.delivered) ?? '—'} / ${num(p.last) ?? '—'}` }),
  ];
  if (failures) {
    const next = num(p.next_attempt);
    const wait = next !== null ? ` · next attempt in ${seconds(Math.max(0, (next - Date.now()) / 1000))}` : '';
    parts.push(el('span', { class: 'failures', text: `${failures} failure${failures === 1 ? '' : 's'}${wait}` }));
  }
  return el('li', {
    'data-channel': channel, 'data-lag': lag === null ? undefined : String(lag),
    'data-delivered': String(num(p.delivered) ?? ''), 'data-last': String(num(p.last) ?? ''),
    'data-failures': failures === null ? undefined : String(failures),
  }, ...parts);
}

function attemptsTable(attempts) {
  if (!attempts.length) return el('p', { class: 'muted', text: 'No attempt yet.' });
  const rows = attempts.slice(0, MAX_ATTEMPTS_SHOWN).map((a) => {
    const status = num(a.status) ?? 0;
    const at = timeOf(a);
    const range = a.first === a.last || a.last === undefined ? `#${a.first ?? '?'}` : `#${a.first}–${a.last}`;
    const result = status ? String(status) : 'no answer';
    const error = typeof a.error === 'string' && a.error ? a.error : null;
    return el('tr', { class: status >= 200 && status < 300 ? 'ok' : 'failed', 'data-status': String(status) },
      el('td', { class: 'when', text: at ? clock(at) : '—', title: at ? at.toISOString() : undefined }),
      el('td', { class: 'what' }, el('code', { text: a.channel ?? '' }), ` ${range}`,
        a.type && a.type !== 'kinto.event' ? el('span', { class: 'muted', text: ` ${a.type}` }) : null),
      el('td', { class: 'result' }, el('b', { text: result }), error ? el('span', { class: 'attempt-error', text: ` ${error}` }) : null),
      el('td', { class: 'duration', text: num(a.duration_ms) !== null ? `${Math.round(a.duration_ms)} ms` : '' }));
  });
  return el('table', { class: 'attempts-table' },
    el('thead', {}, el('tr', {}, ...['time', 'channel', 'result', 'took'].map((h) => el('th', { text: h })))),
    el('tbody', {}, ...rows));
}

export function startWebhooksPanel({ api }) {
  const panel = $('webhooks-panel');
  const list = $('webhooks');
  const views = new Map();   // id -> view
  let refused = false;       // credentials refused: wait for another token (or the panel reopened)
  let poller;

  function showError(message) {
    $('webhooks-error').hidden = !message;
    $('webhooks-error').textContent = message;
  }

  function createView(id) {
    const view = { id, expanded: false, pending: false };
    view.badge = el('span', { class: 'badge' });
    view.url = el('code', { class: 'webhook-url' });
    view.reason = el('p', { class: 'webhook-reason', hidden: true });
    view.description = el('p', { class: 'muted webhook-description', hidden: true });
    view.elsewhere = el('p', { class: 'muted webhook-elsewhere', hidden: true,
      text: 'Delivered by another node: failures and lag in seconds are known there.' });
    view.channels = el('ul', { class: 'webhook-channels' });
    view.toggle = el('input', { type: 'checkbox', class: 'enabled-toggle' });
    view.toggle.setAttribute('aria-label', `enable webhook ${id}`);
    view.more = el('button', { type: 'button', class: 'secondary small attempts-button', 'aria-expanded': 'false', text: 'Last attempts' });
    view.attempts = el('div', { class: 'attempts', hidden: true });
    view.el = el('li', { class: 'webhook', 'data-id': id },
      el('div', { class: 'webhook-head' }, view.badge, view.url),
      view.reason, view.description, view.elsewhere, view.channels,
      el('div', { class: 'webhook-actions' },
        el('label', { class: 'inline' }, view.toggle, 'enabled'), view.more),
      view.attempts);
    view.toggle.addEventListener('change', () => setEnabled(view, view.toggle.checked));
    view.more.addEventListener('click', () => {
      view.expanded = !view.expanded;
      view.more.setAttribute('aria-expanded', String(view.expanded));
      view.attempts.hidden = !view.expanded;
      if (view.expanded) {
        view.attempts.replaceChildren(el('p', { class: 'muted', text: 'loading…' }));
        poller.poke();
      }
    });
    return view;
  }

  function update(view, w) {
    const status = ['active', 'retrying', 'disabled'].includes(w.status) ? w.status : (w.enabled === false ? 'disabled' : 'active');
    view.el.dataset.status = status;
    view.el.dataset.enabled = String(w.enabled !== false);
    view.badge.dataset.status = status;
    view.badge.textContent = status;
    view.url.textContent = String(w.url ?? '');
    view.reason.hidden = !w.disabled_reason;
    view.reason.textContent = w.disabled_reason ? String(w.disabled_reason) : '';
    view.description.hidden = !w.description;
    view.description.textContent = w.description ? String(w.description) : '';
    view.elsewhere.hidden = w.delivered_here !== false || status === 'disabled';
    if (!view.pending) view.toggle.checked = w.enabled !== false;
    const channels = Array.isArray(w.channels) ? w.channels : Object.keys(w.positions ?? {});
    view.channels.replaceChildren(...channels.map((c) => channelLine(String(c), w.positions?.[c])));
  }

  async function setEnabled(view, enabled) {
    view.pending = true;
    view.toggle.disabled = true;
    try {
      update(view, await api.patch(webhookPath(view.id), { enabled }));
      showError('');
    } catch (error) {
      view.toggle.checked = !enabled;
      showError(`${enabled ? 'enabling' : 'disabling'} ${view.id}: ${describeAdminError(error)}`);
      if (isAuthError(error)) $('admin-token-box').open = true;
    } finally {
      view.pending = false;
      view.toggle.disabled = false;
      poller.poke();
    }
  }

  async function refresh() {
    let answer;
    try {
      answer = await api.get('/v1/webhooks');
    } catch (error) {
      showError(describeAdminError(error));
      $('webhooks-status').textContent = `not updated since ${clock()}`;
      refused = stopsPolling(error);
      if (isAuthError(error)) $('admin-token-box').open = true;
      return;
    }
    showError('');
    const webhooks = Array.isArray(answer?.webhooks) ? answer.webhooks : [];
    const seen = new Set();
    for (const w of webhooks) {
      if (typeof w?.id !== 'string') continue;
      seen.add(w.id);
      let view = views.get(w.id);
      if (!view) {
        view = createView(w.id);
        views.set(w.id, view);
      }
      update(view, w);
      list.append(view.el);   // in the server's order
    }
    for (const [id, view] of views) {
      if (!seen.has(id)) { view.el.remove(); views.delete(id); }
    }
    $('webhooks-status').textContent = webhooks.length
      ? `${webhooks.length} webhook${webhooks.length === 1 ? '' : 's'} · updated ${clock()}`
      : 'No webhook. Register one with POST /v1/webhooks (see the documentation).';
    for (const view of views.values()) {
      if (!view.expanded) continue;
      try {
        const deliveries = await api.get(`${webhookPath(view.id)}/deliveries`);
        if (view.expanded) view.attempts.replaceChildren(attemptsTable(Array.isArray(deliveries?.deliveries) ? deliveries.deliveries : []));
      } catch (error) {
        view.attempts.replaceChildren(el('p', { class: 'error-line', text: describeAdminError(error) }));
      }
    }
  }

  $('admin-token').value = adminToken();
  $('admin-token-form').addEventListener('submit', (e) => {
    e.preventDefault();
    setAdminToken($('admin-token').value.trim());
  });
  $('admin-token-forget').addEventListener('click', () => {
    $('admin-token').value = '';
    setAdminToken('');
  });
  const retry = () => { refused = false; poller.poke(); };
  poller = new Poller(refresh, { intervalMs: INTERVAL_MS, isWanted: () => panel.open && !refused });
  panel.addEventListener('toggle', retry);
  onAdminTokenChange(retry);
  poller.start();
  return poller;
}
