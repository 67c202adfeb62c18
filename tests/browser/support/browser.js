'use strict';
// What the browser tests share: Debian's Chromium launched headless through playwright-core
// (never a downloaded browser), and a page served from another origin.

const http = require('node:http');
const { chromium } = require('playwright-core');

const CHROMIUM = process.env.KINTO_PUSH_CHROMIUM || '/usr/bin/chromium';

function launchChromium() {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    timeout: 30_000,
    args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

// A static server on 127.0.0.1 and a port of its own (another origin than kinto-push's): one
// empty HTML page for every path; every request is recorded. close() stops it.
function startOtherOriginPage() {
  const requests = [];
  const server = http.createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end('<!doctype html><html><head><title>another origin</title></head><body>page</body></html>');
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const port = server.address().port;
      resolve({
        server, port, requests, origin: `http://127.0.0.1:${port}`,
        close: () => new Promise((done) => server.close(done)),
      });
    });
  });
}

module.exports = { CHROMIUM, launchChromium, startOtherOriginPage };
