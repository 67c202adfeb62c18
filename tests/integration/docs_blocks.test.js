'use strict';
// Every code block of the docs marked `<!-- runnable … -->` (support/doc_blocks.js says the
// options), run as written against a real server, so that the docs stay true:
// - one fresh server per Markdown file, with the options its blocks' markers give;
// - the docs' 127.0.0.1:8080 is that server's address, /path/to/kinto-push the repository;
// - sh blocks run with `bash -euo pipefail` in a scratch folder shared by the file's blocks (a
//   file written by one block is there for the next), with `kinto-push` on PATH (a symlink to
//   KINTO_PUSH_BIN), HOME in the scratch folder, KINTO_PUSH_LISTEN=127.0.0.1:0 and
//   KINTO_PUSH_STORE=memory (a server a block starts binds a free port and writes nothing), and
//   secrets in KINTO_PUSH_PUBLISH_SECRET, KINTO_PUSH_ADMIN_SECRET and JWT_SECRET (the server
//   options may name them as $VAR);
// - js blocks run with Node as ES modules in a folder where the client package is installed as
//   docs/js-client.md's Node route says (npm install clients/js ws).
// A block fails its test when it exits non-zero (a stream block: before its time is up), when
// its output is not what its `# ` lines say (expect-output), or on a sanitizer report.

const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { spawn, execFileSync } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { startServer } = require('./support/server');
const { REPO, runnableBlocks, commandsWithOutput, outputMatches } = require('./support/doc_blocks');

const FILES = [
  'README.md',
  ...fs.readdirSync(path.join(REPO, 'docs')).filter((f) => f.endsWith('.md')).sort().map((f) => `docs/${f}`),
  'clients/js/README.md',
  'clients/python/README.md',
  'integrations/kinto/README.md',
];
const SLOW = (process.env.KINTO_PUSH_SANITIZER ?? 'none') !== 'none' ? 3 : 1;
const BLOCK_TIMEOUT_MS = 60_000;
const SEGMENT = '@@kinto-push-docs-segment@@';
const SANITIZER = /(ERROR: (Address|Leak)Sanitizer|WARNING: ThreadSanitizer|runtime error:)[^\n]*/;

// Runs `argv` in its own process group until it exits, or until `stopAfterMs` (then SIGTERM,
// SIGKILL 3 s later, to the group led by the child's PID), or until `done(stdout)` is true.
function run(argv, { cwd, env, stopAfterMs, done = () => false }) {
  return new Promise((resolve) => {
    const child = spawn(argv[0], argv.slice(1), { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let stopped = false;
    const stop = () => {
      if (stopped || child.exitCode !== null) return;
      stopped = true;
      try { process.kill(-child.pid, 'SIGTERM'); } catch { /* gone */ }
      setTimeout(() => { try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ } }, 3_000).unref();
    };
    const timer = setTimeout(stop, stopAfterMs);
    child.stdout.on('data', (c) => { stdout += c; if (done(stdout)) stop(); });
    child.stderr.on('data', (c) => { stderr += c; });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      // What the block started and left behind (a server in the background) goes too.
      try { process.kill(-child.pid, 'SIGKILL'); } catch { /* none left */ }
      resolve({ code, signal, stopped, stdout, stderr });
    });
  });
}

function describeBlock(block) {
  return `${block.file}:${block.line} (${block.lang}${block.streamSeconds ? `, stream ${block.streamSeconds}s` : ''}${block.expectOutput ? ', expect-output' : ''})`;
}

// The script an expect-output block runs: a marker line after each command, to split stdout.
function segmentedScript(segments) {
  return segments.map((s) => `${s.command}printf '\\n%s\\n' '${SEGMENT}'\n`).join('');
}

function checkOutput(block, segments, stdout, { prefix }) {
  const parts = stdout.split(`\n${SEGMENT}\n`);
  segments.forEach((segment, i) => {
    if (!segment.expected) return;
    const actual = parts[i] ?? '';
    assert.ok(outputMatches(segment.expected, actual, { prefix: prefix && i === parts.length - 1 }),
      `${block.file}:${block.line}: the output of\n${segment.command}is not what the docs show.\n` +
      `expected:\n${segment.expected.join('\n')}\nactual:\n${actual}`);
  });
}

