// The Connection panel's "Last close": the code and reason of the last close of a connection
// that was open (the server's 1001 at a restart, 1000 for Disconnect), kept while reconnection
// attempts fail (their 1006 are counted apart: "· 3 failed attempts", the last one in the title).

import { $, clock } from '/dom.js';

export class LastClose {
  #openSinceClose = false;   // a welcome since the last close: the next close is the server's
  #failedAttempts = 0;

  // A welcome: the connection is open.
  opened() { this.#openSinceClose = true; }

  closed(info) {
    const line = $('last-close');
    if (this.#openSinceClose || !line.dataset.code) {
      this.#openSinceClose = false;
      this.#failedAttempts = 0;
      line.dataset.code = String(info.code);
      line.dataset.failedAttempts = '0';
      line.textContent = `${info.code}${info.reason ? ` ${info.reason}` : ''} at ${clock()}`;
      line.title = '';
      this.#base = line.textContent;
      return;
    }
    this.#failedAttempts += 1;
    const n = this.#failedAttempts;
    line.dataset.failedAttempts = String(n);
    line.textContent = `${this.#base} · ${n} failed attempt${n === 1 ? '' : 's'}`;
    line.title = `then ${n} failed reconnection attempt${n === 1 ? '' : 's'}, the last closed with ${info.code} at ${clock()}`;
  }

  #base = '';
}
