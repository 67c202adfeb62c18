// kinto-push client: subscribe to Kinto change events pushed by a kinto-push server.
//
// ES modules for browsers and Node (18+), no build step, no dependency in browsers: this one
// (the client: subscriptions, reconnection, the choice of transport), its two transports beside
// it, kinto-push-ws.js (WebSocket, `transport: "websocket"`, and first with `"auto"`) and
// kinto-push-sse.js (Server-Sent Events, `transport: "sse"`, or `"auto"` when WebSocket cannot
// connect), and the modules they share: kinto-push-positions.js (each channel's position,
// replay and resync), kinto-push-storage.js (where positions are kept), kinto-push-backoff.js
// (reconnection delays) and kinto-push-listeners.js (on/off/once). In Node without a global
// WebSocket it imports the `ws` package on first use, or takes a `WebSocket` constructor
// option. Documentation: docs/js-client.md; types: kinto-push.d.ts.
//
// What it does for you: connects, reconnects with exponential backoff and full jitter, resumes
// every channel from the last event it saw (no hole, no duplicate), keeps those positions in a
// pluggable storage, and tells you with a `resync` event when the server's history no longer
// covers the gap, so that you fetch the changes from Kinto with `_since=<timestamp>`.

import { DEFAULT_BACKOFF, backoffDelay } from './kinto-push-backoff.js';
import { Listeners } from './kinto-push-listeners.js';
import { ChannelPositions } from './kinto-push-positions.js';
import { SseTransport, sseUrl } from './kinto-push-sse.js';
import { memoryStorage, localStorageStorage } from './kinto-push-storage.js';
import { WebSocketTransport, webSocketUrl } from './kinto-push-ws.js';

export { DEFAULT_BACKOFF, backoffDelay, memoryStorage, localStorageStorage, sseUrl, webSocketUrl };

/** @typedef {import('./kinto-push-storage.js').Position} Position */
/** @typedef {import('./kinto-push-storage.js').PositionStorage} PositionStorage */
/** @typedef {import('./kinto-push-backoff.js').BackoffOptions} BackoffOptions */

/**
 * @typedef {object} ClientOptions
 * @property {string|null} [token] a JWT, or the value of a Kinto Authorization header
 *   (`Basic …`, `Bearer …`); sent as `?access_token=` in the upgrade (or SSE) request
 * @property {'websocket'|'sse'|'auto'} [transport='auto'] WebSocket (`/v1/ws`), Server-Sent
 *   Events (`/v1/sse`, read with fetch), or WebSocket with SSE as the fallback when no
 *   WebSocket connection of this client ever opened (see docs/js-client.md)
 * @property {typeof fetch} [fetch] the fetch function of the SSE transport (default: globalThis.fetch)
 * @property {PositionStorage} [storage] positions per channel (default: memoryStorage())
 * @property {any} [WebSocket] a WebSocket constructor (default: globalThis.WebSocket, else the
 *   `ws` package)
 * @property {BackoffOptions} [backoff]
 * @property {number} [connectTimeoutMs=10000] a connection without `welcome` by then is retried
 * @property {number|null} [pingIntervalMs] send a `ping` frame after this much silence and
 *   reconnect when nothing answers within the same time (default: the server's `heartbeat`;
 *   0 disables); over SSE, reconnect after twice this much silence (default 45 s)
 * @property {boolean} [autoConnect=true] connect at once (otherwise call connect())
 */

// Close codes (PROTOCOL.md, section 3).
const CLOSE_PROTOCOL_VIOLATION = 4000;
const CLOSE_UNAUTHORIZED = 4001;
// Codes after which the same request would fail again: no automatic reconnection.
const NO_RETRY = new Set([1002, 1003, 1007, 1009, CLOSE_PROTOCOL_VIOLATION, CLOSE_UNAUTHORIZED]);
const TRANSPORTS = ['websocket', 'sse', 'auto'];

const EVENTS = ['connect', 'disconnect', 'event', 'resync', 'subscribed', 'unsubscribed', 'error', 'state',
  'authenticated'];

