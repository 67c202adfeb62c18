'use strict';
// A real Firefox (Debian's firefox-esr, headless) as a kinto-push client: its push service
// connects to /v1/push, and a Kinto event posted to kinto-push makes its Remote Settings
// client poll the (stand-in) Kinto's monitor/changes with `_expected=<the event's
// timestamp>`, within milliseconds (docs/firefox.md). Loopback only; bounded in time.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const { startServer, publishOk, recordEvent, delay } = require('../integration/support/server');
const { startKintoStandin } = require('./support/kinto_standin');
const { createProfile, launchFirefox, FIREFOX } = require('./support/firefox');

const BROADCAST_ID = 'remote-settings/monitor_changes';
const HELLO_TIMEOUT_MS = 60_000;     // Firefox says hello 3-15 s after start here
const POLL_TIMEOUT_MS = 20_000;      // it polls within milliseconds of the broadcast
const MONITOR_CHANGES = '/v1/buckets/monitor/collections/changes/changeset';

// Remote Settings' broadcast listener, as Firefox itself records it in the profile once it has
// run ~20 s: seeded so that the first hello already carries it.
const LISTENERS = {
  version: 1,
  listeners: {
    [BROADCAST_ID]: {
      version: '"0"',
      sourceInfo: {
        moduleURI: 'resource://services-settings/remote-settings.sys.mjs',
        symbolName: 'remoteSettingsBroadcastHandler',
      },
    },
  },
};

async function waitForLog(server, pattern, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const m = pattern.exec(server.log());
    if (m) return m;
    await delay(100);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; kinto-push log:\n${server.log().slice(-2000)}`);
}

test('Firefox polls Remote Settings with _expected=<timestamp> when kinto-push broadcasts a Kinto change',
  { timeout: 90_000 }, async (t) => {
    assert.ok(fs.existsSync(FIREFOX), `${FIREFOX} is missing: scripts/install-deps test installs firefox-esr`);
    const standin = await startKintoStandin();
    const server = await startServer(['--broadcast', `${BROADCAST_ID}=/buckets/main`, '--log-level', 'debug']);
    const profile = createProfile({
      'dom.push.enabled': true,
      'dom.push.connection.enabled': true,
      'dom.push.serverURL': `ws://127.0.0.1:${server.port}/v1/push`,
      'dom.push.testing.allowInsecureServerURL': true,   // ws://, loopback
      'services.settings.server': standin.url,             // read on ESR only with MOZ_REMOTE_SETTINGS_DEVTOOLS=1
      'app.update.lastUpdateTime.services-settings-poll-changes': Math.floor(Date.now() / 1000),
    }, { 'broadcast-listeners.json': JSON.stringify(LISTENERS) });
    const firefox = launchFirefox(profile, { MOZ_REMOTE_SETTINGS_DEVTOOLS: '1' });
    try {
      // Firefox connects and says hello with Remote Settings' listener.
      const started = Date.now();
      await waitForLog(server, /push session \w+: hello with 1 broadcasts/, HELLO_TIMEOUT_MS, "Firefox's hello");
      const helloMs = Date.now() - started;

      // A change in Kinto's main bucket, posted to kinto-push as Kinto's plugin would.
      const event = recordEvent({ bucket: 'main', collection: 'search-config', timestamp: Date.now() });
      const timestamp = event.payload.timestamp;
      const posted = Date.now();
      await publishOk(server.url, event);

      const poll = await standin.waitFor(
        (r) => r.path === MONITOR_CHANGES && r.query.get('_expected') === String(timestamp),
        POLL_TIMEOUT_MS, `GET ${MONITOR_CHANGES}?_expected=${timestamp}`);
      assert.ok(poll.at >= posted, 'the poll follows the broadcast');
      // Start-up polls carry _expected=0 (or another value); none expected this timestamp before.
      const earlier = standin.requests.filter((r) => r.at < posted && r.query.get('_expected') === String(timestamp));
      assert.deepEqual(earlier, []);
      t.diagnostic(`Firefox: hello ${helloMs} ms after start; poll ${poll.at - posted} ms after the POST; ` +
        `${standin.requests.length} requests to the stand-in`);
    } catch (e) {
      e.message += `\n--- Firefox output (tail):\n${firefox.output().slice(-3000)}`;
      throw e;
    } finally {
      await firefox.stop();
      await server.stop();
      await standin.close();
      fs.rmSync(profile, { recursive: true, force: true });
    }
  });
