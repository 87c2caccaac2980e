/**
 * The stall window of an HttpClient: while requests are pending, something must succeed — a
 * request completing, or body bytes arriving beyond what earlier attempts of their request had
 * delivered — at least once per `windowMs`. When nothing has for that long, `onStall` gets one
 * ERR_STALLED error (the client fails every pending and later request with it). Time with no
 * request pending does not count: a pull busy applying a delta part is not stalled.
 */
import { FlathubFetchError } from '../errors/FlathubFetchError.js';
import { ErrorCodes } from '../errors/codes.js';

export class StallWatch {
  readonly windowMs: number;
  readonly #url: string;
  readonly #onStall: (err: FlathubFetchError) => void;
  #pending = 0;
  #last = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #lastFailure: string | null = null;
  #error: FlathubFetchError | null = null;

  /** `windowMs` 0 disables the watch. */
  constructor(windowMs: number, url: string, onStall: (err: FlathubFetchError) => void) {
    this.windowMs = windowMs;
    this.#url = url;
    this.#onStall = onStall;
  }

  /** The ERR_STALLED error once the window has passed without progress, else null. */
  get error(): FlathubFetchError | null {
    return this.#error;
  }

  /** A request starts (throws the stall error once stalled). */
  begin(): void {
    if (this.#error !== null) throw this.#error;
    if (this.#pending++ === 0) {
      this.#last = performance.now();
      this.#arm(this.windowMs);
    }
  }

  /** A request ended, however. */
  end(): void {
    this.#pending--;
  }

  /** Something succeeded. */
  progress(): void {
    this.#last = performance.now();
  }

  /** The latest failed attempt, for the stall message (`GET url: HTTP 503`). */
  failed(description: string): void {
    this.#lastFailure = description;
  }

  #arm(ms: number): void {
    if (this.windowMs <= 0 || this.#timer !== undefined) return;
    this.#timer = setTimeout(() => this.#check(), Math.max(1, ms));
    // Pending requests hold their own timers and sockets; this one must not keep a process alive.
    this.#timer.unref?.();
  }

  #check(): void {
    this.#timer = undefined;
    if (this.#pending === 0 || this.#error !== null) return;
    const idle = performance.now() - this.#last;
    if (idle < this.windowMs) {
      this.#arm(this.windowMs - idle);
      return;
    }
    const seconds = Math.round(idle / 100) / 10;
    const last = this.#lastFailure === null ? '' : `; last failure: ${this.#lastFailure}`;
    this.#error = new FlathubFetchError(
      ErrorCodes.STALLED,
      `${this.#url}: stalled: nothing received or verified for ${seconds} s (stall timeout ${this.windowMs / 1000} s) with ${this.#pending} request${this.#pending === 1 ? '' : 's'} pending${last}`,
      { url: this.#url, stallTimeout: this.windowMs, pending: this.#pending, lastFailure: this.#lastFailure },
    );
    this.#onStall(this.#error);
  }
}