/**
 * A connection to a kinto-push server that stays up: it reconnects by itself and resumes every
 * channel where it stopped.
 *
 * Events (subscribe with on(name, fn)):
 * - `connect` (welcome frame): connected and greeted by the server
 * - `disconnect` ({code, reason, willReconnect, delayMs}): the connection ended
 * - `event` (event frame, {replay}): a Kinto event on a subscribed channel; `replay` is true for
 *   an event the server replays after a resume (offset <= subscribed.offset)
 * - `resync` ({channel, timestamp, epoch, offset, previous}): the server could not replay what
 *   was missed (`recovered: false`): fetch changes since `timestamp` from Kinto; the client
 *   carries on from `offset` in `epoch`
 * - `subscribed` (subscribed frame, {since, resumed}): a subscription took effect
 * - `unsubscribed` (unsubscribed frame)
 * - `error` (error frame, or {type: 'transport'|'close'|'storage'|'handler', …})
 * - `state` (state): 'idle', 'connecting', 'open', 'reconnecting', 'unauthorized', 'failed', 'closed'
 * - `authenticated` (authenticated frame): the server accepted a token sent with setToken()
 */
export class KintoPushClient {
  /**
   * @param {string} url the server (`http://host:port`) or its WebSocket URL (`ws://host:port/v1/ws`)
   * @param {ClientOptions} [options]
   */
  constructor(url, options = {}) {
    const transport = options.transport ?? 'auto';
    if (!TRANSPORTS.includes(transport)) throw new TypeError(`kinto-push: transport must be one of ${TRANSPORTS.join(', ')}`);
    this.url = webSocketUrl(url);
    this.sseUrl = sseUrl(url);
    /** The transport in use: 'websocket' or 'sse' ('auto' starts with 'websocket'). */
    this.transport = transport === 'sse' ? 'sse' : 'websocket';
    this._transportOption = transport;
    this._locked = transport === 'auto' ? null : transport;   // auto: the transport that answered
    this._fetch = options.fetch ?? null;
    this._sse = null;
    this.token = options.token ?? null;
    this.storage = options.storage ?? memoryStorage();
    this.backoff = { ...DEFAULT_BACKOFF, ...(options.backoff ?? {}) };
    this.connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
    this.pingIntervalMs = options.pingIntervalMs ?? null;
    /** @type {string} */
    this.state = 'idle';
    /** The last welcome frame, or null. */
    this.welcome = null;
    /** Failed connection attempts since the last welcome. */
    this.attempt = 0;
    /** Connections that reached welcome. */
    this.connections = 0;
    this._listeners = new Listeners(EVENTS);
    this._channels = new Map();   // channel -> entry (see ChannelPositions.open)
    this._positions = new ChannelPositions(this);
    this._ws = new WebSocketTransport(this, options.WebSocket);
    this._timers = { reconnect: null };
    this._stopped = true;
    if (options.autoConnect ?? true) this.connect();
  }

  // ------------------------------------------------------------------------------------------
  // Events

  /**
   * Adds a listener.
   * @param {string} name one of connect, disconnect, event, resync, subscribed, unsubscribed,
   *   error, state, authenticated
   * @param {Function} fn
   * @returns {this}
   */
  on(name, fn) {
    this._listeners.add(name, fn);
    return this;
  }

  /**
   * Removes a listener added with on() or once().
   * @param {string} name
   * @param {Function} fn
   * @returns {this}
   */
  off(name, fn) {
    this._listeners.remove(name, fn);
    return this;
  }

  /**
   * Adds a listener called at most once.
   * @param {string} name
   * @param {Function} fn
   * @returns {this}
   */
  once(name, fn) {
    this._listeners.once(name, fn);
    return this;
  }

  _emit(name, ...args) {
    this._listeners.emit(name, ...args);
  }

  _call(fn, name, args) {
    this._listeners.call(fn, name, args);
  }

  _setState(state) {
    if (this.state === state) return;
    this.state = state;
    if (state === 'failed') {
      for (const entry of this._channels.values()) {
        for (const w of entry.waiters.splice(0)) w.reject(this._failedError());
      }
    }
    this._emit('state', state);
  }

  // What a subscribe() of a failed client rejects with: why it failed (connect() starts again).
  _failedError() {
    return Object.assign(new Error(`kinto-push: the client failed (${this._failure ?? 'no reason given'}); ` +
      'call connect() to try again'), { code: 'failed' });
  }

  // ------------------------------------------------------------------------------------------
  // Subscriptions

