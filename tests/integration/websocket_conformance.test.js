'use strict';
// RFC 6455 conformance of both WebSocket endpoints, /v1/ws (kinto-push's protocol) and
// /v1/push (the Autopush broadcast protocol, served with --broadcast): the same cases, the
// same expected answers, spoken byte by byte over TCP so that every bit of every frame is
// the test's. The expectations are the RFC's, whatever the code behind each endpoint.
//
// References: RFC 6455 section 4.2 (the opening handshake: a Sec-WebSocket-Key that does not
// decode to 16 bytes is a bad request; another version gets 426 naming 13), 5.2 (reserved
// bits and opcodes, masking, lengths), 5.4 (fragments, control frames between them), 5.5
// (control frames: at most 125 bytes, never fragmented; ping answered by a pong with its
// payload; a close answered by a close), 7.4.1/7.4.2 and the IANA registry (close codes a
// peer may send), 8.1 (invalid UTF-8 fails the connection with 1007, judged on the whole
// message across its fragments), and 10.4 (a frame over the server's limit: 1009).

const { test, describe, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { startServer } = require('./support/server');
const { FIN, OP, clientFrame, closePayload, rawUpgrade, RawWebSocket } = require('./support/raw_websocket');

const MAX_FRAME_BYTES = 1024;
const BROADCAST = 'conformance/test';
const WAIT_MS = 3_000;

// Each endpoint with a probe: a text message that carries a string and gets an answer
// repeating it (to check a message went through whole, code points and all).
const ENDPOINTS = [
  {
    path: '/v1/ws',
    headers: '',
    probe: (s) => JSON.stringify({ type: 'ping', id: s }),
    answers: (reply, s) => reply.type === 'pong' && reply.id === s,
  },
  {
    path: '/v1/push',
    headers: 'Sec-WebSocket-Protocol: push-notification\r\n',
    // An unknown broadcast id comes back under errors, as Autopush does.
    probe: (s) => JSON.stringify({ messageType: 'hello', use_webpush: true, broadcasts: { [s]: '"1"' } }),
    answers: (reply, s) => reply.messageType === 'hello' && reply.broadcasts?.errors?.[s] !== undefined,
  },
];

const INVALID_CLOSE_CODES = [0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535];
const VALID_CLOSE_CODES = [1000, 1001, 3000, 4000, 4999];
const RESERVED_OPCODES = [0x3, 0x4, 0x5, 0x6, 0x7, 0xB, 0xC, 0xD, 0xE, 0xF];

let server;
before(async () => {
  server = await startServer(['--broadcast', `${BROADCAST}=/buckets/conformance`,
    '--max-frame-bytes', String(MAX_FRAME_BYTES), '--shards', '2']);
});
after(async () => {
  await server?.stop();
});

for (const endpoint of ENDPOINTS) {
  const { path } = endpoint;
  const upgradeHeaders = (lines) => `Upgrade: websocket\r\nConnection: Upgrade\r\n${endpoint.headers}${lines}`;
  const open = () => RawWebSocket.open(server.port, { path, headers: endpoint.headers });

  // Sends `bytes` on a fresh connection and expects the server to fail it: a close frame with
  // `code`, then the end of the TCP connection.
  async function expectFailure(bytes, code) {
    const ws = await open();
    try {
      ws.write(bytes);
      const close = await ws.closeFrame(WAIT_MS);
      assert.equal(close.code, code, `close code (frames: ${ws.describe()})`);
      await ws.waitEnded(WAIT_MS);
    } finally {
      ws.destroy();
    }
  }

  // Sends `bytes` on a fresh connection and waits for the answer to probe(s).
  async function expectAnswer(bytes, s) {
    const ws = await open();
    try {
      ws.write(bytes);
      const reply = await ws.text((t) => {
        try { return endpoint.answers(JSON.parse(t), s); } catch { return false; }
      }, WAIT_MS, `the answer to the probe ${JSON.stringify(s)}`);
      assert.ok(reply);
      assert.ok(!ws.frames.some((f) => f.opcode === OP.close), `no close frame: ${ws.describe()}`);
    } finally {
      ws.destroy();
    }
  }

  describe(`${path}: opening handshake`, () => {
    test(`${path}: a valid key gets 101 with the RFC's accept key`, async () => {
      const answer = await rawUpgrade(server.port,
        upgradeHeaders('Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n'), { path });
      assert.match(answer.status, /^HTTP\/1\.1 101 /);
      assert.equal(answer.headers['sec-websocket-accept'], 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
    });

    for (const [name, keyLine] of [
      ['AAAAAAAAAAA= (8 bytes)', 'Sec-WebSocket-Key: AAAAAAAAAAA=\r\n'],
      ['"not a websocket key!"', 'Sec-WebSocket-Key: not a websocket key!\r\n'],
      ['missing', ''],
    ]) {
      test(`${path}: a Sec-WebSocket-Key ${name} gets 400, not 101`, async () => {
        const answer = await rawUpgrade(server.port, upgradeHeaders(`${keyLine}Sec-WebSocket-Version: 13\r\n`), { path });
        assert.match(answer.status, /^HTTP\/1\.1 400 /);
      });
    }

    test(`${path}: Sec-WebSocket-Version 8 gets 426 with Sec-WebSocket-Version: 13`, async () => {
      const answer = await rawUpgrade(server.port,
        upgradeHeaders('Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n'), { path });
      assert.match(answer.status, /^HTTP\/1\.1 426 /);
      assert.equal(answer.headers['sec-websocket-version'], '13');
    });
  });

  describe(`${path}: UTF-8 across fragments`, () => {
    test(`${path}: a code point split across two fragments is accepted`, async () => {
      const s = 'split-😀-é';
      const bytes = Buffer.from(endpoint.probe(s));
      const emoji = bytes.indexOf(Buffer.from('😀'));
      const cut = emoji + 2;   // two of the emoji's four bytes in each fragment
      await expectAnswer(Buffer.concat([
        clientFrame(OP.text, bytes.subarray(0, cut)),
        clientFrame(FIN | OP.continuation, bytes.subarray(cut)),
      ]), s);
    });

    test(`${path}: a message whose last code point is cut, ended by an empty final fragment, closes with 1007`, async () => {
      const start = Buffer.from(endpoint.probe('cut-'));
      const partial = Buffer.concat([start.subarray(0, start.indexOf('cut-') + 4), Buffer.from('😀').subarray(0, 2)]);
      await expectFailure(Buffer.concat([
        clientFrame(OP.text, partial),
        clientFrame(FIN | OP.continuation, Buffer.alloc(0)),
      ]), 1007);
    });

    test(`${path}: a single text frame ending in a cut code point closes with 1007`, async () => {
      const start = Buffer.from(endpoint.probe('cut-'));
      const partial = Buffer.concat([start.subarray(0, start.indexOf('cut-') + 4), Buffer.from('€').subarray(0, 2)]);
      await expectFailure(clientFrame(FIN | OP.text, partial), 1007);
    });

    test(`${path}: invalid UTF-8 in one text frame closes with 1007`, async () => {
      await expectFailure(clientFrame(FIN | OP.text, Buffer.from([0x7b, 0x22, 0x74, 0xff, 0xfe, 0x22, 0x7d])), 1007);
    });
  });

  describe(`${path}: close codes sent by the client`, () => {
    for (const code of INVALID_CLOSE_CODES) {
      test(`${path}: close code ${code} fails the connection with 1002`, async () => {
        await expectFailure(clientFrame(FIN | OP.close, closePayload(code)), 1002);
      });
    }

    for (const code of VALID_CLOSE_CODES) {
      test(`${path}: close code ${code} is answered by a close frame, then the end of the connection`, async () => {
        const ws = await open();
        try {
          ws.write(clientFrame(FIN | OP.close, closePayload(code, 'bye')));
          const close = await ws.closeFrame(WAIT_MS);
          // RFC 6455 5.5.1: the answer typically echoes the code; 1000 is as good.
          assert.ok(close.code === code || close.code === 1000, `answered ${close.code} to ${code}`);
          await ws.waitEnded(WAIT_MS);
        } finally {
          ws.destroy();
        }
      });
    }

    test(`${path}: a close frame with a one-byte payload fails with 1002`, async () => {
      await expectFailure(clientFrame(FIN | OP.close, Buffer.from([0x03])), 1002);
    });

    // RFC 6455 5.5.1: the reason is UTF-8; 8.1: data that is not fails the connection. The
    // RFC names no code for a close frame's reason: 1007 (invalid data) or 1002.
    test(`${path}: a close reason that is not UTF-8 fails the connection (1007 or 1002)`, async () => {
      const ws = await open();
      try {
        ws.write(clientFrame(FIN | OP.close, Buffer.concat([closePayload(1000), Buffer.from([0xce, 0xbd, 0xff])])));
        const close = await ws.closeFrame(WAIT_MS);
        assert.ok(close.code === 1007 || close.code === 1002, `closed with ${close.code}`);
        await ws.waitEnded(WAIT_MS);
      } finally {
        ws.destroy();
      }
    });

    test(`${path}: a close frame without a code is answered by a close frame, then the end of the connection`, async () => {
      const ws = await open();
      try {
        ws.write(clientFrame(FIN | OP.close));
        const close = await ws.closeFrame(WAIT_MS);
        assert.ok(close.code === null || close.code === 1000, `answered ${close.code}`);
        await ws.waitEnded(WAIT_MS);
      } finally {
        ws.destroy();
      }
    });
  });

  describe(`${path}: framing errors`, () => {
    for (const [name, bit] of [['RSV1', 0x40], ['RSV2', 0x20], ['RSV3', 0x10]]) {
      test(`${path}: ${name} set without an extension fails with 1002`, async () => {
        await expectFailure(clientFrame(FIN | bit | OP.text, endpoint.probe('rsv')), 1002);
      });
    }

    for (const op of RESERVED_OPCODES) {
      test(`${path}: reserved opcode 0x${op.toString(16).toUpperCase()} fails with 1002`, async () => {
        await expectFailure(clientFrame(FIN | op, 'x'), 1002);
      });
    }

    test(`${path}: a fragmented ping (FIN=0) fails with 1002`, async () => {
      await expectFailure(clientFrame(OP.ping, 'half'), 1002);
    });

    test(`${path}: a ping with a 126-byte payload fails with 1002`, async () => {
      await expectFailure(clientFrame(FIN | OP.ping, Buffer.alloc(126, 0x61)), 1002);
    });

    test(`${path}: a continuation frame with nothing to continue fails with 1002`, async () => {
      await expectFailure(clientFrame(FIN | OP.continuation, endpoint.probe('orphan')), 1002);
    });

    test(`${path}: a new text frame while a fragmented message is open fails with 1002`, async () => {
      const bytes = Buffer.from(endpoint.probe('interleaved'));
      await expectFailure(Buffer.concat([
        clientFrame(OP.text, bytes.subarray(0, 5)),
        clientFrame(FIN | OP.text, bytes),
      ]), 1002);
    });

    test(`${path}: an unmasked client frame fails with 1002`, async () => {
      await expectFailure(clientFrame(FIN | OP.text, endpoint.probe('unmasked'), { mask: null }), 1002);
    });

    // RFC 6455 5.2: the minimal number of bytes must encode the length.
    test(`${path}: a length of 5 in the 16-bit form fails with 1002`, async () => {
      const frame = clientFrame(FIN | OP.text, Buffer.alloc(200, 0x20));
      const header = Buffer.from([FIN | OP.text, 0x80 | 126, 0, 5]);
      await expectFailure(Buffer.concat([header, frame.subarray(4, 8), frame.subarray(8, 13)]), 1002);
    });

    test(`${path}: a length of 200 in the 64-bit form fails with 1002`, async () => {
      const frame = clientFrame(FIN | OP.text, Buffer.alloc(200, 0x20));
      const header = Buffer.alloc(10);
      header[0] = FIN | OP.text;
      header[1] = 0x80 | 127;
      header.writeBigUInt64BE(200n, 2);
      await expectFailure(Buffer.concat([header, frame.subarray(4)]), 1002);
    });

    // RFC 6455 5.2: the most significant bit of a 64-bit length must be 0. Such a frame is
    // malformed and too big at once: 1002 or 1009.
    test(`${path}: a 64-bit length with its top bit set fails the connection (1002 or 1009)`, async () => {
      const ws = await open();
      try {
        ws.write(clientFrame(FIN | OP.text, Buffer.alloc(0), { length: 2n ** 63n + 5n }));
        const close = await ws.closeFrame(WAIT_MS);
        assert.ok(close.code === 1002 || close.code === 1009, `closed with ${close.code}`);
        await ws.waitEnded(WAIT_MS);
      } finally {
        ws.destroy();
      }
    });

    // Only the header and the mask key are sent: the server must judge the declared length
    // alone, without waiting for (or allocating) the payload.
    for (const [name, length] of [['2^62', 2n ** 62n], [`${MAX_FRAME_BYTES + 1} (--max-frame-bytes + 1)`, BigInt(MAX_FRAME_BYTES + 1)]]) {
      test(`${path}: a declared length of ${name} closes with 1009 before any payload`, async () => {
        const rssBefore = server.rssBytes();
        await expectFailure(clientFrame(FIN | OP.text, Buffer.alloc(0), { length }), 1009);
        assert.ok(server.alive(), 'the server is still running');
        const grown = server.rssBytes() - rssBefore;
        assert.ok(grown < 64 * 1024 * 1024, `the server's RSS grew by ${grown} bytes`);
      });
    }
  });

  describe(`${path}: control frames`, () => {
    test(`${path}: a ping is answered by a pong with the same payload`, async () => {
      const ws = await open();
      try {
        const payload = Buffer.from('ping payload \u00e9 \x00\xff', 'latin1');
        ws.write(clientFrame(FIN | OP.ping, payload));
        const pong = await ws.frame((f) => f.opcode === OP.pong, WAIT_MS, 'a pong');
        assert.ok(pong.fin, 'the pong is one frame');
        assert.ok(!pong.masked, 'server frames are not masked');
        assert.deepEqual(pong.payload, payload);
      } finally {
        ws.destroy();
      }
    });

    test(`${path}: a ping of 125 bytes, the most a control frame carries, is answered in full`, async () => {
      const ws = await open();
      try {
        const payload = Buffer.alloc(125, 0x7a);
        ws.write(clientFrame(FIN | OP.ping, payload));
        const pong = await ws.frame((f) => f.opcode === OP.pong, WAIT_MS, 'a pong');
        assert.deepEqual(pong.payload, payload);
      } finally {
        ws.destroy();
      }
    });

    test(`${path}: a ping between two fragments is answered, and the message still arrives`, async () => {
      const s = 'around-a-ping';
      const bytes = Buffer.from(endpoint.probe(s));
      const ws = await open();
      try {
        ws.write(Buffer.concat([
          clientFrame(OP.text, bytes.subarray(0, 7)),
          clientFrame(FIN | OP.ping, 'between'),
          clientFrame(FIN | OP.continuation, bytes.subarray(7)),
        ]));
        const pong = await ws.frame((f) => f.opcode === OP.pong, WAIT_MS, 'a pong');
        assert.equal(pong.payload.toString(), 'between');
        await ws.text((t) => {
          try { return endpoint.answers(JSON.parse(t), s); } catch { return false; }
        }, WAIT_MS, 'the answer to the fragmented probe');
      } finally {
        ws.destroy();
      }
    });
  });
}
