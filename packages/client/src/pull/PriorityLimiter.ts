/**
 * Runs at most `concurrency` tasks at once, urgent ones first: the object walk marks metadata
 * (commit, dirtrees, dirmetas) urgent so that discovering the tree never waits behind the
 * thousands of file requests it has already queued. Within a priority, first come first served.
 * The slot of a finished urgent task is handed on after one turn of the event loop, so that the
 * urgent work its result leads to (a dirtree's subdirectories) is queued before a file takes it.
 */
export class PriorityLimiter {
  readonly concurrency: number;
  #active = 0;
  readonly #urgent: Array<() => void> = [];
  readonly #normal: Array<() => void> = [];

  constructor(concurrency: number) {
    this.concurrency = concurrency;
  }

  /** Tasks waiting for a slot. */
  get pending(): number {
    return this.#urgent.length + this.#normal.length;
  }

  async run<T>(task: () => Promise<T>, urgent = false): Promise<T> {
    if (this.#active >= this.concurrency) {
      await new Promise<void>((resolve) => (urgent ? this.#urgent : this.#normal).push(resolve));
    } else this.#active++;
    try {
      return await task();
    } finally {
      // An urgent task's result usually brings more urgent work (a dirtree names subdirectories):
      // its slot is handed on one turn of the event loop later, once the caller has queued it.
      if (urgent) setImmediate(() => this.#release());
      else this.#release();
    }
  }

  /** Hands the slot straight to the next task (the count stays), or frees it. */
  #release(): void {
    const next = this.#urgent.shift() ?? this.#normal.shift();
    if (next !== undefined) next();
    else this.#active--;
  }
}
