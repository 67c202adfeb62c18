'use strict';
// Debian's Firefox ESR, headless, on a fresh temporary profile: prefs in user.js, optional
// files seeded into the profile. Firefox runs in its own process group, and only that group
// is ever signalled.

const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const FIREFOX = process.env.KINTO_PUSH_FIREFOX || '/usr/bin/firefox-esr';

// Firefox's background network features, switched off: the test talks to loopback only.
const QUIET_PREFS = {
  'app.update.auto': false,
  'app.update.disabledForTesting': true,
  'app.normandy.enabled': false,
  'app.normandy.api_url': '',
  'app.shield.optoutstudies.enabled': false,
  'browser.aboutwelcome.enabled': false,
  'browser.discovery.enabled': false,
  'browser.newtabpage.enabled': false,
  'browser.newtabpage.activity-stream.feeds.section.topstories': false,
  'browser.newtabpage.activity-stream.feeds.topsites': false,
  'browser.newtabpage.activity-stream.telemetry': false,
  'browser.ping-centre.telemetry': false,
  'browser.region.network.url': '',
  'browser.region.update.enabled': false,
  'browser.safebrowsing.blockedURIs.enabled': false,
  'browser.safebrowsing.downloads.enabled': false,
  'browser.safebrowsing.downloads.remote.enabled': false,
  'browser.safebrowsing.malware.enabled': false,
  'browser.safebrowsing.phishing.enabled': false,
  'browser.safebrowsing.provider.google.updateURL': '',
  'browser.safebrowsing.provider.google4.updateURL': '',
  'browser.safebrowsing.provider.mozilla.updateURL': '',
  'browser.search.geoip.url': '',
  'browser.search.update': false,
  'browser.shell.checkDefaultBrowser': false,
  'browser.startup.homepage_override.mstone': 'ignore',
  'browser.startup.page': 0,
  'browser.topsites.contile.enabled': false,
  'datareporting.healthreport.uploadEnabled': false,
  'datareporting.policy.dataSubmissionEnabled': false,
  'extensions.getAddons.cache.enabled': false,
  'extensions.systemAddon.update.enabled': false,
  'extensions.update.enabled': false,
  'geo.provider.network.url': '',
  'media.gmp-manager.url': '',
  'network.captive-portal-service.enabled': false,
  'network.connectivity-service.enabled': false,
  'network.dns.disablePrefetch': true,
  'network.http.speculative-parallel-limit': 0,
  'network.prefetch-next': false,
  'network.trr.mode': 5,
  'startup.homepage_welcome_url': '',
  'toolkit.telemetry.enabled': false,
  'toolkit.telemetry.server': '',
  'toolkit.telemetry.unified': false,
};

function userJs(prefs) {
  return Object.entries({ ...QUIET_PREFS, ...prefs })
    .map(([name, value]) => `user_pref(${JSON.stringify(name)}, ${JSON.stringify(value)});`)
    .join('\n') + '\n';
}

// A fresh profile directory with `prefs` in user.js and `files` (name -> text) in it.
function createProfile(prefs, files = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kinto-push-firefox-'));
  fs.writeFileSync(path.join(dir, 'user.js'), userJs(prefs));
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
  return dir;
}

const running = new Set();
process.on('exit', () => {
  for (const pid of running) {
    try { process.kill(-pid, 'SIGKILL'); } catch { /* gone */ }
  }
});

// Starts Firefox headless on `profile`; resolves with {pid, output(), stop()}.
function launchFirefox(profile, env = {}) {
  const proc = spawn(FIREFOX, ['--headless', '--no-remote', '--profile', profile, 'about:blank'], {
    detached: true,   // its own process group: stop() signals exactly Firefox and its children
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      MOZ_CRASHREPORTER_DISABLE: '1',
      MOZ_DISABLE_AUTO_SAFE_MODE: '1',
      ...env,
    },
  });
  running.add(proc.pid);
  let output = '';
  const keep = (chunk) => {
    output += chunk;
    if (output.length > 128 * 1024) output = output.slice(-64 * 1024);
  };
  proc.stdout.setEncoding('utf8').on('data', keep);
  proc.stderr.setEncoding('utf8').on('data', keep);
  const exited = new Promise((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
  proc.on('error', (e) => { output += `spawn error: ${e.message}\n`; });
  let done = false;
  exited.then(() => { done = true; });

  function signalGroup(signal) {
    try { process.kill(-proc.pid, signal); } catch { /* gone */ }
  }

  return {
    pid: proc.pid,
    exited,
    output: () => output,
    // SIGTERM to the group, SIGKILL after 5 s; then the group is gone.
    async stop() {
      if (!done) {
        signalGroup('SIGTERM');
        const timer = setTimeout(() => signalGroup('SIGKILL'), 5_000);
        await exited;
        clearTimeout(timer);
      }
      signalGroup('SIGKILL');   // content processes that outlived the parent
      running.delete(proc.pid);
    },
  };
}

module.exports = { createProfile, launchFirefox, FIREFOX };
