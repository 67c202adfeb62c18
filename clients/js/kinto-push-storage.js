// kinto-push client: positions and where they are kept (in memory, in the browser's
// localStorage, or in any object with get/set/delete). Re-exported by kinto-push.js.
// Documentation: docs/js-client.md.

/**
 * Where a client stands in one channel: the `epoch` of the server's history, the `offset` of
 * the last event seen (or the channel's offset when it subscribed), and the Kinto `timestamp`
 * of the last event seen (`null` before the first one).
 * @typedef {{epoch: string, offset: number, timestamp: (number|null)}} Position
 */

/**
 * Keeps positions per channel. `get` and `set` may return promises (for asynchronous stores);
 * `delete` is optional.
 * @typedef {object} PositionStorage
 * @property {(channel: string) => (Position|null|undefined|Promise<Position|null|undefined>)} get
 * @property {(channel: string, position: Position) => (void|Promise<void>)} set
 * @property {(channel: string) => (void|Promise<void>)} [delete]
 */

/**
 * Whether `p` is a point to resume from: a string epoch and an integer offset.
 * @param {any} p
 * @returns {boolean}
 */
export function isPosition(p) {
  return Boolean(p) && typeof p.epoch === 'string' && Number.isInteger(p.offset);
}

/** Whether two positions are the same (both present). */
export function samePosition(a, b) {
  return a && b && a.epoch === b.epoch && a.offset === b.offset && a.timestamp === b.timestamp;
}

/**
 * Positions kept in memory: lost when the page or process ends. The default storage.
 * @returns {PositionStorage & {entries(): Array<[string, Position]>}}
 */
export function memoryStorage() {
  const map = new Map();
  return {
    get: (channel) => (map.has(channel) ? { ...map.get(channel) } : null),
    set: (channel, position) => { map.set(channel, { ...position }); },
    delete: (channel) => { map.delete(channel); },
    entries: () => [...map.entries()].map(([c, p]) => [c, { ...p }]),
  };
}

/**
 * Positions kept in the browser's localStorage under `prefix + channel`, so that a reloaded
 * page resumes where it stopped.
 * @param {string} [prefix='kinto-push:']
 * @param {Storage} [store=globalThis.localStorage]
 * @returns {PositionStorage}
 */
export function localStorageStorage(prefix = 'kinto-push:', store = globalThis.localStorage) {
  if (!store) throw new Error('localStorageStorage: no localStorage here');
  return {
    get(channel) {
      try {
        const text = store.getItem(prefix + channel);
        const value = text ? JSON.parse(text) : null;
        return isPosition(value) ? value : null;
      } catch {
        return null;
      }
    },
    set(channel, position) { store.setItem(prefix + channel, JSON.stringify(position)); },
    delete(channel) { store.removeItem(prefix + channel); },
  };
}
