/**
 * AIMD control of the in-flight limit (the way TCP and Netflix's concurrency-limits react to
 * congestion): an overload signal — 429, 502, 503, 504, a first-byte or connect timeout — halves
 * the limit; each success adds 1/limit (about +1 per limit's worth of successes), up to the
 * ceiling. Only attempts dispatched since the last decrease can decrease it again, so a burst of
 * failures from requests already in flight counts once, not once per request.
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
