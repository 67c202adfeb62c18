// Subscriber counts on the channel cards: every few seconds, GET /v1/channels/{channel} for each
// card shown (one request at a time) and its `subscribers` ({node, cluster}) in the card's
// `.subscribers` line. Needs admin credentials, as the webhooks panel does (see admin-api.js).

import { Poller } from '/poller.js';
import { describeAdminError, isAuthError, onAdminTokenChange, stopsPolling } from '/admin-api.js';

const INTERVAL_MS = 3_000;

function plural(n, word) { return `${n} ${word}${n === 1 ? '' : 's'}`; }

function show(line, info) {
  const node = info?.subscribers?.node;
  const cluster = info?.subscribers?.cluster;
  if (!Number.isFinite(node)) {
    delete line.dataset.node;
    delete line.dataset.cluster;
    line.textContent = '— subscribers';
    return;
  }
  line.dataset.node = String(node);
  if (Number.isFinite(cluster)) line.dataset.cluster = String(cluster);
  else delete line.dataset.cluster;
  line.textContent = Number.isFinite(cluster)
    ? `${plural(node, 'subscriber')} here · ${cluster} in the cluster`
    : plural(node, 'subscriber');
  line.title = 'WebSocket and SSE connections subscribed to this channel' +
    (Number.isFinite(cluster) ? ' (on this node · on every node)' : ' (this node)');
}

function showUnavailable(line, error) {
  delete line.dataset.node;
  delete line.dataset.cluster;
  line.dataset.error = String(error.status ?? '');
  line.textContent = isAuthError(error) ? 'subscribers: admin token needed' : 'subscribers: —';
  line.title = describeAdminError(error);
}

// `cards()` gives the channel cards shown: an iterable of {channel, el}.
export function startChannelInfo({ api, cards }) {
  let refused = false;   // credentials refused: wait for another token
  const poller = new Poller(async () => {
    for (const card of [...cards()]) {
      const line = card.el.querySelector('.subscribers');
      if (!line || !card.el.isConnected) continue;
      try {
        show(line, await api.get(`/v1/channels/${encodeURIComponent(card.channel)}`));
        delete line.dataset.error;
      } catch (error) {
        // Credentials refused: the other cards would be refused too.
        for (const other of cards()) {
          const l = other.el.querySelector('.subscribers');
          if (l && (other === card || stopsPolling(error))) showUnavailable(l, error);
        }
        if (stopsPolling(error)) {
          refused = true;
          return;
        }
      }
    }
  }, { intervalMs: INTERVAL_MS, isWanted: () => !refused });
  onAdminTokenChange(() => { refused = false; poller.poke(); });
  poller.start();
  return poller;
}
