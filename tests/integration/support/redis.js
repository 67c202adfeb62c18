'use strict';
// A private redis-server for the Redis tests: on a free loopback port, in a temp dir, started
// and stopped by PID (Debian's redis-server; `scripts/install-deps test` installs it).

const { spawn, execFile } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { withTimeout } = require('./server');

const running = new Set();
process.on('exit', () => {
  for (const proc of running) {
    try { process.kill(proc.pid, 'SIGKILL'); } catch { /* already gone */ }
  }
});

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

// Starts redis-server; `appendonly` keeps an append-only file (fsync on every write with
// `fsyncAlways`), else nothing is persisted. `dir` and `port` reuse a previous instance's.
// `tls` ({cert, key} PEM files) serves TLS only; `password` requires AUTH.
async function startRedis({ appendonly = false, fsyncAlways = false, dir, port, tls, password } = {}) {
  const home = dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'kinto-push-redis-'));
  const listen = port ?? await freePort();
  const ports = tls
    ? ['--port', '0', '--tls-port', String(listen), '--tls-cert-file', tls.cert, '--tls-key-file', tls.key,
      '--tls-ca-cert-file', tls.cert, '--tls-auth-clients', 'no']
    : ['--port', String(listen)];
  if (password) ports.push('--requirepass', password);
  const args = [...ports, '--bind', '127.0.0.1', '--dir', home, '--save', '',
    '--appendonly', appendonly ? 'yes' : 'no', '--daemonize', 'no', '--protected-mode', 'yes'];
  if (appendonly) args.push('--appendfsync', fsyncAlways ? 'always' : 'everysec');
  const proc = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(proc);
  let log = '';
  const exited = new Promise((resolve) => proc.on('exit', (code, signal) => {
    running.delete(proc);
    resolve({ code, signal });
  }));
  proc.on('error', () => {});
  await withTimeout(new Promise((resolve, reject) => {
    proc.stdout.setEncoding('utf8');
    proc.stdout.on('data', (chunk) => {
      log += chunk;
      if (/Ready to accept connections/.test(log)) resolve();
    });
    proc.stderr.on('data', (chunk) => { log += chunk; });
    proc.on('error', reject);
    exited.then(({ code }) => reject(new Error(`redis-server exited (${code}):\n${log}`)));
  }), 10_000, 'redis-server start');
  let alive = true;
  exited.then(() => { alive = false; });
  return {
    port: listen,
    dir: home,
    url: `redis://127.0.0.1:${listen}/0`,
    pid: proc.pid,
    alive: () => alive,
    // SIGKILL (no shutdown save) or SIGTERM, then waits for the exit.
    async kill(signal = 'SIGKILL') {
      if (!alive) return;
      try { proc.kill(signal); } catch { /* gone */ }
      await withTimeout(exited, 10_000, 'redis-server exit');
    },
    // Runs redis-cli against this server; resolves with its output, trimmed.
    cli(...command) {
      return withTimeout(new Promise((resolve, reject) => {
        const access = tls ? ['--tls', '--cacert', tls.cert] : [];
        if (password) access.push('--no-auth-warning', '-a', password);
        execFile('redis-cli', ['-h', '127.0.0.1', '-p', String(listen), ...access, ...command], (error, stdout) => {
          if (error) reject(error);
          else resolve(stdout.trim());
        });
      }), 10_000, `redis-cli ${command.join(' ')}`);
    },
    async remove() {
      await this.kill();
      fs.rmSync(home, { recursive: true, force: true });
    },
  };
}

module.exports = { startRedis };
