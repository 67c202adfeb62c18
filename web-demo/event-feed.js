// The feed of the dashboard: one row per Kinto event (newest first, at most MAX_ROWS), one chip
// per channel that delivered it, and on click the old/new diff of each impacted object. Live
// rows go above the separator #live-separator, rows of the history read on open (meta.history)
// below it, newest first, with the class `history`.

import { $, el, formatTimestamp } from '/dom.js';

const MAX_ROWS = 500;
const MAX_DIFF_OBJECTS = 50;

function formatValue(value) {
  if (value === undefined) return '';
  const compact = JSON.stringify(value);
  if (compact === undefined) return String(value);
  if (value !== null && typeof value === 'object' && compact.length > 60) return JSON.stringify(value, null, 2);
  return compact;
}

function objectId(impacted) {
  return impacted?.new?.id ?? impacted?.old?.id ?? null;
}

// "blog / articles / r1": the ids of what the event touched.
function describeIds(payload, impacted) {
  const parts = [];
  const resource = payload.resource_name;
  const own = { bucket: 'bucket_id', collection: 'collection_id', record: 'record_id', group: 'group_id' }[resource];
  if (resource !== 'bucket' && payload.bucket_id) parts.push(payload.bucket_id);
  if (resource === 'record' && payload.collection_id) parts.push(payload.collection_id);
  if (resource === 'group') parts.push('groups');
  let ownId = own ? payload[own] : undefined;
  if (!ownId) {
    const ids = [...new Set(impacted.map(objectId).filter(Boolean))];
    if (ids.length === 1) ownId = ids[0];
    else if (ids.length > 1) ownId = `{${ids.slice(0, 4).join(', ')}${ids.length > 4 ? `, +${ids.length - 4}` : ''}}`;
  }
  if (ownId) parts.push(ownId);
  return parts.length ? parts.join(' / ') : (payload.uri ?? '');
}

// The ids a record-id filter looks at: the record_id of the payload and the impacted objects' ids.
function recordIds(payload, impacted) {
  return [...new Set([payload.record_id, ...impacted.map(objectId)].filter((v) => v !== null && v !== undefined).map(String))];
}

// One Kinto event delivered on several channels has one key.
export function eventKey(frame) {
  const p = frame.payload ?? {};
  return `${p.action}|${p.resource_name}|${p.uri}|${p.timestamp}`;
}

function channelChip(frame, meta) {
  const kind = meta.replay ? ' replay' : meta.history ? ' history' : '';
  return el('span', {
    class: `chip${kind}`, 'data-channel': frame.channel, 'data-offset': String(frame.offset),
    title: meta.replay ? 'replayed after a reconnection' : meta.history ? 'from the history, before the page opened' : 'channel and offset',
  }, frame.channel, ' ', el('span', { class: 'offset', text: `#${frame.offset}` }));
}

function diffTable(oldObject, newObject) {
  const keys = [];
  const seen = new Set();
  for (const key of ['id', 'last_modified', ...Object.keys(oldObject ?? {}), ...Object.keys(newObject ?? {})]) {
    if (seen.has(key)) continue;
    if ((oldObject && key in oldObject) || (newObject && key in newObject)) { keys.push(key); seen.add(key); }
  }
  const rows = keys.map((key) => {
    const inOld = !!oldObject && key in oldObject;
    const inNew = !!newObject && key in newObject;
    const before = inOld ? formatValue(oldObject[key]) : '';
    const after = inNew ? formatValue(newObject[key]) : '';
    const kind = !inOld ? 'added' : !inNew ? 'removed' : before === after ? 'same' : 'changed';
    return el('tr', { class: kind, 'data-key': key },
      el('td', { class: 'key', text: key }),
      el('td', { class: `old${inOld ? '' : ' absent'}`, text: inOld ? before : '—' }),
      el('td', { class: `new${inNew ? '' : ' absent'}`, text: inNew ? after : '—' }));
  });
  return el('table', { class: 'diff' },
    el('thead', {}, el('tr', {}, el('th', { text: 'field' }), el('th', { text: 'old' }), el('th', { text: 'new' }))),
    el('tbody', {}, ...rows));
}

function renderDetails(row) {
  const details = row.details;
  details.replaceChildren();
  const objects = row.impacted.slice(0, MAX_DIFF_OBJECTS);
  if (!objects.length) details.append(el('p', { class: 'muted', text: 'No impacted objects in this event.' }));
  for (const impacted of objects) {
    const id = objectId(impacted) ?? '(no id)';
    const lm = [impacted.old?.last_modified, impacted.new?.last_modified].filter((v) => v !== undefined).join(' → ');
    details.append(el('h3', { text: `${id}${lm ? `  (last_modified ${lm})` : ''}` }), diffTable(impacted.old, impacted.new));
  }
  if (row.impacted.length > objects.length) {
    details.append(el('p', { class: 'muted', text: `… and ${row.impacted.length - objects.length} more objects` }));
  }
  details.append(el('details', {}, el('summary', { class: 'muted', text: 'payload' }),
    el('pre', { text: JSON.stringify(row.payload, null, 2) })));
}

