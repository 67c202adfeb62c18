'use strict';
// kp-publish-path-bench (bench/publish-path): it times the JSON parse and the Kinto mapping of
// the event kp-loadgen posts in shape (b). A short run must map that event (the tool refuses
// to time a path that ends in a validation error) and print both medians; bad command lines
// are refused with exit status 2.

const test = require('node:test');
const assert = require('node:assert');
const { spawnSync } = require('node:child_process');

const BENCH = process.env.KP_PUBLISH_PATH_BENCH_BIN;

function run(args) {
  if (!BENCH) throw new Error('KP_PUBLISH_PATH_BENCH_BIN must name the kp-publish-path-bench binary');
  const r = spawnSync(BENCH, args, { encoding: 'utf8', timeout: 60_000 });
  if (r.error) throw r.error;
  return r;
}

test('a short run maps the bench event and prints the two medians', () => {
  const r = run(['--events', '2000', '--reps', '3']);
  assert.strictEqual(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /^body \d+ bytes, 2000 events x 3 reps/m);
  for (const step of ['JSON parse', 'Kinto mapping']) {
    const m = r.stdout.match(new RegExp(`^${step} +([0-9.]+) us per event \\(median\\)$`, 'm'));
    assert.ok(m, `no ${step} line in:\n${r.stdout}`);
    const us = Number(m[1]);
    assert.ok(us > 0 && us < 10_000, `${step}: ${us} us per event`);
  }
  assert.match(r.stdout, /^\(nlohmann's parse\(\) alone: [0-9.]+ us per event\)$/m);
});

test('bad command lines are refused with status 2', () => {
  for (const [args, message] of [
    [['--events', '0'], /--events must be an integer in 1\.\.10000000/],
    [['--reps', 'many'], /--reps must be an integer in 1\.\.99/],
    [['--events'], /usage: kp-publish-path-bench/],
    [['--fast'], /usage: kp-publish-path-bench/],
  ]) {
    const r = run(args);
    assert.strictEqual(r.status, 2, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
    assert.match(r.stderr, message);
  }
});
