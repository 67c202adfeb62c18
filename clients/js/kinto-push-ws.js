// kinto-push client: the WebSocket transport (`/v1/ws`, PROTOCOL.md), used by kinto-push.js
// with `transport: "websocket"` (and first with `"auto"`).
//
// One socket at a time: it sends a `subscribe` frame per channel from the client's positions,
// an `auth` frame for new credentials and a `ping` after silence, feeds `welcome`, `subscribed`,
// events and error frames to the client's position logic, and reports a socket that closes or
// goes silent to the client, which reconnects with backoff. In Node without a global WebSocket
// it imports the `ws` package on first use, or takes the client's `WebSocket` constructor
// option. Documentation: docs/js-client.md.

import { isPosition } from './kinto-push-storage.js';

/**
 * The WebSocket URL of a kinto-push server: `http(s)://host[:port]` becomes
 * `ws(s)://host[:port]/v1/ws`; a `ws(s)://` URL with a path is kept as it is.
 * @param {string} url
 * @returns {string}
 */
export function webSocketUrl(url) {
  const base = globalThis.location?.href;
  const u = base ? new URL(url, base) : new URL(url);
  if (u.protocol === 'http:') u.protocol = 'ws:';
  else if (u.protocol === 'https:') u.protocol = 'wss:';
  if (u.pathname === '' || u.pathname === '/') u.pathname = '/v1/ws';
  return u.toString();
}

// `ws` is an optional peer dependency: looked up beside this module first, then from the
// application (its main script, then the working directory), because `npm install
// ./clients/js` links the folder and Node resolves from this module's real path, where no
// node_modules is.
async function importWs() {
  try {
    return await import('ws');
  } catch (beside) {
    if (typeof process !== 'object' || !process.versions?.node) throw beside;
    const { createRequire } = await import('node:module');
    const { pathToFileURL } = await import('node:url');
    for (const base of [process.argv[1], `${process.cwd()}/`]) {
      if (!base) continue;
      try {
        return createRequire(pathToFileURL(base).href)('ws');
      } catch {
        // not there either: the next place
      }
    }
    throw beside;
  }
}

let importedWs = null;
async function defaultWebSocket() {
  if (typeof globalThis.WebSocket === 'function') return globalThis.WebSocket;
  if (!importedWs) {
    importedWs = importWs().then((m) => m.WebSocket ?? m.default, (e) => {
      importedWs = null;
      throw new Error(`kinto-push: no global WebSocket and the "ws" package cannot be imported (${e.message}); ` +
        'install ws or pass the WebSocket option');
    });
  }
  return importedWs;
}

// Detaches a socket's handlers; the `ws` package throws on an error event nobody listens to.
function detach(ws) {
  ws.onmessage = ws.onclose = null;
  ws.onerror = () => {};
}

/**
 * One socket at a time for a KintoPushClient: it opens `/v1/ws`, subscribes the channels the
 * client holds once the server said `welcome`, answers for their requests (subscribe,
 * unsubscribe, auth) by frame id, and reports the end of the socket to the client. Internal to
 * kinto-push.js.
 */
export class WebSocketTransport {
  constructor(client, WebSocketImpl) {
    this.client = client;
    this._WebSocket = WebSocketImpl ?? null;
    this._ws = null;
    this._seq = 0;
    this._requests = new Map();   // frame id -> {kind, channel, entry, since} or {kind, channel, resolve}
    this._nextId = 1;
    this._timers = { connect: null, ping: null, pong: null };
  }

  _isOpen() {
    const c = this.client;
    return this._ws !== null && this._ws.readyState === 1 && c.welcome !== null && c.state === 'open';
  }

  // Requests that will get no answer: an unsubscribe is done anyway.
  _failRequests() {
    for (const request of this._requests.values()) if (request.kind === 'unsubscribe') request.resolve();
    this._requests.clear();
  }

