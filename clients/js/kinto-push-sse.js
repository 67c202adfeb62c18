// kinto-push client: the Server-Sent Events transport (PROTOCOL.md section 6), used by
// kinto-push.js with `transport: "sse"` (or `"auto"` when WebSocket cannot connect).
//
// It reads `GET /v1/sse` with `fetch` (browsers, Node 18+), not EventSource: fetch sees the
// HTTP status and the Kinto-shaped body of a refusal (400, 401, 403, 429, 503), which an
// EventSource hides, and needs no global EventSource in Node. The client, not the browser,
// keeps each channel's position: every stream is opened with `?last_event_id=` built from
// those positions, so a reconnection or a new channel set (a stream's channels are fixed by
// its URL: subscribe and unsubscribe reopen it) loses nothing, and the client's offset filter
// drops anything it already has. Documentation: docs/js-client.md.

import { EventStreamParser } from './kinto-push-event-stream.js';
import { sseUrl, streamRequest } from './kinto-push-sse-request.js';

export { EventStreamParser, sseUrl };

// `event: error` codes and the WebSocket close codes they stand for (PROTOCOL.md section 3),
// so that `disconnect` listeners see the same codes over both transports.
const END_CODES = { too_slow: 4008, unauthorized: 4001, shutdown: 1001, internal: 1011 };

function sameEntries(a, b) {
  return a.length === b.length && a.every((e, i) => e === b[i]);
}

async function readBody(response) {
  try {
    const text = await response.text();
    try { return JSON.parse(text); } catch { return { message: text.slice(0, 500) }; }
  } catch {
    return {};
  }
}

/**
 * One stream at a time for a KintoPushClient: it opens `GET /v1/sse` with every channel the
 * client holds, feeds `subscribed` and events to the client's position logic, reopens the
 * stream when the channel set or the token changes, and reports losses to the client, which
 * reconnects with backoff. Internal to kinto-push.js.
 */
export class SseTransport {
  constructor(client, fetchImpl) {
    this.client = client;
    this.url = client.sseUrl;
    this._fetch = fetchImpl ?? null;
    this._stream = null;
    this._seq = 0;
    this._timers = { reopen: null, silence: null };
    this._accepted = new Set();   // channels a stream accepted: not the cause of a later refusal
    this._oneAtATime = false;     // after a refusal naming no channel: add channels one by one
    this._epoch = null;           // the epoch of the last `subscribed`
  }

  /** The channels the next stream carries, in the client's order. */
  _entries() {
    const loaded = [...this.client._channels.values()].filter((e) => e.position !== undefined && !e.parked);
    if (!this._oneAtATime) return loaded;
    const next = loaded.find((e) => !this._accepted.has(e.channel));
    if (!next) {
      this._oneAtATime = false;
      return loaded;
    }
    return loaded.filter((e) => e === next || this._accepted.has(e.channel));
  }

  /** The channel set or the credentials changed: reopen the stream soon (changes made in one tick go together). */
  update() {
    if (this._timers.reopen) return;
    this._timers.reopen = setTimeout(() => {
      this._timers.reopen = null;
      const c = this.client;
      if (c._stopped || c.transport !== 'sse' || ['unauthorized', 'failed', 'closed', 'idle'].includes(c.state)) return;
      if (c._timers.reconnect) return;   // the reconnection takes the new set
      if (this._stream && !this._stream.stale && sameEntries(this._stream.entries, this._entries())) return;
      this.open(c.state === 'open');
    }, 0);
  }

  /** Ends the stream, if any, without reporting anything. */
  stop() {
    this._seq++;
    this.client._clearTimers(this._timers);
    const stream = this._stream;
    this._stream = null;
    if (stream) {
      clearTimeout(stream.connectTimer);
      try { stream.controller.abort(); } catch { /* already done */ }
    }
  }

