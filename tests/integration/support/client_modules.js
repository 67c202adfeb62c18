'use strict';
// The modules of the JavaScript client (clients/js/): the `.js` files its package.json ships,
// which the server also serves beside /kinto-push.js, and the relative imports each one makes.

const fs = require('node:fs');
const path = require('node:path');

const CLIENT_DIR = path.join(__dirname, '..', '..', '..', 'clients', 'js');

/** The `.js` files in clients/js/package.json `files`, e.g. 'kinto-push.js'. */
function clientModules() {
  const pkg = JSON.parse(fs.readFileSync(path.join(CLIENT_DIR, 'package.json'), 'utf8'));
  return pkg.files.filter((f) => f.endsWith('.js'));
}

/** The files `file` imports as `./name.js` (static `import … from` and `export … from`). */
function relativeImports(file) {
  const text = fs.readFileSync(path.join(CLIENT_DIR, file), 'utf8');
  return [...text.matchAll(/^(?:import|export)\b[^;]*?\bfrom\s+'\.\/([^']+)'/gms)].map((m) => m[1]);
}

module.exports = { CLIENT_DIR, clientModules, relativeImports };