  /** Opens a socket; the client's state becomes `connecting` (or `reconnecting`). */
  async open() {
    const c = this.client;
    c._clearTimers(this._timers);
    const seq = ++this._seq;
    c.welcome = null;
    c._setState(c.connections > 0 || c.attempt > 0 ? 'reconnecting' : 'connecting');
    let Impl;
    try {
      Impl = this._WebSocket ?? await defaultWebSocket();
    } catch (error) {
      c._noWebSocket(error, seq === this._seq);
      return;
    }
    if (seq !== this._seq || c._stopped) return;
    const url = new URL(c.url);
    if (c.token) url.searchParams.set('access_token', c.token);
    let ws;
    try {
      ws = new Impl(url.toString());
    } catch (error) {
      c._fail(`cannot open ${c.url}: ${error.message}`, error);
      return;
    }
    this._ws = ws;
    this._timers.connect = setTimeout(() => {
      if (this._ws === ws && !c.welcome) this._abandon(ws, 'no welcome in time');
    }, c.connectTimeoutMs);
    ws.onmessage = (e) => { if (this._ws === ws) this._message(e.data); };
    ws.onerror = (e) => {
      if (this._ws !== ws) return;
      const error = e?.error ?? new Error(e?.message ?? 'WebSocket error');
      c._emit('error', { type: 'transport', error, message: `WebSocket error: ${error.message || 'connection failed'}` });
    };
    ws.onclose = (e) => { if (this._ws === ws) this._closed(e?.code ?? 1006, String(e?.reason ?? '')); };
  }

