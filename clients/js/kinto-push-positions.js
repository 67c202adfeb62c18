// kinto-push client: what it knows of each channel it holds, over either transport: the
// position it resumes from (loaded from and saved to the client's storage), which events are
// replay, when the server could not replay and the application must resync from Kinto, and the
// delivery of each event once, in order. Used by kinto-push.js and its transports.

import { backoffDelay } from './kinto-push-backoff.js';
import { samePosition } from './kinto-push-storage.js';

/**
 * The channels of a KintoPushClient (its `_channels`, channel -> entry) and their positions.
 * Internal to kinto-push.js.
 */
export class ChannelPositions {
  constructor(client) {
    this.client = client;
  }

  /**
   * A new channel entry, in the client's channels, whose position is being loaded from storage
   * (`entry.ready` resolves once it is).
   * @param {string} channel
   * @param {object|null} since where subscribe() asked to start instead of the stored position
   */
  open(channel, since) {
    const c = this.client;
    const entry = {
      channel,
      handlers: new Set(),
      status: 'pending',     // pending | sent | subscribed
      position: undefined,   // undefined: not loaded from storage yet
      since,
      epoch: null,           // epoch of the current subscription
      replayUntil: 0,        // events with offset <= this are replay
      waiters: [],
      ready: null,
      retryTimer: null,
    };
    c._channels.set(channel, entry);
    entry.ready = Promise.resolve(c.storage.get(channel)).then(
      (position) => { if (entry.position === undefined) entry.position = position ?? null; },
      (error) => {
        entry.position = null;
        c._emit('error', { type: 'storage', channel, error, message: `storage.get failed: ${error?.message ?? error}` });
      });
    return entry;
  }

  // A subscription took effect (either transport): `since` is what was asked for.
  applySubscribed(entry, frame, since) {
    const c = this.client;
    entry.status = 'subscribed';
    entry.since = null;
    entry.retries = 0;
    entry.epoch = frame.epoch;
    entry.last = frame;
    const previous = entry.position;
    const resumed = since !== null;
    if (resumed && frame.recovered === false) {
      entry.replayUntil = 0;
      const position = { epoch: frame.epoch, offset: frame.offset, timestamp: previous?.timestamp ?? since.timestamp ?? null };
      this.setPosition(entry, position);
      c._emit('subscribed', frame, { since, resumed });
      c._emit('resync', {
        channel: entry.channel, timestamp: position.timestamp, epoch: frame.epoch, offset: frame.offset,
        previous: previous ? { ...previous } : null,
      });
    } else {
      if (resumed && since.offset !== undefined) {
        // The replay brings offsets since.offset+1 .. frame.offset.
        entry.replayUntil = frame.offset;
      } else if (resumed) {
        // A replay from a timestamp: its offsets start somewhere at or before frame.offset.
        entry.replayUntil = frame.offset;
        if (!previous || previous.epoch !== frame.epoch) {
          this.setPosition(entry, { epoch: frame.epoch, offset: 0, timestamp: since.timestamp ?? null }, true);
        }
      } else {
        // Live only: the position starts at the channel's head.
        entry.replayUntil = 0;
        this.setPosition(entry, { epoch: frame.epoch, offset: frame.offset, timestamp: previous?.timestamp ?? null });
      }
      c._emit('subscribed', frame, { since, resumed });
    }
    for (const w of entry.waiters.splice(0)) w.resolve(frame);
  }

  // An event frame (either transport): delivered once, unless already seen.
  onEvent(frame) {
    const c = this.client;
    const entry = c._channels.get(frame.channel);
    if (!entry || entry.status !== 'subscribed' || !Number.isInteger(frame.offset)) return;
    const position = entry.position;
    if (position && position.epoch === entry.epoch && frame.offset <= position.offset) return;   // duplicate
    this.setPosition(entry, {
      epoch: entry.epoch,
      offset: frame.offset,
      timestamp: Number.isInteger(frame.timestamp) ? frame.timestamp : (position?.timestamp ?? null),
    });
    const meta = { replay: frame.offset <= entry.replayUntil };
    c._emit('event', frame, meta);
    for (const handler of [...entry.handlers]) c._call(handler, 'event', [frame, meta]);
  }

  // The server refused a channel for good (forbidden, bad_request, too_many_subscriptions,
  // not_found): it is dropped and its subscribe() promises reject with the error frame.
  drop(entry, frame) {
    this.client._channels.delete(entry.channel);
    const error = Object.assign(new Error(`${entry.channel}: ${frame.code}: ${frame.message ?? ''}`),
      { code: frame.code, frame });
    for (const w of entry.waiters.splice(0)) w.reject(error);
  }

  // The delay before retrying a channel the server could not answer for.
  retryDelay(entry) {
    const delayMs = backoffDelay(entry.retries ?? 0, this.client.backoff);
    entry.retries = (entry.retries ?? 0) + 1;
    return delayMs;
  }

  // The channel's new position, saved in storage unless `quiet` (a storage failure is an
  // `error` event).
  setPosition(entry, position, quiet = false) {
    const c = this.client;
    if (samePosition(entry.position, position)) return;
    entry.position = position;
    if (quiet) return;
    try {
      const result = c.storage.set(entry.channel, { ...position });
      if (result && typeof result.then === 'function') {
        result.then(undefined, (error) =>
          c._emit('error', { type: 'storage', channel: entry.channel, error, message: `storage.set failed: ${error?.message ?? error}` }));
      }
    } catch (error) {
      c._emit('error', { type: 'storage', channel: entry.channel, error, message: `storage.set failed: ${error?.message ?? error}` });
    }
  }
}
