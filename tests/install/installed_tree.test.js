'use strict';
// `cmake --install` into a temporary prefix, then: the systemd unit names the installed binary,
// the binary is stripped when the build strips at install, every relative link of the
// installed documentation resolves, and the unit's own command line serves /__heartbeat__,
// /__version__ and /metrics.
// Environment: CMAKE_COMMAND, KINTO_PUSH_BUILD_DIR (the configured build tree).

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync, spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const cmake = process.env.CMAKE_COMMAND || 'cmake';
const buildDir = process.env.KINTO_PUSH_BUILD_DIR;
const prefix = fs.mkdtempSync(path.join(os.tmpdir(), 'kinto-push-install-'));
const installed = path.join(prefix, 'bin', 'kinto-push');
const doc = path.join(prefix, 'share', 'doc', 'kinto-push');
const unitPath = path.join(prefix, 'lib', 'systemd', 'system', 'kinto-push.service');

// Key=value lines of the unit, every value of a key in order.
function unitSettings() {
  const settings = new Map();
  for (const line of fs.readFileSync(unitPath, 'utf8').split('\n')) {
    const m = /^([A-Za-z]+)=(.*)$/.exec(line);
    if (m) settings.set(m[1], [...(settings.get(m[1]) || []), m[2]]);
  }
  return settings;
}

function cacheValue(name) {
  const m = new RegExp(`^${name}:[A-Z]+=(.*)$`, 'm').exec(fs.readFileSync(path.join(buildDir, 'CMakeCache.txt'), 'utf8'));
  return m ? m[1] : undefined;
}

function hasSymbolTable(file) {
  return /\s\.symtab\s/.test(execFileSync('readelf', ['-S', '-W', file], { encoding: 'utf8', maxBuffer: 16 << 20 }));
}

before(() => {
  execFileSync(cmake, ['--install', buildDir, '--prefix', prefix], { stdio: 'pipe', timeout: 120_000 });
});
after(() => fs.rmSync(prefix, { recursive: true, force: true }));

test('the unit names the binary of this install prefix, and its documentation', () => {
  const settings = unitSettings();
  assert.deepEqual(settings.get('ExecStart'), [`${installed} serve`]);
  assert.deepEqual(settings.get('Documentation'), [`file://${doc}/docs/operations.md`]);
  fs.accessSync(path.join(doc, 'docs', 'operations.md'));
  assert.doesNotMatch(fs.readFileSync(unitPath, 'utf8'), /@[A-Z_]+@/, 'every placeholder was replaced');
  for (const [key, value] of [['DynamicUser', 'yes'], ['StateDirectory', 'kinto-push'], ['ProtectSystem', 'strict'],
    ['ProtectHome', 'yes'], ['NoNewPrivileges', 'yes'], ['PrivateTmp', 'yes']]) {
    assert.deepEqual(settings.get(key), [value], key);
  }
  assert.match(settings.get('Environment')[0], /^KINTO_PUSH_STORE=sqlite:\/var\/lib\/kinto-push\//);
});

test('a DESTDIR install writes under DESTDIR a unit that names the prefix without it', () => {
  const destdir = fs.mkdtempSync(path.join(os.tmpdir(), 'kinto-push-destdir-'));
  try {
    execFileSync(cmake, ['--install', buildDir, '--prefix', '/opt/kp'], {
      stdio: 'pipe', timeout: 120_000, env: { ...process.env, DESTDIR: destdir },
    });
    const unit = fs.readFileSync(path.join(destdir, 'opt', 'kp', 'lib', 'systemd', 'system', 'kinto-push.service'), 'utf8');
    assert.match(unit, /^ExecStart=\/opt\/kp\/bin\/kinto-push serve$/m);
    fs.accessSync(path.join(destdir, 'opt', 'kp', 'bin', 'kinto-push'), fs.constants.X_OK);
  } finally {
    fs.rmSync(destdir, { recursive: true, force: true });
  }
});

test('the binary is stripped when a Release install strips it, and keeps its symbols otherwise', () => {
  fs.accessSync(installed, fs.constants.X_OK);
  const strips = cacheValue('KINTO_PUSH_STRIP_RELEASE_INSTALL') !== 'OFF'
    && /^(Release|MinSizeRel)$/.test(cacheValue('CMAKE_BUILD_TYPE') || '');
  assert.equal(hasSymbolTable(installed), !strips, `stripped: expected ${strips}`);
  if (strips || cacheValue('KINTO_PUSH_STRIP_RELEASE_INSTALL') === 'OFF') return;
  // A build of another type: the same install as of a Release build (the configuration the
  // install rules see) strips.
  const other = fs.mkdtempSync(path.join(os.tmpdir(), 'kinto-push-install-release-'));
  try {
    execFileSync(cmake, ['--install', buildDir, '--prefix', other, '--config', 'Release'], { stdio: 'pipe', timeout: 120_000 });
    const binary = path.join(other, 'bin', 'kinto-push');
    assert.equal(hasSymbolTable(binary), false, 'a Release install strips');
    assert.ok(fs.statSync(binary).size < fs.statSync(installed).size);
  } finally {
    fs.rmSync(other, { recursive: true, force: true });
  }
});

test('every relative link of the installed documentation resolves to an installed file', () => {
  const pages = [];
  const walk = (dir) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(file);
      else if (entry.name.endsWith('.md')) pages.push(file);
    }
  };
  walk(doc);
  assert.ok(pages.includes(path.join(doc, 'README.md')));
  assert.ok(pages.includes(path.join(doc, 'docs', 'protocol.md')));
  const broken = [];
  let links = 0;
  for (const page of pages) {
    // Inline links and images, [text](target) or [text](target "title"); code spans removed first.
    const text = fs.readFileSync(page, 'utf8').replace(/```[\s\S]*?```/g, '').replace(/`[^`\n]*`/g, '');
    for (const m of text.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
      const target = m[1];
      if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('#')) continue;   // URLs, anchors
      links++;
      const file = path.resolve(path.dirname(page), decodeURIComponent(target.split('#')[0]));
      if (!file.startsWith(doc + path.sep) || !fs.existsSync(file)) broken.push(`${path.relative(doc, page)}: ${target}`);
    }
  }
  assert.ok(links >= 30, `${links} relative links found`);
  assert.deepEqual(broken, []);
  // The example configuration is one the binary accepts.
  const example = path.join(doc, 'examples', 'config.example.json');
  const shown = JSON.parse(execFileSync(installed, ['--config', example, '--print-config'], { encoding: 'utf8', timeout: 10_000 }));
  assert.equal(shown['log-format'], 'mozlog');
});

// Starts the unit's ExecStart with its Environment= (the store moved into the prefix) and
// `--listen 127.0.0.1:0`; resolves with the process and its URL once it logs its port.
function startUnitCommand(store) {
  const settings = unitSettings();
  const [bin, ...args] = settings.get('ExecStart')[0].split(/\s+/);
  const env = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('KINTO_PUSH_')) env[k] = v;
  for (const assignment of settings.get('Environment') || []) {
    const eq = assignment.indexOf('=');
    env[assignment.slice(0, eq)] = assignment.slice(eq + 1);
  }
  assert.match(env.KINTO_PUSH_STORE, /^sqlite:\/var\/lib\/kinto-push\//);
  env.KINTO_PUSH_STORE = `sqlite:${store}`;
  const proc = spawn(bin, [...args, '--listen', '127.0.0.1:0'], { stdio: ['ignore', 'ignore', 'pipe'], env });
  const exited = new Promise((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
  process.on('exit', () => { try { process.kill(proc.pid, 'SIGKILL'); } catch { /* gone */ } });
  let log = '';
  const listening = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no port logged within 10 s:\n${log}`)), 10_000);
    proc.stderr.setEncoding('utf8');
    proc.stderr.on('data', (chunk) => {
      log = (log + chunk).slice(-64 * 1024);
      const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(log);
      if (m) { clearTimeout(timer); resolve(`http://127.0.0.1:${m[1]}`); }
    });
    proc.on('error', (e) => { clearTimeout(timer); reject(e); });
    exited.then(({ code, signal }) => { clearTimeout(timer); reject(new Error(`exited (${code}, ${signal}):\n${log}`)); });
  });
  listening.catch(() => {});
  return { proc, exited, listening, log: () => log };
}

