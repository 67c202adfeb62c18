'use strict';
// GET /metrics: the process figures every Prometheus exporter has (process_*) and
// kinto_push_build_info, compared with what the kernel says of the server's PID.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { startServer, request, getJSON } = require('./support/server');
const { parse, sample } = require('./support/prometheus');

async function scrape(server) {
  const res = await request(server.url, '/metrics');
  assert.equal(res.status, 200);
  return parse(res.text);
}

// The soft "Max open files" of /proc/PID/limits.
function softFdLimit(pid) {
  const m = /^Max open files\s+(\S+)/m.exec(fs.readFileSync(`/proc/${pid}/limits`, 'utf8'));
  return m[1] === 'unlimited' ? Infinity : Number(m[1]);
}

test('/metrics has the process figures, with the types and values the kernel gives', async () => {
  const startedAt = Date.now() / 1000;
  const server = await startServer();
  try {
    const m = await scrape(server);
    for (const [name, type] of [['process_cpu_seconds_total', 'counter'], ['process_resident_memory_bytes', 'gauge'],
      ['process_virtual_memory_bytes', 'gauge'], ['process_open_fds', 'gauge'], ['process_max_fds', 'gauge'],
      ['process_start_time_seconds', 'gauge'], ['kinto_push_build_info', 'gauge']]) {
      assert.equal(m.get(name)?.type, type, name);
      assert.ok(m.get(name).help.length > 0, `${name} has a HELP`);
    }

    const cpu = sample(m, 'process_cpu_seconds_total');
    assert.ok(cpu >= 0 && cpu < 60, `cpu seconds ${cpu}`);

    // Resident size: within a factor of two of VmRSS (a wrong page size would be off by 4096).
    const rss = sample(m, 'process_resident_memory_bytes');
    const vmRss = server.rssBytes();
    assert.ok(rss > 1024 * 1024, `rss ${rss}`);
    assert.ok(rss > vmRss / 2 && rss < vmRss * 2, `rss ${rss} vs VmRSS ${vmRss}`);
    assert.ok(sample(m, 'process_virtual_memory_bytes') >= rss);

    const openFds = sample(m, 'process_open_fds');
    const maxFds = sample(m, 'process_max_fds');
    assert.equal(maxFds, softFdLimit(server.pid));
    assert.ok(openFds > 0 && openFds <= maxFds, `open ${openFds}, max ${maxFds}`);
    assert.ok(Math.abs(openFds - server.openFds()) <= 4, `open ${openFds} vs /proc: ${server.openFds()}`);

    const start = sample(m, 'process_start_time_seconds');
    const now = Date.now() / 1000;
    assert.ok(start >= startedAt - 2 && start <= now + 1, `start ${start}, test started ${startedAt}, now ${now}`);

    // Build info: the version of CMakeLists.txt and the commit of /__version__.
    const version = await getJSON(server.url, '/__version__');
    const info = m.get('kinto_push_build_info').samples;
    assert.equal(info.length, 1);
    assert.deepEqual(info[0].labels, { version: version.body.version, commit: version.body.commit });
    assert.equal(info[0].value, 1);
    const cmakeLists = fs.readFileSync(path.join(__dirname, '..', '..', 'CMakeLists.txt'), 'utf8');
    assert.equal(version.body.version, /project\(kinto_push VERSION (\S+)/.exec(cmakeLists)[1]);

    // The counter and the descriptors follow the process: work raises the CPU time, an open
    // connection is one more descriptor.
    const spin = Date.now() + 300;
    while (Date.now() < spin) await request(server.url, '/__lbheartbeat__');
    const net = require('node:net');
    const socket = net.connect(server.port, '127.0.0.1');
    await new Promise((resolve, reject) => { socket.once('connect', resolve); socket.once('error', reject); });
    try {
      const later = await scrape(server);
      assert.ok(sample(later, 'process_cpu_seconds_total') > cpu, 'CPU seconds grew');
      assert.ok(sample(later, 'process_open_fds') >= openFds + 1, 'the connection is counted');
      assert.equal(sample(later, 'process_start_time_seconds'), start);
    } finally {
      socket.destroy();
    }
  } finally {
    await server.stop();
  }
});
