'use strict';
// Robustness: thousands of malformed WebSocket frames and POST bodies. The server must answer
// each as PROTOCOL.md section 3 says (an error, or a close with 4000/1007/1009), never crash,
// and not grow its memory.

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const {
  startServer, connect, publish, publishOk, getJSON, recordEvent, collectionChannel, pool, prng,
} = require('./support/server');

const PER_KIND = Number(process.env.FUZZ_PER_KIND ?? 3000);
const WS_WORKERS = 6;
const HTTP_IN_FLIGHT = 8;
const FRAME_LIMIT = 65536;
// Each half stops early (and says so) if the machine is too slow to finish in this time.
const HALF_BUDGET_MS = 45_000;
const MIB = 1024 * 1024;

const random = prng(Number(process.env.FUZZ_SEED ?? 7));
const int = (n) => Math.floor(random() * n);
const pick = (list) => list[int(list.length)];

function bytes(n) {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = int(256);
  return b;
}

const JSONISH = '{}[]",:0123456789.eE+-truefalsnul \\/u"abcxyz';
function printable(n) {
  let s = '';
  for (let i = 0; i < n; i++) s += random() < 0.6 ? JSONISH[int(JSONISH.length)] : String.fromCharCode(0x20 + int(95));
  return s;
}

function deep(depth) {
  let open = '';
  let close = '';
  for (let i = 0; i < depth; i++) {
    if (random() < 0.5) { open += '['; close = ']' + close; } else { open += '{"k":'; close = '}' + close; }
  }
  const body = open + pick(['1', '"x"', 'null', '[]', '{}']) + close;
  // Sometimes unbalanced or truncated.
  const r = random();
  if (r < 0.1) return body.slice(0, int(body.length));
  if (r < 0.2) return body + ']]]}}';
  return body;
}

const VALUES = [
  () => null, () => true, () => 0, () => -1, () => 1.5, () => 2 ** 64, () => -(2 ** 63), () => 1e308,
  () => '', () => 'x', () => printable(int(50)), () => [], () => [1, 'a'], () => ({}), () => ({ a: { b: [] } }),
  () => '/buckets', () => '/buckets/b', () => '/buckets/b/collections/c', () => `/buckets/${printable(8)}`,
  () => 'subscribe', () => 'unsubscribe', () => 'ping', () => 'auth', () => '\u0000\u00e9\u2028\ud83d\ude00',
];
const value = () => pick(VALUES)();