  /**
   * Ends the socket, if any, without reporting anything (the client closes).
   * @returns {Promise<void>} resolved once the socket is closed (at most 2 s)
   */
  stop() {
    this.client._clearTimers(this._timers);
    const ws = this._ws;
    this._ws = null;
    this._failRequests();
    if (!ws) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => { clearTimeout(timer); resolve(); };
      const timer = setTimeout(done, 2_000);
      detach(ws);
      ws.onclose = () => done();
      try {
        if (ws.readyState === 3) done();
        else ws.close(1000, 'client closed');
      } catch {
        done();
      }
    });
  }

  /** A channel came (its stored position loaded): subscribe it if the socket is open. */
  update(entry) {
    if (entry) this._subscribe(entry);
  }

  /**
   * A channel went: `unsubscribe` when it was subscribed (or asked for) on an open socket.
   * @returns {Promise<void>} resolved once the server confirmed (or at once when offline)
   */
  unsubscribe(entry) {
    if (entry.status === 'pending' || !this._isOpen()) return Promise.resolve();
    return new Promise((resolve) => {
      const id = this._send({ type: 'unsubscribe', channel: entry.channel });
      if (id === null) return resolve();
      this._requests.set(id, { kind: 'unsubscribe', channel: entry.channel, resolve });
    });
  }

  /** New credentials: sent in an `auth` frame on an open socket (the next socket has them anyway). */
  tokenChanged() {
    const token = this.client.token;
    if (!this._isOpen() || !token) return;
    const id = this._send({ type: 'auth', token });
    if (id !== null) this._requests.set(id, { kind: 'auth' });
  }

  // The socket ended: reported to the client, which reconnects or stops.
  _closed(code, reason) {
    this._ws = null;
    this.client._clearTimers(this._timers);
    this._failRequests();
    this.client._onClose(code, reason);
  }

  // Gives up on a socket that went silent: closes it without waiting and treats it as a 1006.
  _abandon(ws, reason) {
    detach(ws);
    try { ws.close(1000, reason); } catch { /* already closing */ }
    if (this._ws === ws) this._closed(1006, reason);
  }

  _send(frame) {
    const ws = this._ws;
    if (!ws || ws.readyState !== 1) return null;
    const id = String(this._nextId++);
    try {
      ws.send(JSON.stringify({ ...frame, id }));
    } catch (error) {
      this.client._emit('error', { type: 'transport', error, message: `send failed: ${error.message}` });
      return null;
    }
    return id;
  }

  // After this much silence a `ping`; no answer within the same time: the socket is dead.
  _armPing() {
    const c = this.client;
    clearTimeout(this._timers.ping);
    clearTimeout(this._timers.pong);
    this._timers.pong = null;
    const interval = c.pingIntervalMs ?? (c.welcome?.heartbeat ?? 25) * 1000;
    if (!interval) return;
    const ws = this._ws;
    this._timers.ping = setTimeout(() => {
      if (this._ws !== ws) return;
      if (this._send({ type: 'ping' }) === null) return;
      this._timers.pong = setTimeout(() => {
        if (this._ws === ws) this._abandon(ws, 'no answer to ping');
      }, interval);
    }, interval);
  }

  _message(data) {
    const c = this.client;
    let frame;
    try {
      frame = JSON.parse(typeof data === 'string' ? data : new TextDecoder().decode(data));
    } catch {
      c._emit('error', { type: 'transport', message: 'the server sent a frame that is not JSON' });
      return;
    }
    if (!frame || typeof frame !== 'object') return;
    this._armPing();
    switch (frame.type) {
      case 'welcome': return this._welcome(frame);
      case 'subscribed': return this._subscribed(frame);
      case 'event': return c._positions.onEvent(frame);
      case 'unsubscribed': {
        const request = this._takeRequest(frame.id);
        if (request?.kind === 'unsubscribe') request.resolve();
        return c._emit('unsubscribed', frame);
      }
      case 'authenticated':
        this._takeRequest(frame.id);
        c._emit('authenticated', frame);
        // Channels refused as unauthorized before are tried again with the new credentials.
        for (const entry of c._channels.values()) if (entry.position !== undefined) this._subscribe(entry);
        return undefined;
      case 'error': return this._error(frame);
      default: return undefined;   // pong and frames of later versions
    }
  }

  _takeRequest(id) {
    if (id === undefined || id === null) return undefined;
    const key = String(id);
    const request = this._requests.get(key);
    this._requests.delete(key);
    return request;
  }

  _welcome(frame) {
    const c = this.client;
    clearTimeout(this._timers.connect);
    c._answered('websocket');
    c._connected(frame);
    this._armPing();
    c._emit('connect', frame);
    for (const entry of c._channels.values()) {
      if (entry.status === 'pending' && entry.position !== undefined) this._subscribe(entry);
    }
  }

  _subscribe(entry) {
    const c = this.client;
    if (c._channels.get(entry.channel) !== entry || entry.status !== 'pending' || !this._isOpen()) return;
    const frame = { type: 'subscribe', channel: entry.channel };
    let since = null;
    if (entry.since) {
      since = entry.since;
    } else if (isPosition(entry.position)) {
      since = { epoch: entry.position.epoch, offset: entry.position.offset };
    }
    if (since) frame.since = since;
    const id = this._send(frame);
    if (id === null) return;
    entry.status = 'sent';
    this._requests.set(id, { kind: 'subscribe', channel: entry.channel, entry, since });
  }

  _subscribed(frame) {
    const request = this._takeRequest(frame.id);
    const entry = this.client._channels.get(frame.channel);
    if (!entry || (request && request.entry !== entry)) return;   // unsubscribed meanwhile
    this.client._positions.applySubscribed(entry, frame, request?.since ?? null);
  }

  _error(frame) {
    const c = this.client;
    const request = this._takeRequest(frame.id);
    if (request?.kind === 'subscribe') {
      const entry = request.entry;
      if (c._channels.get(entry.channel) === entry) {
        if (frame.code === 'unavailable' || frame.code === 'internal') {
          // The server could not answer now: retry this channel later on the same connection.
          entry.status = 'pending';
          entry.retryTimer = setTimeout(() => this._subscribe(entry), c._positions.retryDelay(entry));
        } else if (frame.code === 'unauthorized') {
          // Kept: a token given with setToken() makes the next connection try again.
          entry.status = 'pending';
        } else {
          // forbidden, bad_request, too_many_subscriptions, not_found: the channel is dropped.
          c._positions.drop(entry, frame);
        }
      }
      return c._emit('error', { ...frame, channel: entry.channel });
    }
    if (request?.kind === 'unsubscribe') {
      request.resolve();
      if (frame.code === 'not_found') return undefined;
      return c._emit('error', { ...frame, channel: request.channel });
    }
    return c._emit('error', frame);
  }
}
