// The banner after a reconnection: "Reconnected at 12:34:56, replayed N missed events". N counts
// Kinto events, each once, however many subscribed channels delivered it (the per-channel
// deliveries are in the banner's tooltip); channels the server could not replay are named.

import { $, clock } from '/dom.js';
import { eventKey } from '/event-feed.js';

export class ReplayNotice {
  #replay = null;   // {keys, at, perChannel, resync} since the last reconnection

  get count() { return this.#replay?.keys.size ?? 0; }

  // A reconnection: the count starts again.
  reconnected(at = new Date()) {
    this.#replay = { keys: new Set(), at, perChannel: new Map(), resync: [] };
    this.#render();
  }

  event(frame, meta) {
    if (!meta.replay || !this.#replay) return;
    this.#replay.keys.add(eventKey(frame));
    this.#replay.perChannel.set(frame.channel, (this.#replay.perChannel.get(frame.channel) ?? 0) + 1);
    this.#render();
  }

  resync(info) {
    if (!this.#replay) this.reconnected();
    this.#replay.resync.push(info);
    this.#render();
  }

  #render() {
    const r = this.#replay;
    const count = r.keys.size;
    const notice = $('notice');
    notice.dataset.replayed = String(count);
    const perChannel = [...r.perChannel].map(([c, n]) => `${c}: ${n}`).join(', ');
    notice.title = perChannel ? `replayed per channel: ${perChannel}` : '';
    let text = `Reconnected at ${clock(r.at)}, replayed ${count} missed event${count === 1 ? '' : 's'}`;
    let kind = 'replay';
    if (r.resync.length) {
      const list = r.resync.map((s) => `${s.channel} (since ${s.timestamp ?? 'the start'})`).join(', ');
      text += `. The server's history did not cover the gap of ${list}: resync those from Kinto with _since=<timestamp>.`;
      kind = 'resync';
    }
    notice.hidden = false;
    notice.dataset.kind = kind;
    $('notice-text').textContent = text;
  }
}
