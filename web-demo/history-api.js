// Reading a channel's history: GET /v1/history?channel=…&since=…&limit=…[&epoch=…] on the
// kinto-push server the dashboard is connected to (docs/protocol.md, "HTTP endpoints"). The
// credentials go as ?access_token=, as on the WebSocket upgrade, so no preflight is needed.
// Answers: {channel, epoch, offset (the channel's last), recovered, more, events (ascending)}.

const MAX_LIMIT = 1000;

// http(s)://host:port of a server URL given as http(s) or ws(s).
export function httpBase(serverUrl) {
  const url = new URL(serverUrl, location.href);
  if (url.protocol === 'ws:') url.protocol = 'http:';
  if (url.protocol === 'wss:') url.protocol = 'https:';
  return url.origin;
}

export async function fetchHistory(serverUrl, token, { channel, since = 0, limit = 100, epoch = null }) {
  const query = new URLSearchParams({ channel, since: String(since), limit: String(Math.min(MAX_LIMIT, Math.max(1, limit))) });
  if (epoch) query.set('epoch', epoch);
  if (token) query.set('access_token', token);
  let response;
  try {
    response = await fetch(`${httpBase(serverUrl)}/v1/history?${query}`, { cache: 'no-store' });
  } catch (error) {
    throw Object.assign(new Error(`the history could not be read: ${error.message}`), { status: 0 });
  }
  const body = await response.json().catch(() => null);
  if (!response.ok) {
    throw Object.assign(new Error(`history: ${response.status} ${body?.message ?? response.statusText}`), { status: response.status });
  }
  return body;
}

// The oldest offset the history still holds of `channel` in `epoch`, or null when it holds none.
// The server answers recovered:true exactly for the `since` values it can replay from, from
// (oldest - 1) up to the last offset: a binary search over them (at most ~53 small requests,
// only when the history was trimmed).
export async function oldestKept(serverUrl, token, { channel, epoch, last }) {
  let lo = 0;
  let hi = last;
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    const page = await fetchHistory(serverUrl, token, { channel, since: mid, limit: 1, epoch });
    if (page.recovered) hi = mid;
    else lo = mid + 1;
  }
  return lo < last ? lo + 1 : null;
}

// The (at most) `count` events of `channel` just before offset `before`, oldest first, in
// `epoch`. Returns {epoch, last, oldest, events, recovered}: `oldest` is the oldest offset the
// history holds (known only when it was needed, else null).
export async function readBefore(serverUrl, token, { channel, epoch, before, count }) {
  let since = Math.max(0, before - 1 - count);
  if (before - 1 <= since) return { epoch, last: null, oldest: null, events: [], recovered: true };
  let page = await fetchHistory(serverUrl, token, { channel, since, limit: before - 1 - since, epoch });
  let oldest = null;
  if (!page.recovered && page.epoch === epoch && page.offset > 0) {
    // Trimmed: start at the oldest event still held.
    oldest = await oldestKept(serverUrl, token, { channel, epoch, last: page.offset });
    if (oldest === null || oldest > before - 1) return { epoch, last: page.offset, oldest, events: [], recovered: false };
    since = oldest - 1;
    page = await fetchHistory(serverUrl, token, { channel, since, limit: before - 1 - since, epoch });
  }
  const events = (page.events ?? []).filter((e) => e.offset < before);
  return { epoch: page.epoch, last: page.offset, oldest, events, recovered: page.recovered };
}
