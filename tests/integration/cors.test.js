'use strict';
// PROTOCOL.md section 4, browsers on other origins: --cors-origins (CORS fields on /v1/,
// /v1/history, /v1/sse, /kinto-push.js and its modules, the webhook and channel endpoints, OPTIONS
// preflights) and --allowed-origins (the Origin of WebSocket upgrades and SSE requests), against
// the real binary over real sockets. The browser's side of it: tests/browser/cross_origin.test.js.

const { test, describe, before, after } = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const { spawnSync } = require('node:child_process');
const { startServer, connect, publishOk, recordEvent, collectionChannel, rawHttp } = require('./support/server');
const { rawUpgrade } = require('./support/raw_websocket');
const { parse, sample } = require('./support/prometheus');
const { clientModules } = require('./support/client_modules');

const PAGE = 'http://127.0.0.1:9000';
const APP = 'https://app.example.com';
const EVIL = 'https://evil.example';
const CHANNEL = collectionChannel('cors', 'articles');
const HISTORY = `/v1/history?channel=${encodeURIComponent(CHANNEL)}`;
const CORS_FIELDS = ['access-control-allow-origin', 'access-control-allow-methods', 'access-control-allow-headers',
  'access-control-max-age', 'access-control-allow-credentials', 'access-control-expose-headers'];

