// kinto-push client: the text/event-stream parser of its SSE transport (kinto-push-sse.js, which
// re-exports it), fed the decoded chunks of a `fetch` body.

/**
 * An incremental text/event-stream parser (the WHATWG rules: lines end with CRLF, LF or CR;
 * `data` lines join with LF; a blank line dispatches; `:` starts a comment).
 */
export class EventStreamParser {
  /** @param {(message: {event: string, data: string, id: string}) => void} onMessage */
  constructor(onMessage) {
    this.onMessage = onMessage;
    this.buffer = '';
    this.event = '';
    this.data = [];
    this.lastId = '';
  }

  /** @param {string} text the next decoded chunk */
  push(text) {
    this.buffer += text;
    let start = 0;
    for (;;) {
      let end = start;
      while (end < this.buffer.length && this.buffer[end] !== '\n' && this.buffer[end] !== '\r') end++;
      if (end === this.buffer.length) break;
      // A CR last in the buffer may be half of a CRLF: wait for the next chunk.
      if (this.buffer[end] === '\r' && end + 1 === this.buffer.length) break;
      const line = this.buffer.slice(start, end);
      start = end + (this.buffer[end] === '\r' && this.buffer[end + 1] === '\n' ? 2 : 1);
      this._line(line);
    }
    this.buffer = this.buffer.slice(start);
  }

  _line(line) {
    if (line === '') {
      const message = { event: this.event || 'message', data: this.data.join('\n'), id: this.lastId };
      const any = this.data.length > 0;
      this.event = '';
      this.data = [];
      if (any) this.onMessage(message);
      return;
    }
    if (line[0] === ':') return;   // a comment: `: ping`
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value[0] === ' ') value = value.slice(1);
    if (field === 'event') this.event = value;
    else if (field === 'data') this.data.push(value);
    else if (field === 'id' && !value.includes('\0')) this.lastId = value;
    // `retry` is for EventSource: the client has its own backoff.
  }
}
