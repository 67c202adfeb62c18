// kinto-push client: the reconnection delays (exponential backoff with full jitter), used by
// kinto-push.js between connections and by its transports before retrying a channel the server
// could not answer for. Re-exported by kinto-push.js. Documentation: docs/js-client.md.

/**
 * Reconnection delays: attempt n waits a random time in [0, min(maxMs, initialMs * factor^n)]
 * ("full jitter"), or exactly that bound when `jitter` is false.
 * @typedef {object} BackoffOptions
 * @property {number} [initialMs=500] bound of the first delay
 * @property {number} [maxMs=30000] largest delay
 * @property {number} [factor=2] growth of the bound per failed attempt
 * @property {boolean} [jitter=true] full jitter (random in [0, bound])
 */

/** Backoff defaults. */
export const DEFAULT_BACKOFF = Object.freeze({ initialMs: 500, maxMs: 30_000, factor: 2, jitter: true });

/**
 * The delay before reconnection attempt `attempt` (0 for the first one after a disconnection).
 * Always within [0, maxMs]; its bound grows by `factor` per attempt.
 * @param {number} attempt
 * @param {BackoffOptions} [options]
 * @param {() => number} [random] a source of numbers in [0, 1)
 * @returns {number} milliseconds
 */
export function backoffDelay(attempt, options = {}, random = Math.random) {
  const { initialMs, maxMs, factor, jitter } = { ...DEFAULT_BACKOFF, ...options };
  const n = Math.max(0, Math.floor(attempt) || 0);
  const bound = Math.max(0, Math.min(maxMs, initialMs * Math.pow(Math.max(1, factor), n)));
  if (!Number.isFinite(bound)) return Math.max(0, maxMs);
  if (!jitter) return bound;
  return Math.min(bound, Math.max(0, random() * bound));
}