test("the unit's command line starts the installed server, which answers and stops on SIGTERM", async () => {
  const store = path.join(prefix, 'var', 'kinto-push.sqlite3');
  const server = startUnitCommand(store);
  try {
    const url = await server.listening;
    const heartbeat = await fetch(`${url}/__heartbeat__`);
    assert.equal(heartbeat.status, 200);
    assert.deepEqual(await heartbeat.json(), { store: 'ok' });
    const version = await (await fetch(`${url}/__version__`)).json();
    const cmakeLists = fs.readFileSync(path.join(__dirname, '..', '..', 'CMakeLists.txt'), 'utf8');
    assert.equal(version.version, /project\(kinto_push VERSION (\S+)/.exec(cmakeLists)[1]);
    const printed = execFileSync(installed, ['--version'], { encoding: 'utf8', timeout: 10_000 });
    assert.equal(printed, `kinto-push ${version.version} (commit ${version.commit}, ${version.build})\n`);
    // The commit is the one the build read from git (server/build_commit.cpp in the build tree),
    // a real commit of this repository; "unknown" only outside git.
    const generated = fs.readFileSync(path.join(buildDir, 'server', 'build_commit.cpp'), 'utf8');
    assert.equal(version.commit, /return "([^"]*)"/.exec(generated)[1]);
    let inGit = true;
    try {
      execFileSync('git', ['rev-parse', '--git-dir'], { cwd: __dirname, stdio: 'ignore' });
    } catch { inGit = false; }
    if (inGit) {
      assert.match(version.commit, /^[0-9a-f]{12}$/);
      execFileSync('git', ['cat-file', '-e', `${version.commit}^{commit}`], { cwd: __dirname, stdio: 'ignore' });
    } else {
      assert.equal(version.commit, 'unknown');
    }
    const metrics = await (await fetch(`${url}/metrics`)).text();
    assert.ok(metrics.includes(`kinto_push_build_info{version="${version.version}",commit="${version.commit}"} 1\n`));
    assert.ok(fs.statSync(store).size > 0, 'the SQLite store was created where the environment said');
  } finally {
    server.proc.kill('SIGTERM');
    const timer = setTimeout(() => server.proc.kill('SIGKILL'), 15_000);
    const { code } = await server.exited;
    clearTimeout(timer);
    assert.equal(code, 0, `exit code after SIGTERM:\n${server.log().slice(-4000)}`);
  }
});
