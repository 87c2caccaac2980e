/**
 * Backoff before retry `n` (1 for the first retry): uniformly random in
 * [minDelay, min(maxDelay, minDelay·factor^n)] — full jitter above a floor, so clients that
 * failed together spread out, and no retry comes sooner than `minDelay`.
 */
import type { RetryOptions } from './HttpClientOptions.js';

export function backoffDelay(n: number, retry: Required<RetryOptions>, random: () => number): number {
  const ceiling = Math.min(retry.maxDelay, retry.minDelay * retry.factor ** Math.max(1, n));
  const r = Math.min(Math.max(random(), 0), 1);
  return Math.round(retry.minDelay + r * Math.max(0, ceiling - retry.minDelay));
}
