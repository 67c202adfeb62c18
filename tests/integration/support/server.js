'use strict';
// Helpers of the integration tests: the real kinto-push binary on 127.0.0.1:0, a WebSocket
// client that waits on frames (never by polling), HTTP helpers and Kinto event builders.
// Every wait has a timeout, so a failing test ends quickly instead of hanging the suite.

const { spawn } = require('node:child_process');
const net = require('node:net');
const crypto = require('node:crypto');
const fs = require('node:fs');
const WebSocket = require('ws');

const BIN = process.env.KINTO_PUSH_BIN;
// A sanitizer build starts several times slower, the more so on a busy machine.
const START_TIMEOUT_MS = (process.env.KINTO_PUSH_SANITIZER ?? 'none') !== 'none' ? 30_000 : 10_000;
const STOP_TIMEOUT_MS = 8_000;

// Children still running when the test process exits are killed, by PID only.
const running = new Set();
process.on('exit', () => {
  for (const proc of running) {
    try { process.kill(proc.pid, 'SIGKILL'); } catch { /* already gone */ }
  }
});

function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function delay(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// Starts kinto-push with `--listen 127.0.0.1:0 --store memory` plus `args`, and resolves once
// it logged the port it bound. The environment's KINTO_PUSH_* variables are not passed on,
// so only `args` configure the server. `port` listens on that port instead of any free one
// (to restart a server where its clients reconnect). `bin` runs another build of the server
// (the test-only kinto-push-faulty-disk, KINTO_PUSH_FAULTY_DISK_BIN).
async function startServer(args = [], { env = {}, port: fixedPort = 0, bin = BIN } = {}) {
  if (!bin) throw new Error('KINTO_PUSH_BIN must name the kinto-push binary');
  const childEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('KINTO_PUSH_')) childEnv[k] = v;
  Object.assign(childEnv, env);
  const proc = spawn(bin, ['--listen', `127.0.0.1:${fixedPort}`, '--store', 'memory', ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: childEnv,
  });
  running.add(proc);

  // The whole of stderr is read (a full pipe would block the server); the tail is kept for
  // diagnostics.
  let log = '';
  // Under a sanitizer (KINTO_PUSH_SANITIZER, set by ctest), any report in the server's log
  // fails the test when the server is stopped, whether or not it aborted.
  let sanitizerReport = null;
  const exited = new Promise((resolve) => {
    proc.on('exit', (code, signal) => {
      running.delete(proc);
      resolve({ code, signal });
    });
  });
  proc.on('error', () => {});
  const port = await withTimeout(new Promise((resolve, reject) => {
    proc.stderr.setEncoding('utf8');
    proc.stderr.on('data', (chunk) => {
      log += chunk;
      if (!sanitizerReport) {
        const m = /(ERROR: (Address|Leak)Sanitizer|WARNING: ThreadSanitizer|runtime error:)[^\n]*/.exec(chunk);
        if (m) sanitizerReport = m[0];
      }
      if (log.length > 256 * 1024) log = log.slice(-128 * 1024);
      const m = /listening on https?:\/\/127\.0\.0\.1:(\d+)/.exec(log);
      if (m) resolve(Number(m[1]));
    });
    proc.on('error', reject);
    exited.then(({ code, signal }) =>
      reject(new Error(`kinto-push exited before listening (code ${code}, signal ${signal}):\n${log}`)));
  }), START_TIMEOUT_MS, 'kinto-push start').catch((e) => {
    try { proc.kill('SIGKILL'); } catch { /* gone */ }
    throw e;
  });

  const url = `http://127.0.0.1:${port}`;
  let exitInfo = null;
  exited.then((info) => { exitInfo = info; });
  const server = {
    url,
    wsUrl: `ws://127.0.0.1:${port}/v1/ws`,
    port,
    proc,
    pid: proc.pid,
    exited,
    log: () => log,
    alive: () => exitInfo === null,
    // SIGTERM, then SIGKILL of this PID if it has not exited within `timeoutMs`.
    sanitizerReport: () => sanitizerReport,
    async stop(timeoutMs = STOP_TIMEOUT_MS) {
      const result = await this._stop(timeoutMs);
      // The exit flushes LeakSanitizer's report: read what is left of stderr first.
      await delay(50);
      if (sanitizerReport) throw new Error(`sanitizer report from kinto-push: ${sanitizerReport}\n${log.slice(-8000)}`);
      return result;
    },
    async _stop(timeoutMs) {
      if (exitInfo) return { ...exitInfo, killed: false };
      const started = Date.now();
      try { proc.kill('SIGTERM'); } catch { /* gone */ }
      try {
        const info = await withTimeout(exited, timeoutMs, 'kinto-push exit after SIGTERM');
        return { ...info, killed: false, ms: Date.now() - started };
      } catch {
        try { proc.kill('SIGKILL'); } catch { /* gone */ }
        const info = await withTimeout(exited, 5_000, 'kinto-push exit after SIGKILL');
        return { ...info, killed: true, ms: Date.now() - started };
      }
    },
    // Open file descriptors (Linux).
    openFds() {
      return fs.readdirSync(`/proc/${proc.pid}/fd`).length;
    },
    // Resident set size in bytes (Linux).
    rssBytes() {
      const status = fs.readFileSync(`/proc/${proc.pid}/status`, 'utf8');
      const m = /VmRSS:\s+(\d+)\s+kB/.exec(status);
      return m ? Number(m[1]) * 1024 : NaN;
    },
  };
  return server;
}