function toggleRow(row) {
  const open = row.button.getAttribute('aria-expanded') !== 'true';
  row.button.setAttribute('aria-expanded', String(open));
  row.el.classList.toggle('open', open);
  if (open) renderDetails(row);
  row.details.hidden = !open;
}

function mergeImpacted(row, impacted) {
  const known = new Set(row.impacted.map(objectId));
  for (const object of impacted) {
    const id = objectId(object);
    if (id === null || !known.has(id)) { row.impacted.push(object); known.add(id); }
  }
}

// A row for the event of `frame`, not yet in any list: {key, el, …}. Its node carries the
// data-action, data-resource and data-ids (space-separated record ids) the filters read.
export function createEventRow(frame, meta = {}) {
  const key = eventKey(frame);
  const impacted = Array.isArray(frame.impacted_objects) ? frame.impacted_objects : [];
  const payload = frame.payload ?? {};
  const action = String(payload.action ?? 'event');
  const ids = el('span', { class: 'ids', text: describeIds(payload, impacted) });
  const where = el('span', { class: 'where' }, channelChip(frame, meta));
  const count = impacted.length;
  const button = el('button', { type: 'button', class: 'event-summary', 'aria-expanded': 'false' },
    el('span', { class: `action ${action}`, text: action }),
    el('span', { class: 'what' },
      el('span', { class: 'chevron', 'aria-hidden': 'true', text: '▸' }),
      el('span', { class: 'resource', text: payload.resource_name ?? '?' }),
      ids),
    where,
    el('span', { class: 'meta' },
      el('span', { class: 'user', text: payload.user_id ?? 'anonymous' }),
      el('span', { class: 'timestamp', title: `Kinto timestamp ${frame.timestamp}`, 'data-timestamp': String(frame.timestamp) },
        `${formatTimestamp(frame.timestamp)} · ${frame.timestamp}`),
      count > 1 ? el('span', { text: `${count} objects` }) : null,
      meta.replay ? el('span', { class: 'badge-replay', text: 'replayed' }) : null,
      meta.history ? el('span', { class: 'badge-history', text: 'history' }) : null));
  const details = el('div', { class: 'details', hidden: true });
  const node = el('li', {
    class: `event${meta.history ? ' history' : ' fresh'}`, 'data-key': key, 'data-channel': frame.channel,
    'data-offset': String(frame.offset), 'data-action': action, 'data-resource': payload.resource_name ?? '',
    'data-ids': recordIds(payload, impacted).join(' '),
  }, button, details);
  const row = { key, el: node, button, details, where, ids, payload, impacted: [...impacted], timestamp: frame.timestamp };
  button.addEventListener('click', () => toggleRow(row));
  return row;
}

// History rows sit below the separator, newest first.
function insertHistoryRow(feed, node, timestamp) {
  const separator = $('live-separator');
  separator.hidden = false;
  let after = separator;
  while (after.nextElementSibling && Number(after.nextElementSibling.querySelector('.timestamp')?.dataset.timestamp) > timestamp) {
    after = after.nextElementSibling;
  }
  after.after(node);
}

// Adds the event of `frame` to the feed, or a chip to its row when another channel delivered the
// same Kinto event already (then false). `rows` maps event keys to rows. `meta.history`: an
// event read from /v1/history on open, shown below the separator.
export function addEventRow(rows, frame, meta) {
  const existing = rows.get(eventKey(frame));
  if (existing) {
    // The same Kinto event on another subscribed channel: one row, one chip per channel.
    const impacted = Array.isArray(frame.impacted_objects) ? frame.impacted_objects : [];
    existing.where.append(channelChip(frame, meta));
    mergeImpacted(existing, impacted);
    existing.ids.textContent = describeIds(existing.payload, existing.impacted);
    existing.el.dataset.ids = recordIds(existing.payload, existing.impacted).join(' ');
    if (!existing.details.hidden) renderDetails(existing);
    return false;
  }
  const row = createEventRow(frame, meta);
  rows.set(row.key, row);
  const feed = $('feed');
  if (meta.history) {
    insertHistoryRow(feed, row.el, Number(frame.timestamp));
  } else {
    feed.prepend(row.el);
    setTimeout(() => row.el.classList.remove('fresh'), 1_300);
  }
  while (rows.size > MAX_ROWS) {
    const last = [...feed.querySelectorAll(':scope > li.event')].pop();
    if (!last) break;
    rows.delete(last.dataset.key);
    last.remove();
  }
  return true;
}

// Empties the feed (the separator stays, hidden).
export function clearFeed(rows) {
  for (const node of $('feed').querySelectorAll(':scope > li.event')) node.remove();
  $('live-separator').hidden = true;
  rows.clear();
}
