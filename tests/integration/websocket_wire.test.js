'use strict';
// The WebSocket wire layer (websocket/): the opening handshake, control frames, fragments,
// pipelined frames, masking, and the close handshake, spoken byte by byte where a library
// client would hide it.

const { test, describe, before, after } = require('node:test');
const assert = require('node:assert/strict');
const net = require('node:net');
const { startServer, connect, silentWebSocket, withTimeout, publishOk, recordEvent, collectionChannel } = require('./support/server');
const { FIN, clientFrame, rawUpgrade } = require('./support/raw_websocket');

const text = (obj) => JSON.stringify(obj);

describe('websocket wire', () => {
  let server;
  before(async () => {
    server = await startServer(['--max-frame-bytes', '4096', '--shards', '2']);
  });
  after(async () => {
    await server?.stop();
  });

  test('the handshake answers the RFC 6455 accept key', async () => {
    const key = 'dGhlIHNhbXBsZSBub25jZQ==';
    const sock = net.connect(server.port, '127.0.0.1');
    const head = await withTimeout(new Promise((resolve) => {
      let data = '';
      sock.on('connect', () => sock.write(`GET /v1/ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`));
      sock.on('data', (c) => {
        data += c.toString('latin1');
        if (data.includes('\r\n\r\n')) resolve(data.slice(0, data.indexOf('\r\n\r\n')));
      });
    }), 5_000, 'handshake');
    sock.destroy();
    assert.match(head, /^HTTP\/1\.1 101 /);
    assert.match(head, /\r\nsec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK\+xOo=/i);
    assert.match(head, /\r\nupgrade: websocket/i);
  });

  test('an unsupported Sec-WebSocket-Version gets 426 naming version 13, in Kinto\'s error shape', async () => {
    const answer = await rawUpgrade(server.port,
      'Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n');
    assert.match(answer.status, /^HTTP\/1\.1 426/);
    assert.equal(answer.headers['sec-websocket-version'], '13');
    const body = JSON.parse(answer.body);
    assert.equal(body.code, 426);
    assert.equal(body.errno, 107);
    assert.match(body.message, /Sec-WebSocket-Version/);
  });

  test('a missing or malformed Sec-WebSocket-Key gets 400', async () => {
    for (const keyLine of ['', 'Sec-WebSocket-Key: short\r\n']) {
      const answer = await rawUpgrade(server.port, `Upgrade: websocket\r\nConnection: Upgrade\r\n${keyLine}Sec-WebSocket-Version: 13\r\n`);
      assert.match(answer.status, /^HTTP\/1\.1 400/, keyLine);
      assert.equal(JSON.parse(answer.body).errno, 107);
    }
  });

  test('a ping is answered by a pong with its payload', async () => {
    const c = await connect(server.wsUrl);
    const pong = withTimeout(new Promise((resolve) => c.ws.once('pong', resolve)), 5_000, 'pong');
    c.ws.ping(Buffer.from('are you there'));
    assert.equal((await pong).toString(), 'are you there');
    await c.close();
  });

  test('fragments and pipelined frames are read in order, pings between fragments answered', async () => {
    const raw = await silentWebSocket(server.port);
    const replies = () => raw.frames.filter((f) => f.opcode === 1).map((f) => JSON.parse(f.payload.toString()));
    await withTimeout((async () => { while (!replies().some((r) => r.type === 'welcome')) await new Promise((r) => setTimeout(r, 10)); })(), 5_000, 'welcome');
    const message = text({ type: 'ping', id: 'fragmented' });
    // One TCP write: a fragmented message with a ping between its fragments, then two whole messages.
    raw.socket.write(Buffer.concat([
      clientFrame(0x1, message.slice(0, 5)),
      clientFrame(FIN | 0x9, 'p1'),
      clientFrame(0x0, message.slice(5, 12)),
      clientFrame(FIN | 0x0, message.slice(12)),
      clientFrame(FIN | 0x1, text({ type: 'ping', id: 'second' })),
      clientFrame(FIN | 0x1, text({ type: 'ping', id: 'third' })),
    ]));
    await withTimeout((async () => { while (replies().filter((r) => r.type === 'pong').length < 3) await new Promise((r) => setTimeout(r, 10)); })(), 5_000, 'three pongs');
    assert.deepEqual(replies().filter((r) => r.type === 'pong').map((r) => r.id), ['fragmented', 'second', 'third']);
    const pongFrames = raw.frames.filter((f) => f.opcode === 0xA);
    assert.equal(pongFrames.length, 1);
    assert.equal(pongFrames[0].payload.toString(), 'p1');
    raw.socket.destroy();
  });

  test('an unmasked client frame closes with 1002', async () => {
    const raw = await silentWebSocket(server.port);
    raw.socket.write(Buffer.concat([Buffer.from([FIN | 0x1, 2]), Buffer.from('{}')]));
    await withTimeout(raw.ended, 5_000, 'the server ending the connection');
    const close = raw.frames.find((f) => f.opcode === 0x8);
    assert.ok(close, 'a close frame before the end');
    assert.equal(close.payload.readUInt16BE(0), 1002);
  });

  test('a client close is echoed with its code, then the server ends the connection', async () => {
    const raw = await silentWebSocket(server.port);
    const body = Buffer.alloc(2);
    body.writeUInt16BE(4321);
    raw.socket.write(clientFrame(FIN | 0x8, body));
    await withTimeout(raw.ended, 5_000, 'the server ending the connection');
    const close = raw.frames.find((f) => f.opcode === 0x8);
    assert.ok(close);
    assert.equal(close.payload.readUInt16BE(0), 4321);
  });

  test('a burst of events reaches a slow-starting reader complete and in order', async () => {
    // Frames queued while a write is in flight leave together (several frames per write).
    const channel = collectionChannel('wire', 'burst');
    const c = await connect(server.wsUrl);
    await c.subscribe(channel);
    c.ws.pause();   // let frames pile up in the server's queue
    for (let i = 0; i < 200; i++) await publishOk(server.url, recordEvent({ bucket: 'wire', collection: 'burst', id: `r${i}` }));
    c.ws.resume();
    const events = await c.events(channel, 200);
    assert.deepEqual(events.map((e) => e.offset), Array.from({ length: 200 }, (_, i) => i + 1));
    await c.close();
  });
});
