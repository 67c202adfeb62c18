'use strict';
// The code blocks of the docs that tests run as written.
//
// - `docBlock(file, name)`: the fenced block right after a line `<!-- block: NAME -->`.
// - `runnableBlocks(file)`: every fenced block after a line `<!-- runnable -->` or
//   `<!-- runnable: OPTIONS -->` (other `<!-- … -->` lines may stand between the marker and the
//   fence). OPTIONS, separated by spaces:
//     stream Ns       the block never ends by itself (`curl -N`, `kinto-push tail`, a server):
//                     it runs N seconds, then is stopped; ending earlier with a failure fails.
//     expect-output   the `# ` lines that follow a command are its output (sh blocks), compared
//                     after masking what changes between runs (see outputMatches).
//     server ARGS…    (last) the options of the server the file's blocks run against; every
//                     block of a file that gives them must give the same.

const fs = require('node:fs');
const path = require('node:path');

const REPO = path.resolve(__dirname, '..', '..', '..');

function docBlock(file, name) {
  const text = fs.readFileSync(path.join(REPO, file), 'utf8');
  const marker = `<!-- block: ${name} -->`;
  const at = text.indexOf(marker);
  if (at < 0) throw new Error(`${file}: no block named ${name}`);
  // Other markers (`<!-- runnable -->`) may stand between the name and the fence.
  const fence = text.slice(at + marker.length).match(/^(?:\s*<!--.*-->)*\s*```[a-z]*\n([\s\S]*?)\n```/);
  if (!fence) throw new Error(`${file}: the ${name} marker is not followed by a fenced block`);
  return fence[1];
}

const LANGUAGES = { sh: 'sh', bash: 'sh', shell: 'sh', js: 'js', mjs: 'js', javascript: 'js' };

function parseOptions(where, text) {
  const options = { streamSeconds: null, expectOutput: false, serverArgs: null };
  const words = text.trim().split(/\s+/).filter(Boolean);
  for (let i = 0; i < words.length; i++) {
    const word = words[i];
    if (word === 'stream') {
      const m = /^(\d+(?:\.\d+)?)s$/.exec(words[++i] ?? '');
      if (!m) throw new Error(`${where}: "stream" needs a duration such as 2s`);
      options.streamSeconds = Number(m[1]);
    } else if (word === 'expect-output') {
      options.expectOutput = true;
    } else if (word === 'server') {
      options.serverArgs = words.slice(i + 1);
      break;
    } else {
      throw new Error(`${where}: unknown runnable option "${word}" (stream Ns, expect-output, server ARGS…)`);
    }
  }
  return options;
}

// The marked blocks of `file` (relative to the repository, or absolute), in order:
// {file, line, lang: 'sh' | 'js', code, streamSeconds, expectOutput, serverArgs}.
function runnableBlocks(file) {
  const lines = fs.readFileSync(path.resolve(REPO, file), 'utf8').split('\n');
  const blocks = [];
  for (let i = 0; i < lines.length; i++) {
    const marker = /^(\s*)<!-- runnable(?::(.*?))?\s*-->\s*$/.exec(lines[i]);
    if (!marker) {
      if (/<!--\s*runnable/.test(lines[i])) throw new Error(`${file}:${i + 1}: malformed runnable marker: ${lines[i]}`);
      continue;
    }
    const where = `${file}:${i + 1}`;
    const indent = marker[1];   // a block in a list item is indented: its lines lose that much
    const options = parseOptions(where, marker[2] ?? '');
    let j = i + 1;
    while (j < lines.length && /^\s*<!--.*-->\s*$/.test(lines[j])) j++;
    const fence = new RegExp(`^${indent}\`\`\`([a-z]*)\\s*$`).exec(lines[j] ?? '');
    if (!fence) throw new Error(`${where}: the runnable marker is not followed by a fenced block`);
    const lang = LANGUAGES[fence[1]];
    if (!lang) throw new Error(`${where}: a runnable block must be sh or js, not "${fence[1]}"`);
    let k = j + 1;
    while (k < lines.length && !new RegExp(`^${indent}\`\`\`\\s*$`).test(lines[k])) k++;
    if (k >= lines.length) throw new Error(`${where}: unterminated block`);
    if (options.expectOutput && lang !== 'sh') throw new Error(`${where}: expect-output is for sh blocks`);
    blocks.push({ file, line: j + 1, lang, code: lines.slice(j + 1, k).map((l) => (l.startsWith(indent) ? l.slice(indent.length) : l)).join('\n'), ...options });
    i = k;
  }
  return blocks;
}

// An sh block split into its commands, each with the output its `# ` lines show:
// [{command, expected: [lines] | null}]. A line `#` alone is an empty line of output.
function commandsWithOutput(code) {
  const segments = [];
  let current = null;
  for (const line of code.split('\n')) {
    const out = /^#(?: (.*))?$/.exec(line);
    if (out && current && current.command.trim()) {
      (current.expected ??= []).push(out[1] ?? '');
      continue;
    }
    if (!current || current.expected) {
      current = { command: '', expected: null };
      segments.push(current);
    }
    current.command += `${line}\n`;
  }
  return segments;
}

// Values that change from run to run, masked on both sides before comparing. Kinto timestamps
// are the examples' own data, so they are compared.
const MASKS = [
  [/"epoch":\s*"[^"]*"/g, '"epoch":"<epoch>"'],
  [/\b[0-9a-f]{8}_(\d+)\b/g, '<epoch>_$1'],                  // SSE ids: EPOCH_OFFSET
  [/"(session|server|version)":\s*"[^"]*"/g, '"$1":"<$1>"'],   // the connection, the build
];
// Anything else that changes (a token, a time) is written `…` in the docs.

function mask(text) {
  let out = text;
  for (const [regex, replacement] of MASKS) out = out.replace(regex, replacement);
  return out;
}

// Whether `actual` output ends with what `expected` lines say (what comes before, such as
// npm's report, does not count): masked, whitespace ignored (the docs wrap long JSON), `…`
// matching anything. `prefix`: the output may also go on after them (a stream stopped later).
function outputMatches(expected, actual, { prefix = false } = {}) {
  const squeeze = (s) => mask(s).replace(/\s+/g, '');
  const pattern = squeeze(expected.join('\n')).split('…')
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('[\\s\\S]*?');
  return new RegExp(`${pattern}${prefix ? '' : '$'}`).test(squeeze(actual));
}

module.exports = { REPO, docBlock, runnableBlocks, commandsWithOutput, outputMatches, mask };