  /**
   * Subscribes to a channel (`/buckets`, `/buckets/{bid}`, `/buckets/{bid}/collections/{cid}`).
   * The subscription is kept across reconnections and resumed from the last event seen (or
   * from the position in storage). Subscribing again to a channel only adds `handler`.
   *
   * @param {string} channel
   * @param {(event: object, meta: {replay: boolean}) => void} [handler] called with each event
   *   of this channel, after the `event` listeners
   * @param {{since?: {timestamp: number}|{epoch: string, offset: number}}} [options] where to
   *   start, instead of the stored position (e.g. `{timestamp: T}` right after a sync with Kinto
   *   up to ETag T; collection channels only)
   * @returns {Promise<object>} the first `subscribed` frame; rejects with an Error carrying the
   *   error frame (`.frame`) when the server refuses the channel
   */
  subscribe(channel, handler, options = {}) {
    if (typeof channel !== 'string' || !channel.startsWith('/')) {
      return Promise.reject(new TypeError(`kinto-push: invalid channel ${JSON.stringify(channel)}`));
    }
    let entry = this._channels.get(channel);
    if (!entry) {
      entry = this._positions.open(channel, options.since ?? null);
      entry.ready.then(() => this._transportInUse().update(entry));
    }
    if (handler) entry.handlers.add(handler);
    if (entry.status === 'subscribed' && entry.last) return Promise.resolve(entry.last);
    if (this.state === 'failed') {
      const failed = Promise.reject(this._failedError());
      failed.catch(() => {});   // as below: the error event has told a caller that does not await
      return failed;
    }
    const promise = new Promise((resolve, reject) => entry.waiters.push({ resolve, reject }));
    promise.catch(() => {});   // a caller that does not await is told through the error event
    return promise;
  }

  /**
   * Stops a subscription and forgets the channel's position (unless `keepPosition`).
   * @param {string} channel
   * @param {{keepPosition?: boolean}} [options]
   * @returns {Promise<void>} resolved once the server confirmed (or at once when offline)
   */
  unsubscribe(channel, { keepPosition = false } = {}) {
    const entry = this._channels.get(channel);
    if (!entry) return Promise.resolve();
    this._channels.delete(channel);
    clearTimeout(entry.retryTimer);
    for (const w of entry.waiters.splice(0)) w.reject(Object.assign(new Error(`unsubscribed from ${channel}`), { code: 'unsubscribed' }));
    if (!keepPosition && this.storage.delete) {
      Promise.resolve().then(() => this.storage.delete(channel)).catch((error) =>
        this._emit('error', { type: 'storage', channel, error, message: `storage.delete failed: ${error?.message ?? error}` }));
    }
    const transport = this.transport === 'sse' ? this._sse : this._ws;
    return transport ? transport.unsubscribe(entry) : Promise.resolve();
  }

  /** The channels subscribed to (including those waiting for a connection). */
  channels() {
    return [...this._channels.keys()];
  }

  /**
   * The position of a channel: the last event seen, or null.
   * @param {string} channel
   * @returns {Position|null}
   */
  position(channel) {
    const p = this._channels.get(channel)?.position;
    return p ? { ...p } : null;
  }

  /**
   * Sets new credentials. When connected, they are sent in an `auth` frame (e.g. a fresh JWT
   * before the old one expires); after a 4001 close, the client reconnects with them.
   * @param {string|null} token
   */
  setToken(token) {
    this.token = token;
    if (this._stopped) return;
    if (this.state === 'unauthorized') {
      this.attempt = 0;
      if (this._sse) this._sse.tokenChanged();
      this._open();
    } else {
      this._transportInUse().tokenChanged();   // an auth frame, or a new stream with the new token
    }
  }

  // ------------------------------------------------------------------------------------------
  // Connection

  /** Connects (again), unless already connected or connecting. Done by the constructor. */
  connect() {
    if (!this._stopped && this.state !== 'failed' && this.state !== 'unauthorized') return;
    this._stopped = false;
    this.attempt = 0;
    this._open();
  }

  _open() {
    this._clearTimers();
    return this._transportInUse().open();
  }

  // The transport in use. Both (kinto-push-ws.js, kinto-push-sse.js) have the same interface:
  // open(), stop(), update(entry) (a channel's position loaded), unsubscribe(entry) and
  // tokenChanged(); they call back into the client (_connected, _onClose, _emit…), which decides
  // on reconnection, and into its ChannelPositions (kinto-push-positions.js), which keeps the
  // positions.
  _transportInUse() {
    if (this.transport === 'websocket') return this._ws;
    if (!this._sse) this._sse = new SseTransport(this, this._fetch);
    return this._sse;
  }