// A frame that looks like a client frame with some fields missing or of the wrong type.
function mutatedFrame() {
  const frame = pick([
    () => ({ type: 'subscribe', id: String(int(1000)), channel: collectionChannel('fz', `c${int(5)}`) }),
    () => ({ type: 'subscribe', id: 'x', channel: '/buckets/fz', since: { epoch: 'e', offset: int(10) } }),
    () => ({ type: 'subscribe', id: 'y', channel: collectionChannel('fz', 'c0'), since: { timestamp: int(1e6) } }),
    () => ({ type: 'unsubscribe', id: 'z', channel: '/buckets' }),
    () => ({ type: 'ping', id: 'p' }),
    () => ({ type: 'auth', id: 'a', token: printable(30) }),
  ])();
  const keys = ['type', 'id', 'channel', 'since', 'token', 'extra'];
  for (let m = 1 + int(3); m > 0; m--) {
    const key = pick(keys);
    const r = random();
    if (r < 0.3) delete frame[key];
    else if (r < 0.8) frame[key] = value();
    else if (frame.since && typeof frame.since === 'object') frame.since[pick(['epoch', 'offset', 'timestamp'])] = value();
  }
  let text = JSON.stringify(frame);
  if (random() < 0.1) text = text.replace(/"/, '\\"');
  if (random() < 0.05) text = text.replace('}', '\\ud800}');
  return text;
}

function hugeFrame() {
  const size = FRAME_LIMIT - 2048 + int(4096);
  const key = pick(['id', 'channel', 'type', 'pad']);
  const head = `{"type":"ping","${key}":"`;
  const fill = Math.max(0, size - head.length - 2);
  return head + pick(['x', 'é', '\\n', '\\u0041']).repeat(Math.ceil(fill / 6) * (random() < 0.5 ? 1 : 6)).slice(0, fill) + '"}';
}

// What one frame may be sent as: [data, options].
const KINDS = {
  randomBytes: () => [bytes(1 + int(2000)), { binary: random() < 0.5 }],
  printable: () => [printable(1 + int(2000)), {}],
  deepNesting: () => [deep(1 + int(random() < 0.5 ? 80 : 3000)), {}],
  hugeStrings: () => [hugeFrame(), {}],
  mutated: () => [mutatedFrame(), {}],
};
const ALLOWED_CLOSES = new Set([4000, 1007, 1009]);

let server;
before(async () => {
  server = await startServer(['--shards', '2', '--max-frame-bytes', String(FRAME_LIMIT), '--history-size', '200']);
});
after(() => server?.stop());

// Sends `count` frames of `kind` over one connection at a time, reconnecting after each close,
// and checks each answer. Returns counts of what happened.
async function wsWorker(kind, count, deadline, stats) {
  let c = null;
  let marker = 0;
  for (let i = 0; i < count; i++) {
    if (Date.now() > deadline) break;
    stats.sent[kind] = (stats.sent[kind] ?? 0) + 1;
    if (!c || c.closeInfo) c = await connect(server.wsUrl, { timeoutMs: 10_000 });
    const [data, options] = KINDS[kind]();
    c.sendRaw(data, options);
    // A ping after each frame: its pong says the frame was handled and the connection lives.
    const id = `m${marker++}`;
    try { c.send({ type: 'ping', id }); } catch { /* closing */ }
    const outcome = await Promise.race([
      c.next((f) => f.type === 'pong' && f.id === id, 10_000, 'the marker pong').then(() => 'open', () => c.closed),
      c.closed.then((info) => info),
    ]);
    if (outcome === 'open') {
      stats.answered++;
      // Whatever came back for the frame is a well-formed answer.
      for (const f of c.queue.splice(0)) {
        assert.ok(['error', 'pong', 'subscribed', 'unsubscribed', 'event'].includes(f.type), JSON.stringify(f).slice(0, 300));
        if (f.type === 'error') {
          assert.ok(['bad_request', 'unauthorized', 'not_found', 'too_many_subscriptions'].includes(f.code), JSON.stringify(f));
        }
      }
    } else if (outcome && typeof outcome === 'object') {
      // A frame over the limit is followed by the rest of its own bytes: Beast's teardown
      // (see websocket_errors.test.js) may then reset the connection before the 1009 arrives.
      const over = Buffer.byteLength(data) > FRAME_LIMIT;
      assert.ok(ALLOWED_CLOSES.has(outcome.code) || (over && outcome.code === 1006),
        `${kind}: closed with ${outcome.code} ${outcome.reason}`);
      stats.closes[outcome.code] = (stats.closes[outcome.code] ?? 0) + 1;
    } else {
      throw new Error(`${kind}: neither a pong nor a close`);
    }
  }
  if (c) c.terminate();
}

function randomBody() {
  const r = random();
  if (r < 0.15) return bytes(1 + int(3000));
  if (r < 0.3) return printable(1 + int(3000));
  if (r < 0.4) return deep(1 + int(200));
  const event = recordEvent({ bucket: 'fz', collection: `c${int(5)}` });
  const body = random() < 0.3 ? { events: [event, recordEvent({ bucket: 'fz', collection: 'c0' })] } : event;
  const target = body.events ? pick(body.events) : body;
  for (let m = 1 + int(3); m > 0; m--) {
    const place = pick(['payload', 'impacted', 'top']);
    try {
      if (place === 'payload') {
        target.payload[pick(['action', 'resource_name', 'uri', 'timestamp', 'bucket_id', 'collection_id', 'record_id'])] = value();
      } else if (place === 'impacted') {
        const o = target.impacted_objects[0];
        if (random() < 0.5 && o.new) o.new[pick(['id', 'last_modified'])] = value(); else target.impacted_objects = value();
      } else {
        target[pick(['payload', 'impacted_objects', 'events'])] = value();
      }
    } catch {
      // An earlier mutation made this one impossible: the body is malformed enough.
    }
  }
  let text = JSON.stringify(body);
  if (random() < 0.15) text = text.slice(0, int(text.length));
  return text;
}

test(`fuzz: ${PER_KIND} malformed frames of each kind and ${PER_KIND} malformed POST bodies`, async (t) => {
  const samples = [];
  const sample = () => samples.push(server.rssBytes());
  sample();

  const kinds = Object.keys(KINDS);
  const stats = { sent: {}, posted: 0, answered: 0, closes: {}, http: {} };
  // Two halves, so that memory can be compared between them.
  for (const half of [0, 1]) {
    const deadline = Date.now() + HALF_BUDGET_MS;
    for (const kind of kinds) {
      const count = Math.ceil(PER_KIND / 2);
      const per = Math.ceil(count / WS_WORKERS);
      await Promise.all(Array.from({ length: WS_WORKERS }, () => wsWorker(kind, per, deadline, stats)));
    }
    await pool(Math.ceil(PER_KIND / 2), HTTP_IN_FLIGHT, async () => {
      if (Date.now() > deadline) return;
      stats.posted++;
      const res = await publish(server.url, randomBody());
      stats.http[res.status] = (stats.http[res.status] ?? 0) + 1;
      assert.ok(res.status === 202 || res.status === 400, `POST answered ${res.status}: ${res.text.slice(0, 300)}`);
      if (res.status === 400) {
        assert.equal(res.body.code, 400);
        assert.ok([106, 107].includes(res.body.errno), res.text);
      }
    });
    assert.equal((await getJSON(server.url, '/__lbheartbeat__')).status, 200, `alive after half ${half}`);
    sample();
  }

  t.diagnostic(`frames sent ${JSON.stringify(stats.sent)}, bodies posted ${stats.posted}`);
  t.diagnostic(`ws answered ${stats.answered}, closes ${JSON.stringify(stats.closes)}, http ${JSON.stringify(stats.http)}`);
  t.diagnostic(`RSS MiB: ${samples.map((b) => (b / MIB).toFixed(1)).join(' -> ')}`);
  assert.ok(server.alive(), 'the server is running');
  const growth = samples[2] - samples[1];
  assert.ok(growth < 64 * MIB, `RSS grew by ${(growth / MIB).toFixed(1)} MiB in the second half`);
  assert.ok(stats.closes[4000] > 0 && stats.closes[1009] > 0 && stats.answered > 0, JSON.stringify(stats.closes));
  assert.ok(stats.http[400] > 0);

  // And it still works.
  const c = await connect(server.wsUrl);
  const col = collectionChannel('after', 'fuzz');
  await c.subscribe(col);
  await publishOk(server.url, recordEvent({ bucket: 'after', collection: 'fuzz' }));
  assert.equal((await c.events(col, 1))[0].offset, 1);
  await c.close();
});
