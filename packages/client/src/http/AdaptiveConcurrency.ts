/**
 * AIMD control of the in-flight limit (the way TCP and Netflix's concurrency-limits react to
 * congestion): an overload signal — 429, 502, 503, 504, a first-byte or connect timeout — halves
 * the limit; each success adds 1/limit (about +1 per limit's worth of successes), up to the
 * ceiling. Only attempts dispatched since the last decrease can decrease it again, so a burst of
 * failures from requests already in flight counts once, not once per request.
 *
 * HttpClient passes an overload signal on only while `OverloadRate` says the signals are
 * sustained (see `congested`): a CDN in a bad hour answers a fifth of everyone's
 * requests with 503 whatever our rate, and halving on each of those independent faults held a
 * pull at 1–2 requests in flight (its stalls then waited out one after another); at a rate like
 * that, retries (paced by the retry budget) are the answer, not a lower limit.
 */

/** A change of the in-flight limit, as `HttpClientOptions.onConcurrencyChange` receives it. */
export interface ConcurrencyChange {
  limit: number;
  previous: number;
  /** `overload`: lowered after `cause`; `recovery`: raised after successes. */
  reason: 'overload' | 'recovery';
  /** The overload signal (`503`, `first-byte-timeout`, …) for a decrease. */
  cause: string | null;
}

export class AdaptiveConcurrency {
  readonly min: number;
  readonly max: number;
  #window: number;
  #epoch = 0;
  readonly #onChange: (change: ConcurrencyChange) => void;

  /** Starts at `max` (no overload seen yet). */
  constructor(max: number, onChange: (change: ConcurrencyChange) => void, min = 1) {
    this.max = max;
    this.min = Math.min(min, max);
    this.#window = max;
    this.#onChange = onChange;
  }

  get limit(): number {
    return Math.floor(this.#window);
  }

  /** The epoch to pass back to `overload()` for an attempt dispatched now. */
  get epoch(): number {
    return this.#epoch;
  }

  /** Multiplicative decrease, unless the attempt was dispatched before the last one. */
  overload(dispatchedIn: number, cause: string): void {
    if (dispatchedIn < this.#epoch) return;
    const previous = this.limit;
    this.#window = Math.max(this.min, Math.floor(this.#window / 2));
    this.#epoch++;
    if (this.limit !== previous) this.#onChange({ limit: this.limit, previous, reason: 'overload', cause });
  }

  /** Additive increase. */
  success(): void {
    if (this.#window >= this.max) return;
    const previous = this.limit;
    this.#window = Math.min(this.max, this.#window + 1 / this.#window);
    if (this.limit !== previous) this.#onChange({ limit: this.limit, previous, reason: 'recovery', cause: null });
  }
}

/**
 * The share of recent attempts that ended with an overload signal: an exponentially weighted
 * moving average over about the last 64 attempts (the plain mean of the first 64). `congested`
 * when it is at least 33% with two standard errors to spare (the error of a mean of the last
 * min(n, 64) attempts), after at least 4: six 503s in a row are congestion, two of the first
 * four are not; independent faults at 29% (the field model: 24% 5xx, 5% stalls) stay more than
 * 4 standard deviations below; a 50%-503 episode is above it most of the time.
 */
export class OverloadRate {
  static readonly WEIGHT = 1 / 64;
  static readonly THRESHOLD = 0.33;
  #rate = 0;
  #n = 0;

  add(overload: 0 | 1): void {
    this.#n++;
    this.#rate += (overload - this.#rate) * Math.max(OverloadRate.WEIGHT, 1 / this.#n);
  }

  get rate(): number {
    return this.#rate;
  }

  get congested(): boolean {
    if (this.#n < 4) return false;
    const r = this.#rate;
    return r - 2 * Math.sqrt((r * (1 - r)) / Math.min(this.#n, 64)) >= OverloadRate.THRESHOLD;
  }
}
