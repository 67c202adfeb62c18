'use strict';
// The docs stand on their own: every link between the repository's Markdown files reaches an
// existing file and, when it names one, an existing heading (GitHub's anchors); nothing cites
// a document that is not in the repository.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { REPO } = require('./support/doc_blocks');

const FILES = [
  'README.md',
  ...fs.readdirSync(path.join(REPO, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`),
  'clients/js/README.md',
  'clients/python/README.md',
  'integrations/kinto/README.md',
].filter((f) => fs.existsSync(path.join(REPO, f)));

// GitHub's anchor of a heading: lower case, punctuation dropped, spaces as hyphens; a repeated
// heading gets -1, -2, …
function anchors(file) {
  const seen = new Map();
  const out = new Set();
  let fenced = false;
  for (const line of fs.readFileSync(path.join(REPO, file), 'utf8').split('\n')) {
    if (/^\s*```/.test(line)) fenced = !fenced;
    const m = !fenced && /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!m) continue;
    const slug = m[1].toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, '').replace(/ /g, '-');
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    out.add(n === 0 ? slug : `${slug}-${n}`);
  }
  return out;
}

function links(file) {
  const text = fs.readFileSync(path.join(REPO, file), 'utf8').replace(/```[\s\S]*?```/g, '');
  return [...text.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1])
    .filter((href) => !/^[a-z]+:/.test(href));
}

test('every link between the Markdown files reaches a file and a heading', () => {
  const broken = [];
  for (const file of FILES) {
    for (const href of links(file)) {
      const [target, anchor] = href.split('#');
      const resolved = target ? path.normalize(path.join(path.dirname(file), target)) : file;
      if (!fs.existsSync(path.join(REPO, resolved))) { broken.push(`${file}: ${href} (no such file)`); continue; }
      if (anchor !== undefined && resolved.endsWith('.md') && !anchors(resolved).has(anchor)) {
        broken.push(`${file}: ${href} (no heading #${anchor} in ${resolved})`);
      }
    }
  }
  assert.deepEqual(broken, []);
});

test('the docs cite no document outside the repository (the protocol is docs/protocol.md)', () => {
  const citing = FILES.filter((f) => /PROTOCOL\.md/.test(fs.readFileSync(path.join(REPO, f), 'utf8')));
  assert.deepEqual(citing, []);
});

test('heading anchors as GitHub writes them', () => {
  const dir = fs.mkdtempSync(path.join(REPO, 'tests', '.anchors-'));
  try {
    const file = path.relative(REPO, path.join(dir, 'x.md'));
    fs.writeFileSync(path.join(REPO, file), '# Publishing: `POST /v1/events`\n## Compression: permessage-deflate (RFC 7692)\n```\n# not a heading\n```\n## Order\n## Order\n');
    assert.deepEqual([...anchors(file)], ['publishing-post-v1events', 'compression-permessage-deflate-rfc-7692', 'order', 'order-1']);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
