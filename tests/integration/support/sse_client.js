'use strict';
// A Server-Sent Events client for the tests, written from the event-stream format of the HTML
// standard over Node's http/https: the status and headers of the answer, then every message
// (event, data, id) and comment in order. Independent of the server's code.

const http = require('node:http');
const https = require('node:https');

class SseStream {
  constructor() {
    this.status = 0;
    this.headers = {};
    this.body = '';          // the whole answer body (refusals are JSON)
    this.retry = null;
    this.messages = [];      // {event, data, id} in order; event 'message' when unnamed
    this.comments = [];
    this.lastEventId = '';
    this.ended = false;
    this._waiters = [];
    this._buffer = '';
    this._current = { event: '', data: [], id: null };
  }

  _feed(chunk) {
    this.body += chunk;
    this._buffer += chunk;
    let nl;
    while ((nl = this._buffer.search(/\r\n|\r|\n/)) !== -1) {
      const line = this._buffer.slice(0, nl);
      this._buffer = this._buffer.slice(nl + (this._buffer.startsWith('\r\n', nl) ? 2 : 1));
      this._line(line);
    }
    this._wake();
  }

  _line(line) {
    if (line === '') {
      const c = this._current;
      if (c.id !== null) this.lastEventId = c.id;
      if (c.data.length) {
        this.messages.push({ event: c.event || 'message', data: c.data.join('\n'), id: c.id });
      }
      this._current = { event: '', data: [], id: null };
      return;
    }
    if (line.startsWith(':')) {
      this.comments.push(line.slice(1).trim());
      return;
    }
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') this._current.event = value;
    else if (field === 'data') this._current.data.push(value);
    else if (field === 'id') this._current.id = value;
    else if (field === 'retry') this.retry = Number(value);
  }

  _wake() {
    this._waiters = this._waiters.filter((w) => !w());
  }

  // Resolves once `predicate(this)` holds; rejects after `ms` or when the stream ends first.
  until(predicate, ms = 5000, what = 'condition') {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`SSE: timed out waiting for ${what}; got ${JSON.stringify(this.messages.slice(-5))}`));
      }, ms);
      const check = () => {
        let done = false;
        try { done = predicate(this); } catch (e) { clearTimeout(timer); reject(e); return true; }
        if (done) { clearTimeout(timer); resolve(this); return true; }
        if (this.ended) {
          clearTimeout(timer);
          reject(new Error(`SSE: stream ended before ${what}; got ${JSON.stringify(this.messages.slice(-5))}`));
          return true;
        }
        return false;
      };
      if (!check()) this._waiters.push(check);
    });
  }

  // The unnamed messages (events), parsed, with their ids.
  events() {
    return this.messages.filter((m) => m.event === 'message').map((m) => ({ ...JSON.parse(m.data), _id: m.id }));
  }

  named(name) {
    return this.messages.filter((m) => m.event === name).map((m) => JSON.parse(m.data));
  }

  waitEvents(count, ms) {
    return this.until((s) => s.events().length >= count, ms, `${count} events`);
  }

  waitEnd(ms = 5000) {
    return this.until((s) => s.ended, ms, 'the end of the stream').catch((e) => {
      if (this.ended) return this;
      throw e;
    });
  }

  close() {
    this._request?.destroy();
    this._response?.destroy();
  }
}

// Opens `path` on `baseUrl` (http:// or https://). Resolves once the answer's head has come
// (whatever its status). `options`: headers, tls options (ca, rejectUnauthorized).
function openSse(baseUrl, path, { headers = {}, tls = {}, timeoutMs = 5000 } = {}) {
  const stream = new SseStream();
  const url = new URL(path, baseUrl);
  const lib = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      req.destroy();
      reject(new Error(`SSE: no answer to ${path} within ${timeoutMs} ms`));
    }, timeoutMs);
    const req = lib.get(url, { headers: { Accept: 'text/event-stream', ...headers }, agent: false, ...tls }, (res) => {
      clearTimeout(timer);
      stream.status = res.statusCode;
      stream.headers = res.headers;
      stream._response = res;
      res.setEncoding('utf8');
      res.on('data', (chunk) => stream._feed(chunk));
      const end = () => { stream.ended = true; stream._wake(); };
      res.on('end', end);
      res.on('close', end);
      res.on('error', end);
      resolve(stream);
    });
    stream._request = req;
    req.on('error', (e) => {
      clearTimeout(timer);
      if (stream.status) { stream.ended = true; stream._wake(); } else reject(e);
    });
  });
}

module.exports = { openSse, SseStream };