// One HTTP request over its own connection, any method and header (Origin included).
function send(port, method, path, headers = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, headers, agent: false, timeout: 5_000 }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => { text += c; });
      res.on('end', () => {
        let body;
        try { body = JSON.parse(text); } catch { body = undefined; }
        resolve({ status: res.statusCode, headers: res.headers, text, body });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: timed out`)));
    req.on('error', reject);
    req.end();
  });
}

function preflight(port, path, origin, method, requestHeaders) {
  const headers = { origin, 'access-control-request-method': method };
  if (requestHeaders) headers['access-control-request-headers'] = requestHeaders;
  return send(port, 'OPTIONS', path, headers);
}

function assertNoCors(res, what) {
  for (const name of CORS_FIELDS) assert.equal(res.headers[name], undefined, `${what}: ${name}`);
}

function assertKinto403(res, messagePattern) {
  assert.equal(res.status, 403, res.text);
  assert.deepEqual(Object.keys(res.body).sort(), ['code', 'errno', 'error', 'message']);
  assert.equal(res.body.code, 403);
  assert.equal(res.body.errno, 121);
  assert.match(res.body.message, messagePattern);
}

function upgradeHeaders(origin) {
  return 'Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n' +
    `Sec-WebSocket-Version: 13\r\n${origin ? `Origin: ${origin}\r\n` : ''}`;
}

async function connectionsAccepted(port) {
  const res = await send(port, 'GET', '/metrics');
  return sample(parse(res.text), 'kinto_push_connections_total');
}

describe('without --cors-origins: no CORS field, OPTIONS answers 405 as before', () => {
  let server;
  before(async () => { server = await startServer(['--shards', '1']); });
  after(() => server?.stop());

  test('no CORS field on any path, from any origin', async () => {
    for (const path of ['/v1/', '/v1', HISTORY, '/kinto-push.js', '/v1/history', '/v1/sse', '/v1/webhooks']) {
      const res = await send(server.port, 'GET', path, { origin: APP });
      assertNoCors(res, path);
      assert.equal(res.headers.vary, undefined, path);
    }
  });

  test('a preflight gets the 405 it always got', async () => {
    const res = await preflight(server.port, '/v1/history', APP, 'GET', 'authorization');
    assert.equal(res.status, 405, res.text);
    assert.equal(res.body.errno, 115);
    assertNoCors(res, 'OPTIONS /v1/history');
  });
});

describe('--cors-origins with listed origins', () => {
  let server;
  before(async () => {
    server = await startServer(['--shards', '1', '--cors-origins', `${PAGE}, ${APP.toUpperCase()}:443`]);
    await publishOk(server.url, { events: [recordEvent({ bucket: 'cors', collection: 'articles' })] });
  });
  after(() => server?.stop());

  test('the listed origin is echoed on every CORS path, with Vary: Origin', async () => {
    for (const origin of [PAGE, APP]) {
      for (const path of ['/v1/', '/v1', HISTORY, ...clientModules().map((file) => `/${file}`)]) {
        for (const method of ['GET', 'HEAD']) {
          const res = await send(server.port, method, path, { origin });
          assert.equal(res.status, 200, `${method} ${path}: ${res.text}`);
          assert.equal(res.headers['access-control-allow-origin'], origin, `${method} ${path} from ${origin}`);
          assert.equal(res.headers.vary, 'Origin', `${method} ${path}`);
          assert.equal(res.headers['access-control-allow-credentials'], undefined);
        }
      }
    }
    const history = await send(server.port, 'GET', HISTORY, { origin: PAGE });
    assert.equal(history.body.events.length, 1, 'the answer itself is unchanged');
  });

  test('errors on a CORS path carry the grant too, so that the page can read them', async () => {
    const missing = await send(server.port, 'GET', '/v1/history', { origin: PAGE });
    assert.equal(missing.status, 400, missing.text);
    assert.equal(missing.headers['access-control-allow-origin'], PAGE);
    const wrongMethod = await send(server.port, 'POST', HISTORY, { origin: PAGE });
    assert.equal(wrongMethod.status, 405);
    assert.equal(wrongMethod.headers['access-control-allow-origin'], PAGE);
    // Endpoints still to come (webhooks, channels) are CORS paths already.
    const later = await send(server.port, 'GET', '/v1/webhooks', { origin: PAGE });
    assert.equal(later.headers['access-control-allow-origin'], PAGE);
  });

  test('an unlisted origin is answered without a grant (the browser keeps the answer from the page)', async () => {
    for (const origin of [EVIL, 'http://127.0.0.1:9001', 'https://app.example.com.evil.example', 'null',
      `${PAGE}/`]) {
      const res = await send(server.port, 'GET', HISTORY, { origin });
      assert.equal(res.status, 200);
      assertNoCors(res, origin);
      assert.equal(res.headers.vary, 'Origin');
    }
    const none = await send(server.port, 'GET', HISTORY);
    assertNoCors(none, 'no Origin');
    assert.equal(none.headers.vary, 'Origin');
  });

  test('no CORS field off the CORS paths', async () => {
    for (const [method, path] of [['GET', '/'], ['GET', '/metrics'], ['GET', '/__heartbeat__'],
      ['GET', '/__version__'], ['GET', '/v1/ws'], ['GET', '/nowhere']]) {
      const res = await send(server.port, method, path, { origin: PAGE });
      assertNoCors(res, `${method} ${path}`);
      assert.equal(res.headers.vary, undefined, path);
    }
    const published = await send(server.port, 'POST', '/v1/events', { origin: PAGE, 'content-type': 'application/json' });
    assertNoCors(published, 'POST /v1/events');
  });

  test('a preflight from a listed origin is granted with 204, Authorization allowed', async () => {
    for (const [path, method, methods] of [
      [HISTORY, 'GET', 'GET, HEAD'], ['/kinto-push.js', 'GET', 'GET, HEAD'], ['/v1/', 'GET', 'GET, HEAD'],
      ['/v1/sse?channel=x', 'GET', 'GET, HEAD'], ['/v1/channels', 'GET', 'GET, HEAD'],
      ['/v1/webhooks', 'POST', 'GET, HEAD, POST'], ['/v1/webhooks/w1', 'DELETE', 'GET, HEAD, PATCH, DELETE'],
    ]) {
      const res = await preflight(server.port, path, PAGE, method, 'authorization,content-type,last-event-id');
      assert.equal(res.status, 204, `${method} ${path}: ${res.text}`);
      assert.equal(res.text, '');
      assert.equal(res.headers['content-length'], undefined);
      assert.equal(res.headers['access-control-allow-origin'], PAGE);
      assert.equal(res.headers.vary, 'Origin');
      assert.equal(res.headers['access-control-allow-methods'], methods);
      assert.match(res.headers['access-control-allow-headers'], /(^|, )Authorization(,|$)/);
      assert.equal(res.headers['access-control-allow-headers'], 'Authorization, Content-Type, Last-Event-ID');
      assert.equal(res.headers['access-control-max-age'], '600');
    }
  });

  test('a 204 preflight keeps the connection usable (no body, no length to misread)', async () => {
    const answer = await rawHttp(server.port,
      `OPTIONS /v1/history HTTP/1.1\r\nHost: x\r\nOrigin: ${PAGE}\r\nAccess-Control-Request-Method: GET\r\n\r\n` +
      `GET /v1/ HTTP/1.1\r\nHost: x\r\nOrigin: ${PAGE}\r\nConnection: close\r\n\r\n`);
    const heads = answer.match(/^HTTP\/1\.1 \d+/gm);
    assert.deepEqual(heads, ['HTTP/1.1 204', 'HTTP/1.1 200'], answer);
    assert.match(answer, /"server":"kinto-push"/);
  });

  test('a preflight for a method the path does not serve is refused: 403, no CORS field', async () => {
    for (const [path, method] of [['/v1/history', 'POST'], ['/v1/history', 'DELETE'], ['/kinto-push.js', 'PUT'],
      ['/v1/webhooks', 'DELETE'], ['/v1/history', 'get']]) {
      const res = await preflight(server.port, path, PAGE, method, 'authorization');
      assertKinto403(res, new RegExp(`${path.replace('.', '\\.')} does not serve ${method}`));
      assertNoCors(res, `${method} ${path}`);
    }
  });

  test('a preflight from an unlisted origin, or asking for another header, is refused: 403', async () => {
    const evil = await preflight(server.port, '/v1/history', EVIL, 'GET', 'authorization');
    assertKinto403(evil, /origin https:\/\/evil\.example is not in --cors-origins/);
    assertNoCors(evil, 'unlisted origin');
    const header = await preflight(server.port, '/v1/history', PAGE, 'GET', 'authorization, x-requested-with');
    assertKinto403(header, /header x-requested-with is not allowed/);
    assertNoCors(header, 'unknown header');
  });

  test('OPTIONS that is not a preflight, or off the CORS paths, gets 405 as before', async () => {
    const noMethod = await send(server.port, 'OPTIONS', '/v1/history', { origin: PAGE });
    assert.equal(noMethod.status, 405);
    const noOrigin = await send(server.port, 'OPTIONS', '/v1/history', { 'access-control-request-method': 'GET' });
    assert.equal(noOrigin.status, 405);
    const events = await preflight(server.port, '/v1/events', PAGE, 'POST', 'content-type');
    assert.equal(events.status, 405);
    assertNoCors(events, 'OPTIONS /v1/events');
  });
});

describe('--cors-origins *', () => {
  let server;
  before(async () => { server = await startServer(['--shards', '1', '--cors-origins', '*']); });
  after(() => server?.stop());

  test('Access-Control-Allow-Origin: * on every answer of a CORS path, without Vary', async () => {
    for (const headers of [{ origin: EVIL }, { origin: 'null' }, {}]) {
      for (const path of ['/v1/', HISTORY, '/kinto-push.js']) {
        const res = await send(server.port, 'GET', path, headers);
        assert.equal(res.headers['access-control-allow-origin'], '*', `${path} ${JSON.stringify(headers)}`);
        assert.equal(res.headers.vary, undefined);
      }
    }
    assertNoCors(await send(server.port, 'GET', '/metrics', { origin: EVIL }), '/metrics');
  });

  test('preflights from any origin are granted; unserved methods are still refused', async () => {
    const res = await preflight(server.port, HISTORY, EVIL, 'GET', 'Authorization');
    assert.equal(res.status, 204);
    assert.equal(res.headers['access-control-allow-origin'], '*');
    assert.equal(res.headers['access-control-allow-headers'], 'Authorization, Content-Type, Last-Event-ID');
    assertKinto403(await preflight(server.port, HISTORY, EVIL, 'PATCH'), /does not serve PATCH/);
  });
});

describe('--allowed-origins: the Origin of WebSocket upgrades and SSE requests', () => {
  let server;
  before(async () => {
    server = await startServer(['--shards', '1', '--allowed-origins', `${PAGE},${APP}`,
      '--broadcast', 'remote-settings/monitor_changes=/buckets/main']);
  });
  after(() => server?.stop());

  for (const path of ['/v1/ws', '/v1/push']) {
    test(`${path}: another Origin gets 403 and no upgrade; a listed one or none gets 101`, async () => {
      const before = await connectionsAccepted(server.port);
      const refused = await rawUpgrade(server.port, upgradeHeaders(EVIL), { path });
      assert.match(refused.status, /^HTTP\/1\.1 403 /);
      assert.equal(refused.headers.upgrade, undefined);
      assert.equal(refused.headers['sec-websocket-accept'], undefined);
      const body = JSON.parse(refused.body);
      assert.equal(body.errno, 121);
      assert.match(body.message, new RegExp(`origin https://evil\\.example may not connect to ${path}`));
      assert.equal(await connectionsAccepted(server.port), before, 'no WebSocket connection was opened');

      for (const origin of ['http://127.0.0.1:9001', 'null', `${PAGE}/`, 'HTTP://127.0.0.1:9000']) {
        const other = await rawUpgrade(server.port, upgradeHeaders(origin), { path });
        assert.match(other.status, /^HTTP\/1\.1 403 /, origin);
      }

      const listed = await rawUpgrade(server.port, upgradeHeaders(APP), { path });
      assert.match(listed.status, /^HTTP\/1\.1 101 /);
      const none = await rawUpgrade(server.port, upgradeHeaders(null), { path });
      assert.match(none.status, /^HTTP\/1\.1 101 /);
    });
  }

  test('the ws client: a listed origin subscribes, another is refused with 403', async () => {
    const client = await connect(server.wsUrl, { wsOptions: { origin: PAGE } });
    try {
      const answer = await client.subscribe(CHANNEL);
      assert.equal(answer.type, 'subscribed');
    } finally {
      await client.close();
    }
    await assert.rejects(connect(server.wsUrl, { wsOptions: { origin: EVIL } }), /Unexpected server response: 403/);
  });

  test('/v1/sse is checked by path: another Origin gets 403', async () => {
    const refused = await send(server.port, 'GET', '/v1/sse?channel=x', { origin: EVIL, accept: 'text/event-stream' });
    assertKinto403(refused, /may not connect to \/v1\/sse/);
    const listed = await send(server.port, 'GET', '/v1/sse?channel=x', { origin: PAGE, accept: 'text/event-stream' });
    assert.notEqual(listed.status, 403, listed.text);
  });

  test('other paths are not checked; the refusal is logged with the origin', async () => {
    assert.equal((await send(server.port, 'GET', '/v1/', { origin: EVIL })).status, 200);
    assert.match(server.log(), /origin refused: https:\/\/evil\.example on \/v1\/ws from 127\.0\.0\.1/);
  });
});

