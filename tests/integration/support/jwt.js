'use strict';
// JSON Web Tokens signed at test time, for the servers started with --jwt-secret (HS256) or
// --jwt-public-key (RS256) or --jwt-jwks-url (RS256, ES256).

const crypto = require('node:crypto');

// Seconds since the epoch (a JWT's exp, nbf).
const nowS = () => Math.floor(Date.now() / 1000);
const b64url = (data) => Buffer.from(data).toString('base64url');

// A signed JWT with `claims`: HS256 with `secret`, RS256 or ES256 (`alg`) with `privateKey`;
// `alg: 'none'` leaves the signature empty. `header` adds fields to the JOSE header.
function jwt(claims, { secret, privateKey, alg = secret ? 'HS256' : 'RS256', header = {} } = {}) {
  const head = b64url(JSON.stringify({ alg, typ: 'JWT', ...header }));
  const body = b64url(JSON.stringify(claims));
  const input = `${head}.${body}`;
  let signature = '';
  if (alg === 'HS256') signature = crypto.createHmac('sha256', secret).update(input).digest('base64url');
  else if (alg === 'RS256') signature = crypto.sign('sha256', Buffer.from(input), privateKey).toString('base64url');
  else if (alg === 'ES256') {
    // JWS wants r||s (RFC 7518 section 3.4), not DER.
    signature = crypto.sign('sha256', Buffer.from(input), { key: privateKey, dsaEncoding: 'ieee-p1363' })
      .toString('base64url');
  }
  return `${input}.${signature}`;
}

module.exports = { jwt, nowS, b64url };
