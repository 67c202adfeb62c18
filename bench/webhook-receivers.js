'use strict';
// The receivers of bench/webhook-bench.js, in a child process it forks: --servers N Node
// `http` servers on 127.0.0.1 that answer 200 at once, count requests and events per channel
// and offset (the loss check), and keep the lag of each event (arrival minus its `sent_at`)
// in a histogram. They talk to the coordinator over the IPC channel and exit with it.

const http = require('node:http');
const { performance } = require('node:perf_hooks');

const args = process.argv.slice(2);
function option(name, fallback) {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
}
const nowMs = () => performance.timeOrigin + performance.now();   // wall clock, sub-ms, same across processes

const LAG_STEP_MS = 0.1;                 // lag histogram: 0.1 ms buckets up to 120 s
const LAG_BUCKETS = 1_200_000;

function receiverMain() {
  const count = Number(option('servers', 1));
  const lag = new Uint32Array(LAG_BUCKETS + 1);
  let lagMax = 0;
  let windowFrom = Infinity;
  let windowTo = -Infinity;
  const receivers = [];   // per server: {seen: Map<channel, Uint8Array>, requests, events, windowRequests, windowEvents, resyncs}
  let distinct = 0;
  let lastNew = 0;        // arrival time of the last offset seen for the first time

  function mark(r, channel, offset) {
    let seen = r.seen.get(channel);
    if (!seen || seen.length <= offset) {
      const grown = new Uint8Array(Math.max(1024, (offset + 1) * 2));
      if (seen) grown.set(seen);
      seen = grown;
      r.seen.set(channel, seen);
    }
    if (seen[offset] === 0) { distinct++; lastNew = nowMs(); }
    if (seen[offset] < 255) seen[offset]++;
  }

  function handle(r, body) {
    const at = nowMs();
    const message = JSON.parse(body);
    r.requests++;
    if (message.type === 'kinto.resync') { r.resyncs++; return; }
    const events = message.type === 'kinto.events' ? message.data : [message.data];
    const inWindow = at >= windowFrom && at < windowTo;
    if (inWindow) { r.windowRequests++; r.windowEvents += events.length; }
    for (const e of events) {
      r.events++;
      mark(r, e.channel, e.offset);
      const sent = e.impacted_objects?.[0]?.new?.sent_at;
      if (typeof sent === 'number' && sent >= windowFrom && sent < windowTo) {
        const ms = at - sent;
        if (ms > lagMax) lagMax = ms;
        lag[Math.min(LAG_BUCKETS, Math.max(0, Math.round(ms / LAG_STEP_MS)))]++;
      }
    }
  }

  let listening = 0;
  for (let i = 0; i < count; i++) {
    const r = { seen: new Map(), requests: 0, events: 0, windowRequests: 0, windowEvents: 0, resyncs: 0, port: 0 };
    receivers.push(r);
    const server = http.createServer((req, res) => {
      const chunks = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        try { handle(r, Buffer.concat(chunks).toString('utf8')); } catch { /* counted as nothing */ }
        res.writeHead(200, { 'content-length': '0' });
        res.end();
      });
    });
    server.keepAliveTimeout = 120_000;
    server.listen(0, '127.0.0.1', () => {
      r.port = server.address().port;
      if (++listening === count) process.send({ type: 'ports', ports: receivers.map((x) => x.port) });
    });
  }

  process.on('message', (m) => {
    if (m.type === 'window') { windowFrom = m.from; windowTo = m.to; }
    else if (m.type === 'progress') process.send({ type: 'progress', id: m.id, distinct, lastNew });
    else if (m.type === 'report') {
      // m.expected: {channel: [first, last]}; m.channels[k]: what receiver k's webhook follows;
      // it should have each of their offsets once.
      let missing = 0; let duplicates = 0; let requests = 0; let events = 0;
      let windowRequests = 0; let windowEvents = 0; let resyncs = 0; let receiversMissing = 0;
      for (const [k, r] of receivers.entries()) {
        let mine = 0;
        const follows = m.channels ? new Set(m.channels[k]) : null;   // the channels of its webhook
        for (const [channel, [first, last]] of Object.entries(m.expected)) {
          if (follows && !follows.has(channel)) continue;
          const seen = r.seen.get(channel);
          for (let o = first; o <= last; o++) {
            const n = seen && o < seen.length ? seen[o] : 0;
            if (n === 0) mine++; else duplicates += n - 1;
          }
        }
        missing += mine;
        if (mine) receiversMissing++;
        requests += r.requests; events += r.events; resyncs += r.resyncs;
        windowRequests += r.windowRequests; windowEvents += r.windowEvents;
      }
      const buckets = [];
      for (let b = 0; b <= LAG_BUCKETS; b++) if (lag[b]) buckets.push([b, lag[b]]);
      process.send({ type: 'report', id: m.id, missing, duplicates, requests, events, windowRequests, windowEvents,
        resyncs, receiversMissing, lagBuckets: buckets, lagMax, distinct, lastNew });
    } else if (m.type === 'exit') process.exit(0);
  });
  process.on('disconnect', () => process.exit(0));
}


if (require.main === module) receiverMain();
module.exports = { LAG_STEP_MS };
