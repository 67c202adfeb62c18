'use strict';
// A strict parser of the Prometheus text exposition format 0.0.4, for the tests of GET /metrics:
// it throws on anything malformed (a sample before its TYPE, a bad label, a bad number, a
// histogram whose buckets are not cumulative), so that tests check values, not patterns.

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

function parseNumber(text, line) {
  if (text === '+Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  if (text === 'NaN') return NaN;
  if (!/^[-+]?(\d+\.?\d*([eE][-+]?\d+)?|\.\d+([eE][-+]?\d+)?)$/.test(text)) throw new Error(`bad number '${text}' in: ${line}`);
  return Number(text);
}

// {a="x",b="y\"z"} starting at text[0] === '{': returns [labels, rest].
function parseLabels(text, line) {
  const labels = {};
  let i = 1;
  for (;;) {
    if (text[i] === '}') return [labels, text.slice(i + 1)];
    const eq = text.indexOf('=', i);
    if (eq < 0) throw new Error(`bad labels in: ${line}`);
    const name = text.slice(i, eq);
    if (!LABEL.test(name)) throw new Error(`bad label name '${name}' in: ${line}`);
    if (text[eq + 1] !== '"') throw new Error(`unquoted label value in: ${line}`);
    let value = '';
    let j = eq + 2;
    for (; j < text.length && text[j] !== '"'; j++) {
      if (text[j] === '\\') {
        const next = text[++j];
        if (next === 'n') value += '\n';
        else if (next === '\\' || next === '"') value += next;
        else throw new Error(`bad escape in: ${line}`);
      } else {
        value += text[j];
      }
    }
    if (j >= text.length) throw new Error(`unterminated label value in: ${line}`);
    if (name in labels) throw new Error(`repeated label '${name}' in: ${line}`);
    labels[name] = value;
    i = j + 1;
    if (text[i] === ',') i++;
    else if (text[i] !== '}') throw new Error(`bad label separator in: ${line}`);
  }
}

// The family a sample belongs to: histogram samples end in _bucket, _sum or _count.
function familyOf(name, families) {
  if (families.has(name)) return name;
  for (const suffix of ['_bucket', '_sum', '_count']) {
    if (name.endsWith(suffix)) {
      const base = name.slice(0, -suffix.length);
      const family = families.get(base);
      if (family && (family.type === 'histogram' || family.type === 'summary')) return base;
    }
  }
  return undefined;
}

function checkHistogram(name, family) {
  const series = new Map();   // labels without le -> {buckets: [[le, value]], sum, count}
  for (const s of family.samples) {
    const { le, ...rest } = s.labels;
    const key = JSON.stringify(Object.entries(rest).sort());
    if (!series.has(key)) series.set(key, { buckets: [], sum: undefined, count: undefined });
    const entry = series.get(key);
    if (s.name === `${name}_bucket`) {
      if (le === undefined) throw new Error(`${name}_bucket without le`);
      entry.buckets.push([parseNumber(le, le), s.value]);
    } else if (s.name === `${name}_sum`) entry.sum = s.value;
    else if (s.name === `${name}_count`) entry.count = s.value;
  }
  for (const entry of series.values()) {
    const { buckets } = entry;
    if (!buckets.length || buckets[buckets.length - 1][0] !== Infinity) throw new Error(`${name}: no +Inf bucket`);
    for (let i = 1; i < buckets.length; i++) {
      if (!(buckets[i][0] > buckets[i - 1][0])) throw new Error(`${name}: le not increasing`);
      if (buckets[i][1] < buckets[i - 1][1]) throw new Error(`${name}: buckets not cumulative`);
    }
    if (entry.count !== buckets[buckets.length - 1][1]) throw new Error(`${name}: _count differs from the +Inf bucket`);
    if (entry.sum === undefined) throw new Error(`${name}: no _sum`);
  }
}

// Returns a Map name -> {type, help, samples: [{name, labels, value}]}.
function parse(text) {
  const families = new Map();
  const seen = new Set();
  if (text.length && !text.endsWith('\n')) throw new Error('exposition does not end with a newline');
  for (const line of text.split('\n')) {
    if (line === '') continue;
    if (line.startsWith('#')) {
      const m = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
      if (!m) continue;   // a plain comment
      const [, kind, name, rest] = m;
      if (!NAME.test(name)) throw new Error(`bad metric name in: ${line}`);
      if (!families.has(name)) families.set(name, { type: 'untyped', help: '', samples: [], typed: false });
      const family = families.get(name);
      if (kind === 'TYPE') {
        if (!TYPES.has(rest)) throw new Error(`bad type in: ${line}`);
        if (family.typed || family.samples.length) throw new Error(`TYPE repeated or after samples: ${line}`);
        family.type = rest;
        family.typed = true;
      } else {
        family.help = rest.replace(/\\n/g, '\n').replace(/\\\\/g, '\\');
      }
      continue;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)( -?\d+)?$/.exec(line);
    if (!m) throw new Error(`bad sample line: ${line}`);
    const [, name, labelText, valueText] = m;
    const labels = labelText ? parseLabels(labelText, line)[0] : {};
    const familyName = familyOf(name, families);
    if (!familyName || !families.get(familyName).typed) throw new Error(`sample before its TYPE: ${line}`);
    const key = name + JSON.stringify(Object.entries(labels).sort());
    if (seen.has(key)) throw new Error(`repeated sample: ${line}`);
    seen.add(key);
    families.get(familyName).samples.push({ name, labels, value: parseNumber(valueText, line) });
  }
  for (const [name, family] of families) if (family.type === 'histogram') checkHistogram(name, family);
  return families;
}

// The value of the sample `name` whose labels are exactly `labels` (undefined when absent).
function sample(families, name, labels = {}) {
  const family = families.get(familyOf(name, families));
  if (!family) return undefined;
  const want = JSON.stringify(Object.entries(labels).sort());
  const found = family.samples.find((s) => s.name === name && JSON.stringify(Object.entries(s.labels).sort()) === want);
  return found?.value;
}

module.exports = { parse, sample };