// ---------------------------------------------------------------------------------------------
// WebSocket client

let nextId = 1;

class Client {
  constructor(ws) {
    this.ws = ws;
    this.queue = [];        // received frames not yet taken by next()
    this.received = 0;
    this.waiters = [];      // {predicate, resolve, reject, timer}
    this.taps = [];         // fn(frame) -> true when the frame is consumed (not queued)
    this.closeInfo = null;
    this.errors = [];
    this.closed = new Promise((resolve) => {
      ws.on('close', (code, reason) => {
        this.closeInfo = { code, reason: reason.toString() };
        for (const w of this.waiters.splice(0)) {
          clearTimeout(w.timer);
          w.reject(new Error(`connection closed (${code} ${reason}) while waiting for ${w.what}`));
        }
        resolve(this.closeInfo);
      });
    });
    ws.on('error', (e) => this.errors.push(e));
    ws.on('message', (data, isBinary) => this._onMessage(data, isBinary));
  }

  // Opens a connection; with `welcome` (default) also waits for the welcome frame.
  static async connect(wsUrl, { timeoutMs = 5_000, welcome = true, wsOptions = {} } = {}) {
    const ws = new WebSocket(wsUrl, { handshakeTimeout: timeoutMs, ...wsOptions });
    const client = new Client(ws);
    await withTimeout(new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
      ws.once('close', (code) => reject(new Error(`closed with ${code} before open`)));
    }), timeoutMs, 'WebSocket open');
    if (welcome) client.welcome = await client.next((f) => f.type === 'welcome', timeoutMs);
    return client;
  }

  _onMessage(data, isBinary) {
    let frame;
    try {
      frame = JSON.parse(data.toString('utf8'));
    } catch {
      frame = { type: '<unparsable>', raw: data.toString('utf8'), binary: isBinary };
    }
    this.received += 1;
    for (const tap of this.taps) if (tap(frame)) return;
    const i = this.waiters.findIndex((w) => w.predicate(frame));
    if (i >= 0) {
      const [w] = this.waiters.splice(i, 1);
      clearTimeout(w.timer);
      w.resolve(frame);
      return;
    }
    this.queue.push(frame);
  }

  // Calls fn(frame) on every later frame; fn returns true to consume it (not queued).
  tap(fn) {
    this.taps.push(fn);
    return () => { this.taps = this.taps.filter((t) => t !== fn); };
  }

  // The first queued or later frame that matches; it is taken out of the queue.
  next(predicate = () => true, timeoutMs = 5_000, what = 'a frame') {
    if (typeof predicate === 'string') {
      const type = predicate;
      predicate = (f) => f.type === type;
      what = `a "${type}" frame`;
    }
    const i = this.queue.findIndex(predicate);
    if (i >= 0) return Promise.resolve(this.queue.splice(i, 1)[0]);
    if (this.closeInfo) {
      return Promise.reject(new Error(`connection closed (${this.closeInfo.code}) while waiting for ${what}`));
    }
    return new Promise((resolve, reject) => {
      const waiter = { predicate, resolve, reject, what };
      waiter.timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        const seen = this.queue.slice(-3).map((f) => JSON.stringify(f).slice(0, 200)).join('\n  ');
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last queued:\n  ${seen}`));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  // `count` frames that match, in arrival order.
  async collect(predicate, count, timeoutMs = 10_000, what = 'frames') {
    const deadline = Date.now() + timeoutMs;
    const out = [];
    while (out.length < count) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out: got ${out.length}/${count} ${what}`);
      out.push(await this.next(predicate, left, `${what} (${out.length}/${count})`));
    }
    return out;
  }

  // Events of a channel: `count` of them.
  events(channel, count, timeoutMs = 10_000) {
    return this.collect((f) => f.type === 'event' && f.channel === channel, count, timeoutMs, `events of ${channel}`);
  }

  // Resolves with the matching frames that arrive within `ms` (a short bounded wait, used to
  // check that nothing more arrives).
  async drain(predicate = () => true, ms = 300) {
    await delay(ms);
    const taken = this.queue.filter(predicate);
    this.queue = this.queue.filter((f) => !predicate(f));
    return taken;
  }

  send(obj) {
    this.ws.send(typeof obj === 'string' ? obj : JSON.stringify(obj));
  }

  sendRaw(data, options = {}) {
    this.ws.send(data, options);
  }

  // Sends a frame with a fresh id and waits for the non-event frame answering it.
  async request(obj, timeoutMs = 5_000) {
    const id = obj.id ?? String(nextId++);
    this.send({ ...obj, id });
    return this.next((f) => f.type !== 'event' && f.id === id, timeoutMs, `the answer to ${obj.type} ${id}`);
  }

  subscribe(channel, since, timeoutMs) {
    const frame = { type: 'subscribe', channel };
    if (since !== undefined) frame.since = since;
    return this.request(frame, timeoutMs);
  }

  unsubscribe(channel) {
    return this.request({ type: 'unsubscribe', channel });
  }

  // Waits for the close, with a timeout.
  waitClosed(timeoutMs = 5_000) {
    return withTimeout(this.closed, timeoutMs, 'WebSocket close');
  }

  close() {
    if (this.closeInfo) return Promise.resolve(this.closeInfo);
    try { this.ws.close(); } catch { /* closing */ }
    return withTimeout(this.closed, 3_000, 'client close').catch(() => {
      this.ws.terminate();
      return this.closed;
    });
  }

  terminate() {
    this.ws.terminate();
  }
}