  /**
   * Opens a stream with the channels the client holds, or, with none, asks `GET /v1/` so that
   * `connect` still means "the server answered". `quiet`: a reopen while connected (new channel
   * set or token), which changes no state and emits no connect/disconnect.
   */
  open(quiet = false) {
    const c = this.client;
    this.stop();
    const seq = this._seq;
    if (!quiet) c._setState(c.connections > 0 || c.attempt > 0 ? 'reconnecting' : 'connecting');
    // After this tick: the channels subscribed right after `new KintoPushClient()` (their
    // stored positions loaded meanwhile) go into the first stream.
    this._timers.reopen = setTimeout(() => {
      this._timers.reopen = null;
      if (seq === this._seq && !c._stopped) this._begin(seq, quiet);
    }, 0);
  }

  _begin(seq, quiet) {
    const c = this.client;
    const fetchImpl = this._fetch ?? globalThis.fetch;
    if (typeof fetchImpl !== 'function') {
      c._fail('kinto-push: no fetch here for the SSE transport: pass the fetch option');
      return;
    }
    if (!quiet) {
      // A new connection asks again for the channels that waited for the server.
      for (const entry of c._channels.values()) {
        if (entry.parked === 'unavailable') { clearTimeout(entry.retryTimer); entry.parked = null; }
      }
    }
    for (const channel of this._accepted) if (!c._channels.has(channel)) this._accepted.delete(channel);
    const entries = this._entries();
    const { url, asks } = streamRequest(this.url, entries, this._epoch, c.token);
    const stream = { seq, entries, asks, quiet, controller: new AbortController(), stale: false, tokenChanged: false };
    stream.tokenChanged = this._tokenChanged ?? false;
    this._tokenChanged = false;
    this._stream = stream;
    for (const entry of c._channels.values()) if (entry.status !== 'pending') entry.status = 'pending';
    for (const entry of entries) entry.status = 'sent';
    this._run(stream, fetchImpl, url).catch((error) => {
      if (stream.seq === this._seq) this._lost(stream, 1006, `SSE failed: ${error?.message ?? error}`, error);
    });
  }

  async _run(stream, fetchImpl, url) {
    const c = this.client;
    let timedOut = false;
    stream.connectTimer = setTimeout(() => { timedOut = true; stream.controller.abort(); }, c.connectTimeoutMs);
    let response;
    try {
      response = await fetchImpl(url, { headers: { Accept: stream.entries.length ? 'text/event-stream' : 'application/json' }, signal: stream.controller.signal });
    } catch (error) {
      if (stream.seq !== this._seq) return;
      const reason = timedOut ? 'no answer in time' : `cannot reach ${this.url}`;
      return this._lost(stream, 1006, reason, timedOut ? null : error);
    }
    clearTimeout(stream.connectTimer);
    if (stream.seq !== this._seq) {
      response.body?.cancel?.().catch(() => {});
      return undefined;
    }
    if (!response.ok) return this._refused(stream, response.status, await readBody(response));
    const type = response.headers.get('content-type') ?? '';
    if (stream.entries.length === 0) {
      const info = await readBody(response);
      if (stream.seq !== this._seq) return undefined;
      if (info?.server !== 'kinto-push') return this._refused(stream, 404, { message: `${url} is not a kinto-push server` });
      c._answered('sse');
      return this._opened(stream, `kinto-push/${info.version ?? ''}`);
    }
    if (!type.startsWith('text/event-stream') || !response.body) {
      return this._refused(stream, 404, { message: `${url} answered ${type || 'no content type'}, not an event stream` });
    }
    c._answered('sse');
    this._opened(stream, response.headers.get('server'));
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    const parser = new EventStreamParser((message) => this._message(stream, message));
    this._armSilence(stream);
    for (;;) {
      let chunk;
      try {
        chunk = await reader.read();
      } catch (error) {
        if (stream.seq === this._seq) this._lost(stream, 1006, 'the stream failed');
        return undefined;
      }
      if (stream.seq !== this._seq) return undefined;
      if (chunk.done) return this._lost(stream, 1006, 'the stream ended');
      this._armSilence(stream);
      parser.push(decoder.decode(chunk.value, { stream: true }));
      if (stream.seq !== this._seq) {   // a listener closed or reopened
        reader.cancel().catch(() => {});
        return undefined;
      }
    }
  }