describe('--allowed-origins *', () => {
  let server;
  before(async () => { server = await startServer(['--shards', '1', '--allowed-origins', '*']); });
  after(() => server?.stop());

  test('any Origin may upgrade', async () => {
    const answer = await rawUpgrade(server.port, upgradeHeaders(EVIL));
    assert.match(answer.status, /^HTTP\/1\.1 101 /);
  });
});

describe('bad origins stop start-up', () => {
  function run(args, env = {}) {
    const clean = {};
    for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('KINTO_PUSH_')) clean[k] = v;
    const res = spawnSync(process.env.KINTO_PUSH_BIN, ['--store', 'memory', '--listen', '127.0.0.1:0', ...args],
      { env: { ...clean, ...env }, encoding: 'utf8', timeout: 10_000 });
    return { code: res.status, stdout: res.stdout, stderr: res.stderr };
  }

  test('each bad value exits 2 with a message naming the option and the origin', () => {
    for (const [args, env, pattern] of [
      [['--cors-origins', 'https://app.example.com/'], {}, /--cors-origins=https:\/\/app\.example\.com\/: .*trailing slash/],
      [['--cors-origins', 'app.example.com'], {}, /'app\.example\.com': no scheme/],
      [['--allowed-origins', 'https://*.example.com'], {}, /--allowed-origins=.*no wildcards/],
      [['--allowed-origins', '*,https://a.example'], {}, /stands alone/],
      [[], { KINTO_PUSH_CORS_ORIGINS: 'https://a.example:99999' }, /KINTO_PUSH_CORS_ORIGINS=.*1 to 65535/],
      [[], { KINTO_PUSH_ALLOWED_ORIGINS: '' }, /KINTO_PUSH_ALLOWED_ORIGINS=: names no origin/],
    ]) {
      const res = run(args, env);
      assert.equal(res.code, 2, `${args} ${JSON.stringify(env)}: ${res.stderr}`);
      assert.match(res.stderr, pattern);
      assert.doesNotMatch(res.stderr, /listening on/);
    }
  });

  test('--print-config shows them normalized; --help documents them', () => {
    const res = run(['--print-config', '--cors-origins', 'HTTPS://App.Example.com:443'],
      { KINTO_PUSH_ALLOWED_ORIGINS: 'http://127.0.0.1:9000' });
    assert.equal(res.code, 0, res.stderr);
    const config = JSON.parse(res.stdout);
    assert.equal(config['cors-origins'], 'https://app.example.com');
    assert.equal(config['allowed-origins'], 'http://127.0.0.1:9000');
    const help = run(['--help']);
    assert.match(help.stdout, /--cors-origins O,\.\.\.[\s\S]*KINTO_PUSH_CORS_ORIGINS/);
    assert.match(help.stdout, /--allowed-origins O,\.\.\.[\s\S]*KINTO_PUSH_ALLOWED_ORIGINS/);
  });
});
