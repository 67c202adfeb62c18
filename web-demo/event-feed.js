// The live feed of the dashboard: one row per Kinto event (newest first, at most MAX_ROWS),
// one chip per channel that delivered it, and on click the old/new diff of each impacted object.

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

function eventKey(frame) {
  const p = frame.payload ?? {};
  return `${p.action}|${p.resource_name}|${p.uri}|${p.timestamp}`;
}

function channelChip(frame, replay) {
  return el('span', {
    class: `chip${replay ? ' replay' : ''}`, 'data-channel': frame.channel, 'data-offset': String(frame.offset),
    title: replay ? 'replayed after a reconnection' : 'channel and offset',
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

// Adds the event of `frame` to the feed, or a chip to its row when another channel delivered the
// same Kinto event already (then false). `rows` maps event keys to rows.
export function addEventRow(rows, frame, meta) {
  const key = eventKey(frame);
  const impacted = Array.isArray(frame.impacted_objects) ? frame.impacted_objects : [];
  const existing = rows.get(key);
  if (existing) {
    // The same Kinto event on another subscribed channel: one row, one chip per channel.
    existing.where.append(channelChip(frame, meta.replay));
    mergeImpacted(existing, impacted);
    existing.ids.textContent = describeIds(existing.payload, existing.impacted);
    if (!existing.details.hidden) renderDetails(existing);
    return false;
  }
  const payload = frame.payload ?? {};
  const action = String(payload.action ?? 'event');
  const ids = el('span', { class: 'ids', text: describeIds(payload, impacted) });
  const where = el('span', { class: 'where' }, channelChip(frame, meta.replay));
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
      meta.replay ? el('span', { class: 'badge-replay', text: 'replayed' }) : null));
  const details = el('div', { class: 'details', hidden: true });
  const node = el('li', {
    class: 'event fresh', 'data-key': key, 'data-channel': frame.channel, 'data-offset': String(frame.offset),
    'data-action': action, 'data-resource': payload.resource_name ?? '',
  }, button, details);
  const row = { key, el: node, button, details, where, ids, payload, impacted: [...impacted] };
  button.addEventListener('click', () => toggleRow(row));
  rows.set(key, row);
  $('feed').prepend(node);
  setTimeout(() => node.classList.remove('fresh'), 1_300);
  while (rows.size > MAX_ROWS) {
    const last = $('feed').lastElementChild;
    if (!last) break;
    rows.delete(last.dataset.key);
    last.remove();
  }
  return true;
}