  _opened(stream, server) {
    const c = this.client;
    if (stream.quiet && c.state === 'open') {
      if (stream.tokenChanged) c._emit('authenticated', { type: 'authenticated', sub: null, expires: null });
      return;
    }
    c._connected({ type: 'welcome', transport: 'sse', session: null, server: server ?? null, heartbeat: null });
    c._emit('connect', c.welcome);
    if (stream.tokenChanged) c._emit('authenticated', { type: 'authenticated', sub: null, expires: null });
  }

  // Silence longer than twice the ping interval (the server sends `: ping` every heartbeat):
  // the connection is dead even if TCP has not noticed.
  _armSilence(stream) {
    clearTimeout(this._timers.silence);
    const interval = this.client.pingIntervalMs ?? 45_000;
    if (!interval) return;
    this._timers.silence = setTimeout(() => {
      if (stream.seq === this._seq) this._lost(stream, 1006, 'the stream went silent');
    }, 2 * interval);
  }

  _message(stream, message) {
    if (stream.seq !== this._seq) return;
    const c = this.client;
    let data;
    try {
      data = JSON.parse(message.data);
    } catch {
      c._emit('error', { type: 'transport', message: 'the server sent an SSE message that is not JSON' });
      return;
    }
    if (!data || typeof data !== 'object') return;
    if (message.event === 'subscribed') this._subscribed(stream, data);
    else if (message.event === 'error') this._ended(stream, data);
    else if (message.event === 'message') this._event(data.type ? data : { type: 'event', ...data });
  }

  _subscribed(stream, data) {
    const c = this.client;
    const entry = c._channels.get(data.channel);
    const ask = stream.asks.get(data.channel);
    if (!entry || !ask || !stream.entries.includes(entry)) return;   // unsubscribed meanwhile
    this._accepted.add(entry.channel);
    this._epoch = data.epoch;
    entry.skipTo = ask.kind === 'timestamp' ? ask.skipTo : null;
    const frame = { type: 'subscribed', ...data };
    // A position the query could not carry (another epoch; a timestamp beside a channel that
    // is not a collection) was not resumed: the same as recovered:false.
    c._positions.applySubscribed(entry, ask.kind === 'lost' ? { ...frame, recovered: false } : frame, ask.since);
    // One at a time: this stream is all accepted, the next channel may join.
    if (this._oneAtATime && stream.entries.every((e) => this._accepted.has(e.channel))) this.update();
  }

  _event(frame) {
    const c = this.client;
    const entry = c._channels.get(frame.channel);
    // A `since: {timestamp}` carried by a smaller ?since_timestamp= of the same query: the
    // events up to this channel's own timestamp are not part of its replay.
    if (entry?.skipTo != null && entry.status === 'subscribed' && Number.isInteger(frame.offset)) {
      if (Number.isInteger(frame.timestamp) && frame.timestamp <= entry.skipTo) {
        c._positions.setPosition(entry, { epoch: entry.epoch, offset: frame.offset, timestamp: entry.position?.timestamp ?? null }, true);
        return;
      }
      entry.skipTo = null;
    }
    c._positions.onEvent(frame);
  }

  // `event: error`: the server ends the stream.
  _ended(stream, data) {
    const code = END_CODES[data.code] ?? 1011;
    this._lost(stream, code, String(data.message ?? data.code ?? ''));
  }

  _lost(stream, code, reason, error = null, extra = {}) {
    if (stream.seq !== this._seq) return;
    const c = this.client;
    this.stop();
    if (error) c._emit('error', { type: 'transport', error, message: `SSE: ${reason}: ${error.message ?? error}` });
    c._onClose(code, reason, { transport: 'sse', ...extra });
  }

