'use strict';
// The code blocks of the docs that tests run as written: a fenced block right after a line
// `<!-- block: NAME -->` in a Markdown file of the repository.

const fs = require('node:fs');
const path = require('node:path');

const REPO = path.resolve(__dirname, '..', '..', '..');

function docBlock(file, name) {
  const text = fs.readFileSync(path.join(REPO, file), 'utf8');
  const marker = `<!-- block: ${name} -->`;
  const at = text.indexOf(marker);
  if (at < 0) throw new Error(`${file}: no block named ${name}`);
  const fence = text.slice(at + marker.length).match(/^\s*```[a-z]*\n([\s\S]*?)\n```/);
  if (!fence) throw new Error(`${file}: the ${name} marker is not followed by a fenced block`);
  return fence[1];
}

module.exports = { REPO, docBlock };
