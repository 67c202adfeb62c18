'use strict';
// WebSocket spoken byte by byte over node:net, for the tests of the wire layer (RFC 6455):
// exact client frames (masked or not, any header bits, any declared length), raw upgrade
// requests, and a client that records every frame the server sends and waits on them by
// event, each wait with a timeout.

const net = require('node:net');
const crypto = require('node:crypto');
const { withTimeout } = require('./server');

const FIN = 0x80;
const OP = { continuation: 0x0, text: 0x1, binary: 0x2, close: 0x8, ping: 0x9, pong: 0xA };

// A client frame: `firstByte` is FIN/RSV/opcode as sent. Masked with a random key unless
// `mask` is null. `length` declares another payload length than the payload's (a header that
// announces more than follows). The length uses its shortest encoding (RFC 6455 5.2).
function clientFrame(firstByte, payload = Buffer.alloc(0), { mask = crypto.randomBytes(4), length } = {}) {
  const data = Buffer.from(payload);
  const declared = BigInt(length ?? data.length);
  const maskBit = mask ? 0x80 : 0;
  let header;
  if (declared < 126n) {
    header = Buffer.from([firstByte, maskBit | Number(declared)]);
  } else if (declared <= 0xFFFFn) {
    header = Buffer.alloc(4);
    header[0] = firstByte;
    header[1] = maskBit | 126;
    header.writeUInt16BE(Number(declared), 2);
  } else {
    header = Buffer.alloc(10);
    header[0] = firstByte;
    header[1] = maskBit | 127;
    header.writeBigUInt64BE(declared, 2);
  }
  if (!mask) return Buffer.concat([header, data]);
  const masked = Buffer.from(data.map((b, i) => b ^ mask[i % 4]));
  return Buffer.concat([header, mask, masked]);
}

// A close frame's payload: the code, then the reason.
function closePayload(code, reason = '') {
  const body = Buffer.alloc(2);
  body.writeUInt16BE(code);
  return Buffer.concat([body, Buffer.from(reason)]);
}

function parseHead(head) {
  const [status, ...lines] = head.split('\r\n');
  const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
  return { status, headers };
}