function connect(wsUrl, options) {
  return Client.connect(wsUrl, options);
}

// ---------------------------------------------------------------------------------------------
// HTTP

async function request(url, path, { method = 'GET', headers = {}, body, timeoutMs = 10_000 } = {}) {
  const res = await fetch(url + path, {
    method,
    headers,
    body,
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await res.text();
  let json;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: res.status, headers: res.headers, text, body: json };
}

// POST /v1/events. `body` is an object (sent as JSON) or a string (sent as is).
function publish(url, body, headers = {}) {
  return request(url, '/v1/events', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body),
  });
}

// publish(), asserting a 202.
async function publishOk(url, body, headers = {}) {
  const res = await publish(url, body, headers);
  if (res.status !== 202) throw new Error(`publish answered ${res.status}: ${res.text}`);
  return res.body.published;
}

function getJSON(url, path) {
  return request(url, path);
}

// One raw HTTP/1.1 exchange over TCP: writes `data` and resolves with everything the server
// sent until it closed the connection (or `timeoutMs`).
function rawHttp(port, data, timeoutMs = 5_000) {
  return withTimeout(new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunks = [];
    socket.on('data', (c) => chunks.push(c));
    socket.on('error', (e) => (chunks.length ? resolve(Buffer.concat(chunks).toString('latin1')) : reject(e)));
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
    socket.on('connect', () => socket.write(data));
    socket.setTimeout(timeoutMs, () => socket.destroy());
  }), timeoutMs + 1_000, 'raw HTTP exchange');
}

// A WebSocket client written over plain TCP that never answers anything: it completes the
// upgrade, then only parses what the server sends (for keepalive tests). Resolves once the
// upgrade answered 101, with {frames (opcode, payload), ended (a promise of the time the
// server closed the TCP connection), socket}.
function silentWebSocket(port, timeoutMs = 5_000) {
  return withTimeout(new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const key = crypto.randomBytes(16).toString('base64');
    let buffer = Buffer.alloc(0);
    let upgraded = false;
    const frames = [];
    let resolveEnded;
    const ended = new Promise((r) => { resolveEnded = r; });
    const result = { frames, ended, socket, onFrame: null };
    socket.on('connect', () => socket.write(
      `GET /v1/ws HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`));
    socket.on('data', (chunk) => {
      buffer = Buffer.concat([buffer, chunk]);
      if (!upgraded) {
        const end = buffer.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = buffer.subarray(0, end).toString('latin1');
        buffer = buffer.subarray(end + 4);
        if (!/^HTTP\/1\.1 101/.test(head)) return reject(new Error(`upgrade refused: ${head}`));
        upgraded = true;
        resolve(result);
      }
      for (;;) {
        if (buffer.length < 2) return;
        const opcode = buffer[0] & 0x0f;
        let length = buffer[1] & 0x7f;
        let offset = 2;
        if (length === 126) {
          if (buffer.length < 4) return;
          length = buffer.readUInt16BE(2);
          offset = 4;
        } else if (length === 127) {
          if (buffer.length < 10) return;
          length = Number(buffer.readBigUInt64BE(2));
          offset = 10;
        }
        if (buffer.length < offset + length) return;
        const frame = { opcode, payload: buffer.subarray(offset, offset + length), at: Date.now() };
        buffer = buffer.subarray(offset + length);
        frames.push(frame);
        if (result.onFrame) result.onFrame(frame);
      }
    });
    socket.on('error', (e) => { if (!upgraded) reject(e); });
    socket.on('close', () => resolveEnded(Date.now()));
    socket.on('end', () => resolveEnded(Date.now()));
  }), timeoutMs, 'raw WebSocket upgrade');
}

