'use strict';
// PROTOCOL.md section 7, the edges: the SSRF guard, bad requests, admin credentials, and
// targets that misbehave (a huge answer, a redirect, a certificate that does not verify).

const { test, describe, before, after } = require('node:test');
const assert = require('node:assert/strict');
const https = require('node:https');
const fs = require('node:fs');
const { startServer, publishOk, request, recordEvent, collectionChannel, delay } = require('./support/server');
const { startReceiver } = require('./support/webhook_receiver');
const { jwt, nowS } = require('./support/jwt');
const { makeCertificate } = require('./support/tls');

async function api(server, method, path, body, headers = {}) {
  return request(server.url, path, {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : (typeof body === 'string' ? body : JSON.stringify(body)),
  });
}
const channel = collectionChannel('in', 'c');

function assertKintoError(res, status, errno, pattern) {
  assert.equal(res.status, status, res.text);
  assert.equal(res.body.code, status);
  assert.equal(res.body.errno, errno);
  assert.equal(typeof res.body.error, 'string');
  if (pattern) assert.match(res.body.message, pattern);
}

describe('the SSRF guard (no --webhook-allow-private)', () => {
  let server;
  before(async () => { server = await startServer([]); });
  after(async () => { await server?.stop(); });

  const refused = [
    ['http://127.0.0.1:9/x', /loopback/],
    ['http://127.1.2.3/x', /loopback/],
    ['http://10.1.2.3/x', /private/],
    ['http://172.16.0.1/x', /private/],
    ['http://192.168.1.1/x', /private/],
    ['http://169.254.169.254/latest/meta-data', /link-local/],
    ['http://0.0.0.0/x', /unspecified/],
    ['http://[::1]/x', /loopback/],
    ['http://[::]/x', /unspecified/],
    ['http://[fe80::1]/x', /link-local/],
    ['http://[fd00::1]/x', /private/],
    ['http://[::ffff:127.0.0.1]/x', /loopback/],
    ['http://[::ffff:10.0.0.1]/x', /private/],
    ['http://localhost:8080/x', /loopback/],   // a name that resolves to 127.0.0.1
  ];
  for (const [url, why] of refused) {
    test(`refuses ${url}`, async () => {
      const res = await api(server, 'POST', '/v1/webhooks', { url, channels: [channel] });
      assertKintoError(res, 400, 107, why);
      assert.match(res.body.message, /^url: /);
    });
  }
  test('nothing was created', async () => {
    const list = await api(server, 'GET', '/v1/webhooks');
    assert.deepEqual(list.body.webhooks, []);
  });
});