// Sends `GET path` with `headers` (CRLF-terminated lines) and resolves with the answer's
// status line, headers and body: at once for a 101, else once the body (Content-Length) is
// in or the server ended the connection.
function rawUpgrade(port, headers, { path = '/v1/ws', timeoutMs = 5_000 } = {}) {
  const socket = net.connect(port, '127.0.0.1');
  return withTimeout(new Promise((resolve, reject) => {
    let data = Buffer.alloc(0);
    let answer = null;
    const finish = () => {
      if (!answer) return false;
      const length = Number(answer.headers['content-length'] ?? NaN);
      const body = data.subarray(answer.bodyAt);
      if (/^HTTP\/1\.1 101/.test(answer.status) || (Number.isFinite(length) && body.length >= length)) {
        resolve({ status: answer.status, headers: answer.headers, body: body.toString('latin1') });
        return true;
      }
      return false;
    };
    socket.on('connect', () => socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n${headers}\r\n`));
    socket.on('data', (chunk) => {
      data = Buffer.concat([data, chunk]);
      if (!answer) {
        const end = data.indexOf('\r\n\r\n');
        if (end < 0) return;
        answer = { ...parseHead(data.subarray(0, end).toString('latin1')), bodyAt: end + 4 };
      }
      finish();
    });
    socket.on('end', () => {
      if (finish()) return;
      if (answer) resolve({ status: answer.status, headers: answer.headers, body: data.subarray(answer.bodyAt).toString('latin1') });
      else reject(new Error(`connection ended before an HTTP answer: ${JSON.stringify(data.toString('latin1'))}`));
    });
    socket.on('error', reject);
  }), timeoutMs, `raw upgrade of ${path}`).finally(() => socket.destroy());
}

// A WebSocket connection over plain TCP. `frames` holds every server frame in order
// ({fin, rsv, opcode, masked, payload}); `ended` resolves when the server ends or closes the
// TCP connection.
class RawWebSocket {
  constructor(socket, buffered) {
    this.socket = socket;
    this.frames = [];
    this.waiters = [];
    this.buffer = Buffer.alloc(0);
    this.endedAt = null;
    this.ended = new Promise((resolve) => { this._resolveEnded = resolve; });
    const ended = () => {
      if (this.endedAt !== null) return;
      this.endedAt = Date.now();
      this._resolveEnded(this.endedAt);
      for (const w of this.waiters.splice(0)) {
        clearTimeout(w.timer);
        w.reject(new Error(`the server ended the connection while waiting for ${w.what}; frames: ${this.describe()}`));
      }
    };
    socket.on('data', (chunk) => this._onData(chunk));
    socket.on('end', ended);
    socket.on('close', ended);
    socket.on('error', () => {});   // a reset shows as the end
    if (buffered.length) this._onData(buffered);
  }

  // Opens `path` (default /v1/ws) with extra header lines `headers`; resolves once the server
  // answered 101.
  static open(port, { path = '/v1/ws', headers = '', timeoutMs = 5_000 } = {}) {
    const socket = net.connect(port, '127.0.0.1');
    const key = crypto.randomBytes(16).toString('base64');
    return withTimeout(new Promise((resolve, reject) => {
      let data = Buffer.alloc(0);
      const onData = (chunk) => {
        data = Buffer.concat([data, chunk]);
        const end = data.indexOf('\r\n\r\n');
        if (end < 0) return;
        socket.off('data', onData);
        const { status, headers: answer } = parseHead(data.subarray(0, end).toString('latin1'));
        if (!/^HTTP\/1\.1 101/.test(status)) return reject(new Error(`upgrade of ${path} refused: ${status}`));
        const raw = new RawWebSocket(socket, data.subarray(end + 4));
        raw.handshake = { status, headers: answer };
        resolve(raw);
      };
      socket.on('data', onData);
      socket.on('error', reject);
      socket.on('connect', () => socket.write(
        `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n${headers}\r\n`));
    }), timeoutMs, `raw WebSocket upgrade of ${path}`).catch((e) => {
      socket.destroy();
      throw e;
    });
  }

  _onData(chunk) {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    for (;;) {
      const b = this.buffer;
      if (b.length < 2) return;
      let length = b[1] & 0x7f;
      let offset = 2;
      if (length === 126) {
        if (b.length < 4) return;
        length = b.readUInt16BE(2);
        offset = 4;
      } else if (length === 127) {
        if (b.length < 10) return;
        length = Number(b.readBigUInt64BE(2));
        offset = 10;
      }
      const masked = Boolean(b[1] & 0x80);
      if (masked) offset += 4;
      if (b.length < offset + length) return;
      const frame = {
        fin: Boolean(b[0] & 0x80), rsv: (b[0] >> 4) & 0x7, opcode: b[0] & 0x0f, masked,
        payload: Buffer.from(b.subarray(offset, offset + length)),
      };
      this.buffer = b.subarray(offset + length);
      this.frames.push(frame);
      const i = this.waiters.findIndex((w) => w.predicate(frame));
      if (i >= 0) {
        const [w] = this.waiters.splice(i, 1);
        clearTimeout(w.timer);
        w.resolve(frame);
      }
    }
  }

  // A short description of the frames received so far, for failure messages.
  describe() {
    return JSON.stringify(this.frames.map((f) => (f.opcode === OP.close
      ? { close: f.payload.length >= 2 ? f.payload.readUInt16BE(0) : null }
      : { opcode: f.opcode, payload: f.payload.toString('utf8').slice(0, 80) })));
  }

  write(data) {
    this.socket.write(data);
  }

  // The first frame received (earlier or later) that matches `predicate`.
  frame(predicate, timeoutMs = 3_000, what = 'a frame') {
    const found = this.frames.find(predicate);
    if (found) return Promise.resolve(found);
    if (this.endedAt !== null) {
      return Promise.reject(new Error(`the server ended the connection before ${what}; frames: ${this.describe()}`));
    }
    return new Promise((resolve, reject) => {
      const waiter = { predicate, resolve, reject, what };
      waiter.timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; frames: ${this.describe()}`));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  // The first text frame whose payload matches `predicate(text)`.
  text(predicate, timeoutMs, what = 'a text frame') {
    return this.frame((f) => f.opcode === OP.text && predicate(f.payload.toString('utf8')), timeoutMs, what);
  }

  // The server's close frame: {code (null when it has none), reason}.
  async closeFrame(timeoutMs = 3_000) {
    const f = await this.frame((x) => x.opcode === OP.close, timeoutMs, 'a close frame');
    return {
      code: f.payload.length >= 2 ? f.payload.readUInt16BE(0) : null,
      reason: f.payload.subarray(2).toString('utf8'),
      frame: f,
    };
  }

  // Resolves when the server has ended the TCP connection.
  waitEnded(timeoutMs = 3_000) {
    return withTimeout(this.ended, timeoutMs, `the server ending the connection; frames: ${this.describe()}`);
  }

  destroy() {
    this.socket.destroy();
  }
}

module.exports = { FIN, OP, clientFrame, closePayload, rawUpgrade, RawWebSocket };
