'use strict';
// The JavaScript client as a package, the Node route of docs/js-client.md run as written: the
// install block in a scratch folder outside the repository (npm links the folder, so `ws` is
// not beside the client's real path), then the application block, which passes no WebSocket
// constructor: the client must find `ws` in the application and connect over WebSocket.
// Also: the package ships every module the client imports; a client that failed rejects subscribe() instead of leaving it pending.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const { spawn, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { startServer, publishOk, recordEvent, delay } = require('./support/server');
const { REPO, docBlock } = require('./support/doc_blocks');
const { CLIENT_DIR, relativeImports } = require('./support/client_modules');

const CHANNEL = '/buckets/blog/collections/articles';

// Lines of a child's stdout, and a wait for one that matches.
function lines(child) {
  const seen = [];
  let waiter = null;
  let buffer = '';
  child.stdout.on('data', (chunk) => {
    buffer += chunk;
    const parts = buffer.split('\n');
    buffer = parts.pop();
    seen.push(...parts);
    waiter?.();
  });
  return {
    seen,
    until(regex, ms = 20_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no line matching ${regex} within ${ms} ms; got ${JSON.stringify(seen)}`)), ms);
        waiter = () => {
          const found = seen.find((l) => regex.test(l));
          if (found) { clearTimeout(timer); waiter = null; resolve(found); }
        };
        waiter();
      });
    },
  };
}

test('the Node route of docs/js-client.md, as written, in a scratch folder: finds ws in the application, gets events', async () => {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'kinto-push-node-route-'));
  const server = await startServer([]);
  let app = null;
  try {
    // The install block as written, with the repository's path; npm may use its cache (the
    // suite's own npm ci fetched ws) but installs the same packages.
    const install = docBlock('docs/js-client.md', 'node-install').replaceAll('/path/to/kinto-push', REPO);
    execFileSync('bash', ['-euo', 'pipefail', '-c', install], {
      cwd: scratch, stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000,
      env: { ...process.env, npm_config_prefer_offline: 'true', npm_config_audit: 'false', npm_config_fund: 'false' },
    });
    const appDir = path.join(scratch, 'my-app');
    // npm links the folder: the client's real path is in the repository, where no ws is.
    assert.ok(fs.lstatSync(path.join(appDir, 'node_modules', 'kinto-push-client')).isSymbolicLink());
    assert.ok(!fs.existsSync(path.join(REPO, 'clients', 'js', 'node_modules', 'ws')));

    const source = docBlock('docs/js-client.md', 'node-app').replaceAll('http://127.0.0.1:8080', server.url);
    fs.writeFileSync(path.join(appDir, 'app.mjs'), source);
    app = spawn(process.execPath, ['app.mjs'], { cwd: appDir, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    app.stderr.on('data', (c) => { stderr += c; });
    const out = lines(app);
    await out.until(/^subscribed$/).catch((e) => { throw new Error(`${e.message}\nstderr: ${stderr}`); });

    // Over WebSocket, not the SSE fallback: Node 20 has no global WebSocket, so ws was found.
    assert.match(server.log(), /websocket\.open/);
    assert.doesNotMatch(server.log(), /sse\.open/);

    await publishOk(server.url, { events: [recordEvent({ action: 'create' })] });
    assert.equal(await out.until(/^event /), 'event 1 create');
  } finally {
    if (app && app.exitCode === null) {
      app.kill('SIGTERM');
      await new Promise((resolve) => app.once('exit', resolve));
    }
    await server.stop();
    fs.rmSync(scratch, { recursive: true, force: true });
  }
});

test('the package ships every module kinto-push.js imports, directly or not (npm pack --dry-run)', () => {
  const packed = JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
    cwd: CLIENT_DIR, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000,
  }));
  const shipped = packed[0].files.map((f) => f.path);
  const needed = new Set(['kinto-push.js']);
  for (const file of needed) for (const imported of relativeImports(file)) needed.add(imported);
  assert.ok(needed.size >= 9, `kinto-push.js and what it imports: ${[...needed]}`);
  for (const file of [...needed, 'kinto-push.d.ts', 'package.json']) assert.ok(shipped.includes(file), `the package lacks ${file}: ${shipped}`);
});

test('a client that failed rejects pending and new subscribe() calls with the reason', async () => {
  const { KintoPushClient } = await import(path.join(REPO, 'clients', 'js', 'kinto-push.js'));
  // A WebSocket constructor that cannot work here: the client fails (transport "websocket").
  class Broken { constructor() { throw new Error('no sockets in this test'); } }
  const client = new KintoPushClient('http://127.0.0.1:9', { transport: 'websocket', WebSocket: Broken, autoConnect: false });
  const errors = [];
  client.on('error', (e) => errors.push(e));
  const pending = client.subscribe(CHANNEL);
  client.connect();
  await assert.rejects(Promise.race([pending, delay(5_000).then(() => 'still pending')]).then((v) => {
    if (v === 'still pending') throw new Error('subscribe() still pending after the client failed');
    return v;
  }), (e) => e.code === 'failed' && /no sockets in this test/.test(e.message));
  assert.equal(client.state, 'failed');
  await assert.rejects(client.subscribe('/buckets/blog/collections/other'), (e) => e.code === 'failed');
  assert.ok(errors.length >= 1);
  client.close();
});
