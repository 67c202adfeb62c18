// kinto-push client: the listeners of a client's events (on, off, once), called in order; one
// that throws is reported as an `error` event instead of stopping the others. Used by
// kinto-push.js.

/**
 * Listeners by event name, for a fixed set of names.
 */
export class Listeners {
  /** @param {string[]} names the events that may be listened to */
  constructor(names) {
    this._sets = new Map(names.map((e) => [e, new Set()]));
  }

  /**
   * Adds a listener; throws for a name not in the set.
   * @param {string} name
   * @param {Function} fn
   */
  add(name, fn) {
    const set = this._sets.get(name);
    if (!set) throw new Error(`kinto-push: unknown event "${name}"`);
    set.add(fn);
  }

  /**
   * Removes a listener added with add() or once().
   * @param {string} name
   * @param {Function} fn
   */
  remove(name, fn) {
    const set = this._sets.get(name);
    if (set) {
      set.delete(fn);
      for (const f of set) if (f._kpOnce === fn) set.delete(f);
    }
  }

  /**
   * Adds a listener removed before its first call.
   * @param {string} name
   * @param {Function} fn
   */
  once(name, fn) {
    const wrapper = (...args) => { this.remove(name, wrapper); fn(...args); };
    wrapper._kpOnce = fn;
    this.add(name, wrapper);
  }

  /** Calls the listeners of `name` (those there when it starts) with `args`. */
  emit(name, ...args) {
    for (const fn of [...this._sets.get(name)]) this.call(fn, name, args);
  }

  /**
   * Calls `fn` for the event `name`: if it throws, an `error` event says so (or, for an error
   * listener, the console).
   */
  call(fn, name, args) {
    try {
      fn(...args);
    } catch (error) {
      if (name === 'error') {
        console.error('kinto-push: an error listener threw', error);
      } else {
        this.emit('error', { type: 'handler', event: name, error, message: `a ${name} listener threw: ${error?.message ?? error}` });
      }
    }
  }
}