// The runner's own parts, so that a wrong block cannot pass unseen.
test('expected output: masked values and wrapped JSON match, a wrong value does not', () => {
  const shown = ['{"published":[{"channel":"/buckets/blog","offset":1},', '  {"channel":"/buckets","offset":1}]}'];
  assert.ok(outputMatches(shown, '{"published":[{"channel":"/buckets/blog","offset":1},{"channel":"/buckets","offset":1}]}\n'));
  assert.ok(!outputMatches(shown, '{"published":[{"channel":"/buckets/blog","offset":2},{"channel":"/buckets","offset":1}]}\n'));
  assert.ok(!outputMatches(shown, '{"published":[{"channel":"/buckets/blog","offset":1}]}\n'));
  const sse = ['event: subscribed', 'data: {"epoch":"9f2c61d0","offset":0,"t":1717000000123}', 'id: 9f2c61d0_0'];
  assert.ok(outputMatches(sse, 'event: subscribed\ndata: {"epoch":"0a1b2c3d","offset":0,"t":1717000000123}\nid: 0a1b2c3d_0\n'));
  assert.ok(!outputMatches(sse, 'event: subscribed\ndata: {"epoch":"0a1b2c3d","offset":0,"t":1765064512001}\nid: 0a1b2c3d_0\n'));
  assert.ok(!outputMatches(sse, 'event: subscribed\ndata: {"epoch":"0a1b2c3d","offset":0,"t":1717000000123}\nid: 0a1b2c3d_0\n: ping\n'));
  assert.ok(outputMatches(sse, 'event: subscribed\ndata: {"epoch":"0a1b2c3d","offset":0,"t":1717000000123}\nid: 0a1b2c3d_0\n: ping\n', { prefix: true }));
  assert.ok(outputMatches(['{"type":"welcome","session":"c1b6","server":"kinto-push/1.0.0"}'], '{"type":"welcome","session":"77aa01","server":"kinto-push/1.1.0"}'));
  assert.ok(!outputMatches(['{"type":"subscribed","id":"1"}'], '{"type":"subscribed","id":"2"}'));
  assert.ok(outputMatches(['{"id":"wh_…","enabled":true}'], '{"id":"wh_5f0c","enabled":true}'));
  assert.ok(!outputMatches(['{"id":"wh_…","enabled":true}'], '{"id":"wh_5f0c","enabled":false}'));
});

