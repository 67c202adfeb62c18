// Runs an async task every `intervalMs` while it is wanted and the page is visible: one run at a
// time (a poke during a run asks for one more run right after it), nothing while the page is
// hidden, an immediate run when it shows again.

export class Poller {
  #task;
  #intervalMs;
  #isWanted;
  #timer = null;
  #running = false;
  #again = false;

  constructor(task, { intervalMs, isWanted = () => true }) {
    this.#task = task;
    this.#intervalMs = intervalMs;
    this.#isWanted = isWanted;
  }

  start() {
    document.addEventListener('visibilitychange', () => this.poke());
    this.poke();
  }

  // Runs the task now (or right after the current run) if it is wanted.
  poke() {
    clearTimeout(this.#timer);
    this.#timer = null;
    if (this.#running) {
      this.#again = true;
      return;
    }
    if (document.hidden || !this.#isWanted()) return;
    this.#run();
  }

  async #run() {
    this.#running = true;
    try {
      await this.#task();
    } catch { /* the task shows its own errors */ }
    this.#running = false;
    if (this.#again) {
      this.#again = false;
      this.poke();
    } else if (!document.hidden && this.#isWanted()) {
      this.#timer = setTimeout(() => this.poke(), this.#intervalMs);
    }
  }
}
