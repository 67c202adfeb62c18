'use strict';
// A small TCP proxy on 127.0.0.1:0 in front of a server, over real sockets: it passes every
// connection through byte for byte, except that with `stripUpgrades` a request asking for an
// `Upgrade` (a WebSocket handshake) is answered 400 and closed, as some corporate proxies do;
// dropAll() cuts every connection it carries (a network failure, without the server knowing
// first).

const net = require('node:net');

async function startProxy(targetPort, { stripUpgrades = false } = {}) {
  const pairs = new Set();
  const seen = { upgrades: 0, passed: 0, heads: [] };   // heads: the first request of each connection
  const server = net.createServer((client) => {
    let head = Buffer.alloc(0);
    let upstream = null;
    const pair = { client, upstream: null };
    pairs.add(pair);
    const forget = () => {
      pairs.delete(pair);
      client.destroy();
      pair.upstream?.destroy();
    };
    client.on('error', forget);
    client.on('close', forget);
    const onData = (chunk) => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0 && head.length < 64 * 1024) return;
      client.off('data', onData);
      const text = head.slice(0, end < 0 ? head.length : end).toString('latin1');
      seen.heads.push(text);
      if (stripUpgrades && /^upgrade:/im.test(text)) {
        seen.upgrades += 1;
        client.end('HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: 21\r\n' +
          'Connection: close\r\n\r\nupgrades not allowed\n');
        return;
      }
      seen.passed += 1;
      upstream = net.connect(targetPort, '127.0.0.1');
      pair.upstream = upstream;
      upstream.on('error', forget);
      upstream.on('close', forget);
      upstream.write(head);
      client.pipe(upstream);
      upstream.pipe(client);
    };
    client.on('data', onData);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = server.address().port;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    seen,
    connections: () => pairs.size,
    dropAll() {
      for (const pair of [...pairs]) {
        pair.client.destroy();
        pair.upstream?.destroy();
      }
    },
    close() {
      this.dropAll();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

module.exports = { startProxy };
