/**
 * Faults a RepoServer can inject, the way real servers, caches and CDNs misbehave.
 */
export type Fault =
  /** Answer with this status (and optional Retry-After seconds) and an empty or small body. */
  | { kind: 'status'; status: number; retryAfter?: number; body?: string; headers?: Record<string, string> }
  /** Send headers and `after` body bytes, then destroy the connection. */
  | { kind: 'reset'; after: number }
  /** Wait `ms` before sending anything (a first-byte stall when longer than the client's timeout). */
  | { kind: 'first-byte-delay'; ms: number }
  /** Flip bytes of the body (same length). */
  | { kind: 'corrupt' }
  /** Send only `keep` bytes; with `lie` the Content-Length still announces the full size. */
  | { kind: 'truncate'; keep: number; lie: boolean }
  /** Send the body at `bytesPerSecond`. */
  | { kind: 'slow'; bytesPerSecond: number }
  /** Send the body, then stop sending for `ms` in the middle (a body stall). */
  | { kind: 'stall'; after: number; ms: number };

export interface FaultContext {
  method: string;
  path: string;
  /** 1 for the first request of this path, 2 for the second, … */
  attempt: number;
  /** Request headers (lower-case). */
  headers: Record<string, string | string[] | undefined>;
}

/** Decides the fault for a request, or null to serve it normally. */
export type FaultPolicy = (ctx: FaultContext) => Fault | null;

/** A seeded PRNG (xorshift32) for reproducible random fault policies. */
export function seededRandom(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 0x100000000;
  };
}

/**
 * A random policy: each request independently gets a 503 with probability `p503`, a reset
 * mid-body with `pReset`, a first-byte stall of `stallMs` with `pStall`, a corrupted body with
 * `pCorrupt`. `maxFaultsPerPath` bounds consecutive faults so every request eventually succeeds.
 */
export function randomFaults(o: {
  seed: number;
  p503?: number;
  pReset?: number;
  pStall?: number;
  stallMs?: number;
  pCorrupt?: number;
  maxFaultsPerPath?: number;
  only?: (path: string) => boolean;
}): FaultPolicy {
  const rand = seededRandom(o.seed);
  const max = o.maxFaultsPerPath ?? 2;
  return (ctx) => {
    if (o.only !== undefined && !o.only(ctx.path)) return null;
    if (ctx.attempt > max) return null;
    const r = rand();
    let acc = o.p503 ?? 0;
    if (r < acc) return { kind: 'status', status: 503 };
    acc += o.pReset ?? 0;
    if (r < acc) return { kind: 'reset', after: 1 };
    acc += o.pStall ?? 0;
    if (r < acc) return { kind: 'first-byte-delay', ms: o.stallMs ?? 2000 };
    acc += o.pCorrupt ?? 0;
    if (r < acc) return { kind: 'corrupt' };
    return null;
  };
}
