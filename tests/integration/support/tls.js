'use strict';
// Test certificates: a self-signed P-256 certificate and its key, made with the openssl
// command in a temporary folder, for servers started with --tls-cert/--tls-key (and Redis).

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFileSync } = require('node:child_process');

// Writes `<name>.pem` and `<name>-key.pem` in `dir` (a new temporary folder when omitted).
// Returns the paths, the certificate's bytes (`ca`, to trust it) and the folder.
function makeCertificate({ dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kinto-push-tls-')), name = 'localhost',
  subjectAltName = 'DNS:localhost,IP:127.0.0.1', days = 1 } = {}) {
  const cert = path.join(dir, `${name}.pem`);
  const key = path.join(dir, `${name}-key.pem`);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-keyout', key, '-out', cert, '-days', String(days), '-subj', `/CN=${name}`,
    '-addext', `subjectAltName=${subjectAltName}`], { stdio: 'ignore' });
  return { dir, cert, key, ca: fs.readFileSync(cert) };
}

module.exports = { makeCertificate };