test('markers: commands and their shown output, options, and mistakes in a marker refused', () => {
  assert.deepEqual(commandsWithOutput('a=1\necho "$a"\n# 1\necho 2\n# 2\n#\necho 3'), [
    { command: 'a=1\necho "$a"\n', expected: ['1'] },
    { command: 'echo 2\n', expected: ['2', ''] },
    { command: 'echo 3\n', expected: null },
  ]);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kinto-push-docs-markers-'));
  try {
    const write = (text) => { fs.writeFileSync(path.join(dir, 'x.md'), text); return path.join(dir, 'x.md'); };
    const [block] = runnableBlocks(write('<!-- runnable: stream 2s expect-output server --publish-secret s -->\n<!-- block: b -->\n```sh\ncurl -N x\n# y\n```\n'));
    assert.equal(block.streamSeconds, 2);
    assert.equal(block.expectOutput, true);
    assert.deepEqual(block.serverArgs, ['--publish-secret', 's']);
    assert.equal(block.code, 'curl -N x\n# y');
    assert.throws(() => runnableBlocks(write('<!-- runnable: forever -->\n```sh\nx\n```\n')), /unknown runnable option/);
    assert.throws(() => runnableBlocks(write('<!-- runnable: stream -->\n```sh\nx\n```\n')), /needs a duration/);
    assert.throws(() => runnableBlocks(write('<!-- runnable -->\nsome text\n```sh\nx\n```\n')), /not followed by a fenced block/);
    assert.throws(() => runnableBlocks(write('<!-- runnable -->\n```json\n{}\n```\n')), /must be sh or js/);
    assert.throws(() => runnableBlocks(write('<!--runnable-->\n```sh\nx\n```\n')), /malformed/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

for (const file of FILES) {
  if (!fs.existsSync(path.join(REPO, file))) continue;
  const blocks = runnableBlocks(file);
  if (blocks.length === 0) continue;

  describe(`runnable blocks of ${file}`, () => {
    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'kinto-push-docs-'));
    const work = path.join(scratch, 'work');
    const binDir = path.join(scratch, 'bin');
    const jsDir = path.join(scratch, 'js');
    const env = {};
    for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('KINTO_PUSH_')) env[k] = v;
    Object.assign(env, {
      PATH: `${binDir}:${process.env.PATH}`,
      HOME: path.join(scratch, 'home'),
      KINTO_PUSH_LISTEN: '127.0.0.1:0',
      KINTO_PUSH_STORE: 'memory',
      KINTO_PUSH_PUBLISH_SECRET: crypto.randomBytes(32).toString('hex'),
      KINTO_PUSH_ADMIN_SECRET: crypto.randomBytes(32).toString('hex'),
      JWT_SECRET: crypto.randomBytes(32).toString('hex'),
      // HOME moves, npm's cache stays where the suite's own `npm ci` filled it.
      npm_config_cache: process.env.npm_config_cache ?? path.join(os.homedir(), '.npm'),
      npm_config_prefer_offline: 'true', npm_config_audit: 'false', npm_config_fund: 'false',
      npm_config_update_notifier: 'false',
    });
    let server = null;

    before(async () => {
      if (!process.env.KINTO_PUSH_BIN) throw new Error('KINTO_PUSH_BIN must name the kinto-push binary');
      for (const dir of [work, binDir, env.HOME]) fs.mkdirSync(dir, { recursive: true });
      fs.symlinkSync(path.resolve(process.env.KINTO_PUSH_BIN), path.join(binDir, 'kinto-push'));
      const given = blocks.filter((b) => b.serverArgs).map((b) => b.serverArgs.join(' '));
      if (new Set(given).size > 1) throw new Error(`${file}: blocks give different server options: ${[...new Set(given)].join(' | ')}`);
      const args = (blocks.find((b) => b.serverArgs)?.serverArgs ?? [])
        .map((a) => a.replace(/\$([A-Z_]+)/g, (_, name) => env[name] ?? ''));
      server = await startServer(args);
      if (blocks.some((b) => b.lang === 'js')) {
        fs.mkdirSync(jsDir);
        execFileSync('npm', ['install', path.join(REPO, 'clients', 'js'), 'ws'], {
          cwd: jsDir, env, stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000,
        });
      }
    });

    after(async () => {
      if (server) await server.stop();
      fs.rmSync(scratch, { recursive: true, force: true });
    });

    for (const block of blocks) {
      test(describeBlock(block), async () => {
        const code = block.code
          .replaceAll('127.0.0.1:8080', `127.0.0.1:${server.port}`)
          .replaceAll('/path/to/kinto-push', REPO);
        const segments = block.expectOutput ? commandsWithOutput(code) : null;
        let argv;
        let cwd = work;
        if (block.lang === 'sh') {
          argv = ['bash', '-euo', 'pipefail', '-c', segments ? segmentedScript(segments) : code];
        } else {
          const script = path.join(jsDir, `block-${block.line}.mjs`);
          fs.writeFileSync(script, code);
          argv = [process.execPath, script];
          cwd = jsDir;
        }
        const streaming = block.streamSeconds !== null;
        const matched = (stdout) => segments && streaming
          && segments.every((s, i) => !s.expected || outputMatches(s.expected, stdout.split(`\n${SEGMENT}\n`)[i] ?? ''));
        const result = await run(argv, {
          cwd, env,
          // A stream that shows its output stops as soon as it did: it may wait longer.
          stopAfterMs: streaming ? block.streamSeconds * 1000 * (segments ? SLOW : 1) : BLOCK_TIMEOUT_MS * SLOW,
          // A stream that showed what the docs say need not run its whole time.
          done: matched,
        });
        const report = `\nstdout:\n${result.stdout.slice(-4000)}\nstderr:\n${result.stderr.slice(-4000)}`;
        const sanitizer = SANITIZER.exec(result.stderr);
        assert.equal(sanitizer, null, `sanitizer report: ${sanitizer?.[0]}${report}`);
        if (streaming) {
          assert.ok(result.stopped || result.code === 0,
            `${describeBlock(block)} ended before its time, with ${result.code ?? result.signal}${report}`);
        } else {
          assert.ok(!result.stopped, `${describeBlock(block)} did not end within ${BLOCK_TIMEOUT_MS * SLOW} ms${report}`);
          assert.equal(result.code, 0, `${describeBlock(block)} exited with ${result.code ?? result.signal}${report}`);
        }
        if (segments) checkOutput(block, segments, result.stdout, { prefix: streaming });
        assert.ok(server.alive(), `the server died during ${describeBlock(block)}:\n${server.log().slice(-4000)}`);
      });
    }
  });
}
