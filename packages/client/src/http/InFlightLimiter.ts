/** A FIFO semaphore: at most `limit` holders at once; waiting honours an AbortSignal. */
export class InFlightLimiter {
  readonly limit: number;
  #active = 0;
  readonly #waiting: Array<{ grant: () => void }> = [];

  constructor(limit: number) {
    this.limit = limit;
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
    if (this.#active < this.limit) {
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

  #releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.#waiting.shift();
      if (next !== undefined) next.grant();
      else this.#active--;
    };
  }
}
