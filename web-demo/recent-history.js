// On open, the recent past of each channel: on a channel's first `subscribed`, the events up to
// its `subscribed.offset` (at most RECENT_EVENTS) are read from /v1/history and shown below the
// feed's "live from here" separator, with the class `history`; live events go above it.

import { readBefore } from '/history-api.js';
import { addEventRow } from '/event-feed.js';

export const RECENT_EVENTS = 25;

// `card` gets `history`: {state: 'loading' | 'done' | 'error', shown, note}.
export async function loadRecentHistory({ serverUrl, token, card, frame, rows, onChange }) {
  card.history = { state: 'loading', shown: 0, note: `loading the history of ${frame.channel}…` };
  onChange();
  try {
    const result = await readBefore(serverUrl, token, {
      channel: frame.channel, epoch: frame.epoch, before: frame.offset + 1, count: RECENT_EVENTS,
    });
    for (const event of result.events) addEventRow(rows, event, { history: true });
    card.history = { state: 'done', shown: result.events.length, note: '' };
    if (!result.events.length && frame.offset > 0) {
      card.history.note = `${frame.channel} is at offset ${frame.offset}, but the server's history no longer holds its events`;
    }
  } catch (error) {
    card.history = { state: 'error', shown: 0, note: `${frame.channel}: ${error.message}` };
  }
  onChange();
}

// What the empty feed says: null for the default text (no channel has had an event).
export function emptyFeedNote(cards) {
  const notes = [];
  for (const card of cards) {
    if (!(card.offset > 0)) continue;
    notes.push(card.history?.note || `${card.channel} is at offset ${card.offset}`);
  }
  return notes.length ? notes.join('. ') : null;
}
