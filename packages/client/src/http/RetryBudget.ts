/**
 * A retry budget that refills, as Finagle's RetryBudget and gRPC's retry throttling do: each
 * successful request deposits `ratio` tokens, time deposits `perSecond` tokens a second, and the
 * balance never exceeds `reserve`; each retry withdraws one token. A retry that finds the budget
 * empty is not refused: it waits until the floor has refilled the tokens it is short of (the
 * balance goes negative, so retries waiting together queue one behind the other at `perSecond`).
 *
 * So retries stay within `ratio` per success plus `perSecond` whatever the fault rate, and a
 * total outage costs the server `perSecond` requests a second instead of every client's backlog
 * at once; no request ever fails because the budget is spent (the stall window decides that).
 */
export class RetryBudget {
  readonly ratio: number;
  readonly perSecond: number;
  readonly reserve: number;
  readonly #now: () => number;
  #tokens: number;
  #at: number;

  constructor(o: { ratio: number; perSecond: number; reserve: number }, now: () => number = () => performance.now()) {
    this.ratio = o.ratio;
    this.perSecond = o.perSecond;
    this.reserve = o.reserve;
    this.#now = now;
    this.#tokens = o.reserve;
    this.#at = now();
  }

  /** Tokens available now (negative while retries are queued for the floor's refill). */
  get balance(): number {
    this.#refill();
    return this.#tokens;
  }

  /** A request succeeded. */
  deposit(): void {
    this.#refill();
    this.#tokens = Math.min(this.reserve, this.#tokens + this.ratio);
  }

  /** Takes one token for a retry; returns how long (ms) the retry must wait for it (0: at once). */
  withdraw(): number {
    this.#refill();
    this.#tokens -= 1;
    return this.#tokens >= 0 ? 0 : Math.ceil((-this.#tokens / this.perSecond) * 1000);
  }

  #refill(): void {
    const now = this.#now();
    const elapsed = now - this.#at;
    this.#at = now;
    if (elapsed > 0) this.#tokens = Math.min(this.reserve, this.#tokens + (elapsed / 1000) * this.perSecond);
  }
}