// ---------------------------------------------------------------------------------------------
// Kinto events

// Kinto timestamps: strictly increasing within a test process.
let lastTimestamp = 1717000000000;
function nextTimestamp() {
  lastTimestamp += 1;
  return lastTimestamp;
}

// A record event as Kinto's AfterResourceChanged listener sees it.
function recordEvent({
  bucket = 'blog', collection = 'articles', id, action = 'update', timestamp,
  user = 'account:alice', fields = {}, objects,
} = {}) {
  const ts = timestamp ?? nextTimestamp();
  const rid = id ?? `r${ts}`;
  let impacted = objects;
  if (!impacted) {
    const previous = { id: rid, last_modified: ts - 1, title: 'before' };
    const current = { id: rid, last_modified: ts, title: `at ${ts}`, ...fields };
    if (action === 'create') impacted = [{ new: current }];
    else if (action === 'delete') impacted = [{ new: { id: rid, last_modified: ts, deleted: true }, old: previous }];
    else impacted = [{ new: current, old: previous }];
  }
  return {
    payload: {
      timestamp: ts,
      action,
      uri: `/buckets/${bucket}/collections/${collection}/records/${rid}`,
      user_id: user,
      resource_name: 'record',
      bucket_id: bucket,
      collection_id: collection,
      record_id: rid,
    },
    impacted_objects: impacted,
  };
}

function bucketEvent({ bucket = 'blog', action = 'delete', timestamp } = {}) {
  const ts = timestamp ?? nextTimestamp();
  const impacted = action === 'delete'
    ? [{ new: { id: bucket, last_modified: ts, deleted: true }, old: { id: bucket, last_modified: ts - 1 } }]
    : [{ new: { id: bucket, last_modified: ts } }];
  return {
    payload: {
      timestamp: ts, action, uri: `/buckets/${bucket}`, user_id: 'account:alice',
      resource_name: 'bucket', bucket_id: bucket,
    },
    impacted_objects: impacted,
  };
}

function collectionEvent({ bucket = 'blog', collection = 'articles', action = 'create', timestamp } = {}) {
  const ts = timestamp ?? nextTimestamp();
  return {
    payload: {
      timestamp: ts, action, uri: `/buckets/${bucket}/collections/${collection}`, user_id: 'account:alice',
      resource_name: 'collection', bucket_id: bucket, collection_id: collection,
    },
    impacted_objects: [{ new: { id: collection, last_modified: ts } }],
  };
}

function collectionChannel(bucket = 'blog', collection = 'articles') {
  return `/buckets/${bucket}/collections/${collection}`;
}

function bucketChannel(bucket = 'blog') {
  return `/buckets/${bucket}`;
}

// The published offset of `channel` in a POST answer's `published` list (the last one when
// the channel appears several times).
function offsetOf(published, channel) {
  const mine = published.filter((p) => p.channel === channel);
  if (!mine.length) throw new Error(`${channel} not in ${JSON.stringify(published)}`);
  return mine[mine.length - 1].offset;
}

// A small deterministic PRNG (mulberry32): a failing random test can be replayed with its seed.
function prng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6D2B79F5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Runs `fn(i)` for i in 0..count-1 with at most `concurrency` calls in flight.
async function pool(count, concurrency, fn) {
  let next = 0;
  const results = new Array(count);
  async function worker() {
    while (next < count) {
      const i = next++;
      results[i] = await fn(i);
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return results;
}

module.exports = {
  startServer,
  Client,
  connect,
  request,
  publish,
  publishOk,
  getJSON,
  rawHttp,
  silentWebSocket,
  recordEvent,
  bucketEvent,
  collectionEvent,
  collectionChannel,
  bucketChannel,
  offsetOf,
  nextTimestamp,
  pool,
  prng,
  delay,
  withTimeout,
};
