/**
 * A FIFO semaphore: at most `limit` holders at once; waiting honours an AbortSignal. The limit
 * can change at run time (adaptive concurrency): lowering it lets holders finish without
 * admitting new ones until they are below it; raising it admits waiters at once.
 */
export class InFlightLimiter {
  #limit: number;
  #active = 0;
  readonly #waiting: Array<{ grant: () => void }> = [];

  constructor(limit: number) {
    this.#limit = limit;
  }

  get limit(): number {
    return this.#limit;
  }

  set limit(n: number) {
    this.#limit = Math.max(1, n);
    this.#pump();
  }

  get active(): number {
    return this.#active;
  }

  get queued(): number {
    return this.#waiting.length;
  }

  /** Resolves with a release function once a slot is free; rejects with `onAbort()` if `signal` aborts first. */
  acquire(signal: AbortSignal | undefined, onAbort: () => unknown): Promise<() => void> {
    if (signal?.aborted) return Promise.reject(onAbort());
    if (this.#active < this.#limit && this.#waiting.length === 0) {
      this.#active++;
      return Promise.resolve(this.#releaser());
    }
    return new Promise((resolve, reject) => {
      const entry = {
        grant: () => {
          signal?.removeEventListener('abort', abort);
          resolve(this.#releaser());
        },
      };
      const abort = () => {
        const i = this.#waiting.indexOf(entry);
        if (i >= 0) this.#waiting.splice(i, 1);
        reject(onAbort());
      };
      signal?.addEventListener('abort', abort, { once: true });
      this.#waiting.push(entry);
    });
  }

  #pump(): void {
    while (this.#active < this.#limit) {
      const next = this.#waiting.shift();
      if (next === undefined) return;
      this.#active++;
      next.grant();
    }
  }

  #releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#active--;
      this.#pump();
    };
  }
}