describe('bad requests change nothing', () => {
  let server;
  let receiver;
  before(async () => {
    server = await startServer(['--webhook-allow-private']);
    receiver = await startReceiver();
  });
  after(async () => {
    await receiver?.close();
    await server?.stop();
  });

  const cases = () => [
    ['not JSON', '{nope', 400, 106, /JSON/],
    ['an array', [], 400, 107, /object/],
    ['no url', { channels: [channel] }, 400, 107, /^url: /],
    ['ftp', { url: 'ftp://127.0.0.1/x', channels: [channel] }, 400, 107, /^url: /],
    ['no host', { url: 'http:///x', channels: [channel] }, 400, 107, /^url: /],
    ['credentials in the URL', { url: 'http://a:b@127.0.0.1/x', channels: [channel] }, 400, 107, /^url: /],
    ['a URL too long', { url: `${receiver.url}?${'a'.repeat(3000)}`, channels: [channel] }, 400, 107, /^url: /],
    ['no channels', { url: receiver.url, channels: [] }, 400, 107, /^channels: /],
    ['a bad channel', { url: receiver.url, channels: ['/nope'] }, 400, 107, /^channels: /],
    ['a pattern', { url: receiver.url, channels: ['/buckets/*'] }, 400, 107, /patterns/],
    ['a duplicate channel', { url: receiver.url, channels: [channel, channel] }, 400, 107, /^channels: /],
    ['max_batch 0', { url: receiver.url, channels: [channel], max_batch: 0 }, 400, 107, /^max_batch: /],
    ['max_batch 101', { url: receiver.url, channels: [channel], max_batch: 101 }, 400, 107, /^max_batch: /],
    ['a bad secret', { url: receiver.url, channels: [channel], secret: 'hunter2' }, 400, 107, /^secret: /],
    ['an unknown field', { url: receiver.url, channels: [channel], colour: 'red' }, 400, 107, /colour/],
    ['since of another epoch', { url: receiver.url, channels: [channel], since: { [channel]: { epoch: 'other', offset: 1 } } },
      400, 107, /^since: .*epoch/],
    ['since beyond the last offset', { url: receiver.url, channels: [channel], since: { [channel]: { epoch: 'EPOCH', offset: 99 } } },
      400, 107, /^since: .*beyond/],
  ];
  test('each refused in Kinto\'s error shape, naming its field', async () => {
    const epoch = (await request(server.url, '/v1/')).body.epoch;
    for (const [what, body, status, errno, pattern] of cases()) {
      const text = typeof body === 'string' ? body : JSON.stringify(body).replace('EPOCH', epoch);
      const res = await api(server, 'POST', '/v1/webhooks', text);
      assert.equal(res.status, status, `${what}: ${res.text}`);
      assertKintoError(res, status, errno, pattern);
    }
    assert.deepEqual((await api(server, 'GET', '/v1/webhooks')).body.webhooks, []);
  });

  test('PATCH of unknown fields, or nothing, is refused; an unknown id is 404', async () => {
    const created = await api(server, 'POST', '/v1/webhooks', { url: receiver.url, channels: [channel] });
    assert.equal(created.status, 201);
    const id = created.body.id;
    assertKintoError(await api(server, 'PATCH', `/v1/webhooks/${id}`, { secret: 'whsec_x' }), 400, 107, /secret/);
    assertKintoError(await api(server, 'PATCH', `/v1/webhooks/${id}`, {}), 400, 107);
    assertKintoError(await api(server, 'PATCH', `/v1/webhooks/${id}`, { enabled: 'yes' }), 400, 107, /^enabled: /);
    assertKintoError(await api(server, 'PATCH', '/v1/webhooks/wh_nope', { enabled: false }), 404, 111);
    assertKintoError(await api(server, 'POST', `/v1/webhooks/${id}/replay`, { channel: '/buckets/other', since: { timestamp: 0 } }), 400, 107);
    assertKintoError(await api(server, 'PUT', `/v1/webhooks/${id}`, {}), 405, 115);
    assertKintoError(await api(server, 'GET', `/v1/webhooks/${id}/nope`), 404, 111);
    const still = (await api(server, 'GET', `/v1/webhooks/${id}`)).body;
    assert.equal(still.url, receiver.url);
    assert.equal(still.enabled, true);
  });

  test('a body over 64 KiB is refused with 413', async () => {
    const res = await api(server, 'POST', '/v1/webhooks', { url: receiver.url, channels: [channel], description: 'x'.repeat(70_000) });
    assertKintoError(res, 413, 113);
  });
});

describe('admin credentials', () => {
  let server;
  let receiver;
  const secret = 'jwt-secret-for-admin-tests';
  before(async () => {
    server = await startServer(['--webhook-allow-private', '--admin-secret', 'admin-s3cret', '--jwt-secret', secret]);
    receiver = await startReceiver();
  });
  after(async () => {
    await receiver?.close();
    await server?.stop();
  });

  test('401 without or with wrong credentials, even from loopback; 201 with the admin secret', async () => {
    const body = { url: receiver.url, channels: [channel] };
    const none = await api(server, 'POST', '/v1/webhooks', body);
    assertKintoError(none, 401, 104);
    assert.equal(none.headers.get('www-authenticate'), 'Bearer');
    assertKintoError(await api(server, 'POST', '/v1/webhooks', body, { authorization: 'Bearer wrong' }), 401, 104);
    const ok = await api(server, 'POST', '/v1/webhooks', body, { authorization: 'Bearer admin-s3cret' });
    assert.equal(ok.status, 201);
  });

  test('a JWT with webhooks: true whose channels cover the webhook; 403 otherwise', async () => {
    const body = { url: receiver.url, channels: [channel] };
    const token = (claims) => ({ authorization: `Bearer ${jwt({ exp: nowS() + 60, ...claims }, { secret })}` });
    const allowed = await api(server, 'POST', '/v1/webhooks', body, token({ webhooks: true, channels: ['/buckets/in/collections/*'] }));
    assert.equal(allowed.status, 201, allowed.text);
    assertKintoError(await api(server, 'POST', '/v1/webhooks', body, token({ channels: ['/buckets/in/collections/*'] })), 403, 121);
    assertKintoError(await api(server, 'POST', '/v1/webhooks', body, token({ webhooks: true, channels: ['/buckets/other'] })), 403, 121);
    // The JWT's list shows only what it covers.
    const other = await api(server, 'POST', '/v1/webhooks', { url: receiver.url, channels: ['/buckets/other'] },
      { authorization: 'Bearer admin-s3cret' });
    assert.equal(other.status, 201);
    const seen = await api(server, 'GET', '/v1/webhooks', undefined, token({ webhooks: true, channels: ['/buckets/in/collections/*'] }));
    assert.ok(seen.body.webhooks.every((w) => w.channels.every((c) => c.startsWith('/buckets/in/'))));
    assertKintoError(await api(server, 'GET', `/v1/webhooks/${other.body.id}`, undefined,
      token({ webhooks: true, channels: ['/buckets/in/collections/*'] })), 403, 121);
  });
});