  // A refusal before the stream: 401 stops until setToken() (as the 4001 close); 400 and 403
  // refuse the channel they name (the others carry on in a new stream); 429, 503 and 5xx are
  // retried with backoff; anything else (404: no /v1/sse here) is not retried.
  _refused(stream, status, body) {
    if (stream.seq !== this._seq) return;
    const c = this.client;
    const message = String(body?.message ?? `HTTP ${status}`);
    const kinto = Number.isInteger(body?.errno);
    if (kinto) c._answered('sse');
    const culprit = stream.entries.find((e) => message.startsWith(`${e.channel}: `))
      ?? stream.entries.find((e) => message.includes(`'${e.channel}'`));
    if ((status === 401 || status === 503) && culprit) {
      // One channel the credentials do not open, or whose authorization cannot be checked now:
      // it waits (for setToken(), or a retry with backoff), the others go on (as over
      // WebSocket, where the connection stays open).
      this._park(culprit, status, message);
      return this.open(stream.quiet && c.state === 'open');
    }
    if (status === 400 || status === 403) {
      const newcomers = stream.entries.filter((e) => !this._accepted.has(e.channel));
      const guilty = culprit ?? (newcomers.length === 1 ? newcomers[0] : null);
      if (guilty) {
        const code = status === 403 ? 'forbidden' : /at most \d+ channels/.test(message) ? 'too_many_subscriptions' : 'bad_request';
        this._refuse(guilty, code, message, status);
      } else {
        // No way to tell which channel: try them one at a time.
        if (newcomers.length === 0) this._accepted.clear();
        this._oneAtATime = true;
      }
      return this.open(stream.quiet && c.state === 'open');
    }
    this.stop();
    if (status === 401) return c._onClose(4001, message, { transport: 'sse', status });
    if (status === 429) return c._onClose(4029, message, { transport: 'sse', status });
    if (status >= 500 || (!kinto && c._transportOption === 'auto' && !c._locked)) {
      c._emit('error', { type: 'error', code: status === 503 ? 'unavailable' : 'internal', status, message, channel: culprit?.channel });
      return c._onClose(status === 503 ? 1013 : 1011, message, { transport: 'sse', status });
    }
    return c._onClose(4000, `HTTP ${status}: ${message}`, { transport: 'sse', status });
  }

  _park(entry, status, message) {
    const c = this.client;
    const code = status === 401 ? 'unauthorized' : 'unavailable';
    entry.parked = code;
    entry.status = 'pending';
    if (status === 503) {
      clearTimeout(entry.retryTimer);
      const delayMs = c._positions.retryDelay(entry);
      entry.retryTimer = setTimeout(() => {
        entry.parked = null;
        this.update();
      }, delayMs);
    }
    c._emit('error', { type: 'error', code, status, message, channel: entry.channel });
  }

  _refuse(entry, code, message, status) {
    const c = this.client;
    const wasAccepted = this._accepted.delete(entry.channel);
    const frame = { type: 'error', code, message, status, channel: entry.channel };
    c._positions.drop(entry, frame);
    c._emit('error', frame);
    // Withdrawn authorization (a channel a stream had accepted): as over WebSocket.
    if (wasAccepted) c._emit('unsubscribed', { type: 'unsubscribed', channel: entry.channel, reason: code });
  }

  /** New credentials: channels waiting for them come back, and the stream reopens with them. */
  tokenChanged() {
    for (const entry of this.client._channels.values()) if (entry.parked === 'unauthorized') entry.parked = null;
    this._tokenChanged = true;
    if (this._stream) this._stream.stale = true;
    this.update();
  }

  /**
   * A channel went: a new stream without it (the stream's channels are in its URL).
   * @returns {Promise<void>} resolved at once
   */
  unsubscribe(entry) {
    this.update();
    if (entry.status !== 'pending') this.client._emit('unsubscribed', { type: 'unsubscribed', channel: entry.channel });
    return Promise.resolve();
  }
}