  // auto: a transport reached the server (a welcome, an HTTP answer of kinto-push): kept.
  _answered(transport) {
    if (!this._locked) this._locked = transport;
  }

  /**
   * Closes the connection and stops reconnecting. Subscriptions and positions are kept: a
   * later connect() resumes them.
   * @returns {Promise<void>} resolved once the socket is closed (at most 2 s)
   */
  close() {
    this._stopped = true;
    this._clearTimers();
    for (const entry of this._channels.values()) clearTimeout(entry.retryTimer);
    const closed = this._ws.stop();
    this._sse?.stop();
    for (const entry of this._channels.values()) {
      entry.status = 'pending';
      entry.retries = 0;
      for (const w of entry.waiters.splice(0)) w.reject(Object.assign(new Error('client closed'), { code: 'closed' }));
    }
    const wasOpen = this.state === 'open';
    this.welcome = null;
    this._setState('closed');
    if (wasOpen) this._emit('disconnect', { code: 1000, reason: 'client closed', willReconnect: false });
    return closed;
  }

  // Clears the timers of `timers` (the client's own, or a transport's).
  _clearTimers(timers = this._timers) {
    for (const key of Object.keys(timers)) {
      clearTimeout(timers[key]);
      timers[key] = null;
    }
  }

  // A transport reached the server: `welcome` is its greeting (or, over SSE, what stands for it).
  // The transport then emits `connect`.
  _connected(welcome) {
    this.welcome = welcome;
    this.attempt = 0;
    this.connections += 1;
    this._setState('open');
  }

  // The transport in use cannot work here (no WebSocket, no fetch): the client fails.
  _fail(message, error) {
    this._emit('error', { type: 'transport', ...(error ? { error } : {}), message });
    this._stopped = true;
    this._failure = message;
    this._setState('failed');
  }

  // No WebSocket here (Node 18-21 without ws): auto takes SSE, which needs none. `current`:
  // the socket that found none is still the one wanted.
  _noWebSocket(error, current) {
    if (this._transportOption === 'auto' && !this._locked) {
      this.transport = 'sse';
      this._locked = 'sse';
      if (current && !this._stopped) this._open();
      return;
    }
    this._fail(error.message, error);
  }

  // The connection (socket or stream) ended: reconnect with backoff, or stop. `extra` goes into
  // the error event (the HTTP status of an SSE refusal).
  _onClose(code, reason, extra = {}) {
    const hadWelcome = this.welcome !== null;
    this.welcome = null;
    this._clearTimers();
    for (const entry of this._channels.values()) {
      clearTimeout(entry.retryTimer);
      if (entry.status !== 'pending') entry.status = 'pending';
    }
    if (this._stopped) return;
    if (NO_RETRY.has(code)) {
      const unauthorized = code === CLOSE_UNAUTHORIZED;
      this._emit('error', {
        type: 'close', code, reason, ...extra,
        message: unauthorized
          ? `the server refused the credentials (${code}${reason ? ` ${reason}` : ''}): call setToken() with new ones`
          : `the server closed the connection with ${code}${reason ? ` (${reason})` : ''}: not retrying`,
      });
      this._failure = `closed with ${code}${reason ? ` ${reason}` : ''}`;
      this._setState(unauthorized ? 'unauthorized' : 'failed');
      this._emit('disconnect', { code, reason, willReconnect: false });
      return;
    }
    if (hadWelcome) this.attempt = 0;
    let delayMs = backoffDelay(this.attempt, this.backoff);
    if (this._transportOption === 'auto' && !this._locked && !hadWelcome && (code === 1006 || code === 1015 || extra.status)) {
      // auto, before any transport reached the server: WebSocket failed before opening (a
      // proxy that drops upgrades, or no server yet): SSE at once; SSE failed too: WebSocket
      // again after the backoff, and so on until one of them answers.
      this.transport = this.transport === 'websocket' ? 'sse' : 'websocket';
      if (this.transport === 'sse') delayMs = 0;
    }
    this.attempt += 1;
    this._setState('reconnecting');
    this._emit('disconnect', { code, reason, willReconnect: true, delayMs });
    if (this._stopped) return;   // a disconnect listener called close()
    this._timers.reconnect = setTimeout(() => {
      this._timers.reconnect = null;
      if (!this._stopped) this._open();
    }, delayMs);
  }
}

export default KintoPushClient;