describe('targets that misbehave: bounded, logged failures', () => {
  let server;
  let tls;
  before(async () => {
    server = await startServer(['--webhook-allow-private', '--webhook-backoff-initial-ms', '100', '--webhook-backoff-max', '1']);
  });
  after(async () => {
    tls?.close();
    await server?.stop();
  });

  const lastDeliveries = async (id, n = 1) => {
    for (let i = 0; i < 100; i++) {
      const d = (await api(server, 'GET', `/v1/webhooks/${id}/deliveries`)).body.deliveries;
      if (d.length >= n) return d;
      await delay(100);
    }
    throw new Error('no delivery attempt recorded');
  };

  test('a huge answer is cut and counted a failure; a redirect is a failure, not followed', async () => {
    const huge = await startReceiver(() => ({ status: 200, body: 'x'.repeat(1024 * 1024) }));
    const redirect = await startReceiver(() => ({ status: 302, headers: { location: huge.url } }));
    try {
      const c1 = collectionChannel('mis', 'huge');
      const c2 = collectionChannel('mis', 'redirect');
      const a = (await api(server, 'POST', '/v1/webhooks', { url: huge.url, channels: [c1] })).body;
      const b = (await api(server, 'POST', '/v1/webhooks', { url: redirect.url, channels: [c2] })).body;
      await publishOk(server.url, { events: [recordEvent({ bucket: 'mis', collection: 'huge' })] });
      await publishOk(server.url, { events: [recordEvent({ bucket: 'mis', collection: 'redirect' })] });
      const da = await lastDeliveries(a.id);
      assert.equal(da[0].status, null);
      assert.match(da[0].error, /larger than/);
      const db = await lastDeliveries(b.id);
      assert.equal(db[0].status, 302);
      await delay(300);
      assert.ok(redirect.requests.length >= 1);
      assert.equal(huge.requests.length >= 1, true);
      const state = (await api(server, 'GET', `/v1/webhooks/${b.id}`)).body;
      assert.equal(state.status, 'retrying');
      assert.equal(state.positions[c2].delivered, 0);
    } finally {
      await huge.close();
      await redirect.close();
    }
  });

  test('a TLS certificate that does not verify fails the delivery', async () => {
    const { cert, key } = makeCertificate();
    tls = https.createServer({ cert: fs.readFileSync(cert), key: fs.readFileSync(key) }, (req, res) => res.end('ok'));
    await new Promise((resolve) => tls.listen(0, '127.0.0.1', resolve));
    const url = `https://127.0.0.1:${tls.address().port}/hook`;
    const c = collectionChannel('mis', 'tls');
    const created = (await api(server, 'POST', '/v1/webhooks', { url, channels: [c] })).body;
    await publishOk(server.url, { events: [recordEvent({ bucket: 'mis', collection: 'tls' })] });
    const d = await lastDeliveries(created.id);
    assert.equal(d[0].status, null);
    assert.match(d[0].error, /certificate|verify/i);

    // The same target with its certificate among the trusted ones (OpenSSL's SSL_CERT_FILE
    // stands for the system store): delivered.
    const trusting = await startServer(['--webhook-allow-private'], { env: { SSL_CERT_FILE: cert } });
    try {
      const ok = (await api(trusting, 'POST', '/v1/webhooks', { url, channels: [c] })).body;
      await publishOk(trusting.url, { events: [recordEvent({ bucket: 'mis', collection: 'tls' })] });
      for (let i = 0; i < 50; i++) {
        const list = (await api(trusting, 'GET', `/v1/webhooks/${ok.id}/deliveries`)).body.deliveries;
        if (list.length) {
          assert.equal(list[0].status, 200, JSON.stringify(list[0]));
          break;
        }
        await delay(100);
        if (i === 49) assert.fail('no delivery to the trusted target');
      }
    } finally {
      await trusting.stop();
    }
  });
});
