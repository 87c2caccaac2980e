/**
 * One attempt's abort: the signal the transport gets, and a race that ends the attempt's current
 * wait (for the response, for the next body chunk) as soon as the attempt is aborted. Only the
 * attempt aborts its signal, so `abort()` rejects the wait itself: no listener is added to the
 * signal per wait (an EventTarget listener costs more than the wait's own bookkeeping).
 */
export class AttemptAbort {
  readonly #ac = new AbortController();
  #aborted = false;
  /** Rejects the pending `race`, if any (one wait at a time). */
  #cancel: (() => void) | null = null;

  get signal(): AbortSignal {
    return this.#ac.signal;
  }

  get aborted(): boolean {
    return this.#aborted;
  }

  /** The reason given to the first `abort()`. */
  get reason(): unknown {
    return this.#ac.signal.reason;
  }

  /** Aborts the signal (its listeners run first) and ends the pending wait; later calls do nothing. */
  abort(reason: unknown): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#ac.abort(reason);
    const cancel = this.#cancel;
    this.#cancel = null;
    cancel?.();
  }

  /**
   * Settles like `promise`, or rejects with the abort reason as soon as the attempt is aborted
   * (the promise is left to settle on its own, its rejection swallowed).
   */
  race<T>(promise: Promise<T>): Promise<T> {
    if (this.aborted) {
      promise.catch(() => {});
      return Promise.reject(this.reason);
    }
    return new Promise<T>((resolve, reject) => {
      const cancel = () => {
        promise.catch(() => {});
        reject(this.reason);
      };
      this.#cancel = cancel;
      promise.then(
        (v) => {
          if (this.#cancel === cancel) this.#cancel = null;
          resolve(v);
        },
        (e: unknown) => {
          if (this.#cancel === cancel) this.#cancel = null;
          reject(e);
        },
      );
    });
  }
}
