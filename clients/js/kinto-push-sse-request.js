// kinto-push client: what a stream of its SSE transport (kinto-push-sse.js) asks for: the
// `/v1/sse` URL of a server, and the query of one stream (`channel`s, `last_event_id` built from
// the client's positions, `since_timestamp`, `access_token`) with, per channel, what that
// query stands for. No I/O.

import { isPosition } from './kinto-push-storage.js';

const COLLECTION = /^\/buckets\/[^/]+\/collections\/[^/]+$/;

// A position that `last_event_id` can carry (its epoch is not empty).
function resumable(p) {
  return isPosition(p) && p.epoch !== '';
}

/**
 * The SSE URL of a kinto-push server: `http(s)://host[:port]` (or its `ws(s)://…/v1/ws`
 * URL) becomes `http(s)://host[:port]/v1/sse`; another path is kept as it is.
 * @param {string} url
 * @returns {string}
 */
export function sseUrl(url) {
  const base = globalThis.location?.href;
  const u = base ? new URL(url, base) : new URL(url);
  if (u.protocol === 'ws:') u.protocol = 'http:';
  else if (u.protocol === 'wss:') u.protocol = 'https:';
  if (u.pathname === '' || u.pathname === '/' || u.pathname.endsWith('/v1/ws')) {
    u.pathname = u.pathname.replace(/(\/v1\/ws)?\/?$/, '/v1/sse');
  }
  u.search = '';
  u.hash = '';
  return u.toString();
}

/**
 * The request of a stream carrying `entries` (the client's channel entries, in order): its URL
 * and, per channel, what it asks for (`kind`: 'live', 'offset', 'timestamp' or 'lost', a
 * position the query cannot carry) and the `since` it stands for. With no channel, the URL of
 * `GET /v1/`.
 * @param {string} baseUrl the server's SSE URL (sseUrl())
 * @param {object[]} entries
 * @param {string|null} lastEpoch the epoch of the last `subscribed`
 * @param {string|null} token
 * @returns {{url: string, asks: Map<string, {kind: string, since: object|null, skipTo?: number|null}>}}
 */
export function streamRequest(baseUrl, entries, lastEpoch, token) {
  if (entries.length === 0) return { url: new URL('./', baseUrl).toString(), asks: new Map() };
  const wants = entries.map((e) => {
    if (e.since && Number.isInteger(e.since.timestamp)) return { timestamp: e.since.timestamp };
    if (e.since && resumable(e.since)) return { epoch: e.since.epoch, offset: e.since.offset };
    if (resumable(e.position)) return { epoch: e.position.epoch, offset: e.position.offset };
    return null;
  });
  // One epoch per id: the server's last, else the commonest among the positions.
  const epochs = wants.filter((w) => w?.epoch !== undefined).map((w) => w.epoch);
  let epoch = epochs.includes(lastEpoch) ? lastEpoch : null;
  if (!epoch && epochs.length) {
    const counts = new Map();
    for (const e of epochs) counts.set(e, (counts.get(e) ?? 0) + 1);
    epoch = [...counts.entries()].sort((a, b) => b[1] - a[1])[0][0];
  }
  // ?since_timestamp= applies to every channel without an offset and is refused when a
  // channel of the query is not a collection: then such a channel resyncs from Kinto.
  const timestamps = wants.filter((w) => w?.timestamp !== undefined).map((w) => w.timestamp);
  const sinceTimestamp = timestamps.length && entries.every((e) => COLLECTION.test(e.channel))
    ? Math.min(...timestamps) : null;
  const asks = new Map();
  const slots = entries.map((entry, i) => {
    const want = wants[i];
    let ask;
    if (!want) ask = { kind: 'live', since: null };
    else if (want.epoch !== undefined) ask = { kind: want.epoch === epoch ? 'offset' : 'lost', since: want };
    else if (sinceTimestamp !== null) ask = { kind: 'timestamp', since: want, skipTo: want.timestamp > sinceTimestamp ? want.timestamp : null };
    else ask = { kind: 'lost', since: want };
    asks.set(entry.channel, ask);
    return ask.kind === 'offset' ? String(want.offset) : '';
  });
  const url = new URL(baseUrl);
  for (const entry of entries) url.searchParams.append('channel', entry.channel);
  if (slots.some((s) => s !== '')) url.searchParams.set('last_event_id', `${epoch}_${slots.join('_')}`);
  if (sinceTimestamp !== null) url.searchParams.set('since_timestamp', String(sinceTimestamp));
  if (token) url.searchParams.set('access_token', token);
  return { url: url.toString(), asks };
}
