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
  | { kind: 'stall'; after: number; ms: number }
  /** Close the connection before sending any response (a reset before the headers). */
  | { kind: 'drop' }
  /**
   * Stale or wrong content: answer 200 with other bytes — another file of the root (`path`, e.g.
   * another object or an older copy kept beside the repository) or `body` — under this URL.
   */
  | { kind: 'substitute'; path?: string; body?: Uint8Array }
  /** Redirect to `location` (absolute, or relative to this URL; a redirect to the same path is a loop). */
  | { kind: 'redirect'; location: string; status?: 301 | 302 | 303 | 307 | 308 }
  /**
   * A body that never ends: zero bytes at full speed until the client hangs up, chunked or,
   * with `declare`, under a Content-Length of that many bytes (a lie).
   */
  | { kind: 'endless'; declare?: number };

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

/**
 * A scripted policy: for each path, the fault of its 1st, 2nd, … request (null = serve normally);
 * requests beyond the script, and paths not in it, are served normally.
 */
export function scriptedFaults(script: Readonly<Record<string, readonly (Fault | null)[]>>): FaultPolicy {
  return (ctx) => script[ctx.path]?.[ctx.attempt - 1] ?? null;
}

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
 * A random policy: each request independently gets an error status with probability `p503` (503,
 * or one of `statuses` picked at random), a reset mid-body with `pReset`, a first-byte stall of
 * `stallMs` with `pStall`, a body sent at `slowBytesPerSecond` with `pSlow`, a corrupted body with
 * `pCorrupt` (only on paths `corruptOnly` accepts, when given). `maxFaultsPerPath` (default 2)
 * stops faulting a path after that many requests so every request eventually succeeds; the field
 * model — faults independent of each other, as a CDN in a bad hour produces them — sets it to
 * `Infinity`.
 */
export function randomFaults(o: {
  seed: number;
  p503?: number;
  /** Statuses the `p503` share is spread over. @default [503] */
  statuses?: readonly number[];
  corruptOnly?: (path: string) => boolean;
  pReset?: number;
  pStall?: number;
  stallMs?: number;
  pCorrupt?: number;
  pSlow?: number;
  /** @default 200_000 */
  slowBytesPerSecond?: number;
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
    if (r < acc) {
      const statuses = o.statuses ?? [503];
      return { kind: 'status', status: statuses[Math.floor((r / acc) * statuses.length)] ?? 503 };
    }
    acc += o.pReset ?? 0;
    if (r < acc) return { kind: 'reset', after: 1 };
    acc += o.pStall ?? 0;
    if (r < acc) return { kind: 'first-byte-delay', ms: o.stallMs ?? 2000 };
    acc += o.pSlow ?? 0;
    if (r < acc) return { kind: 'slow', bytesPerSecond: o.slowBytesPerSecond ?? 200_000 };
    acc += o.pCorrupt ?? 0;
    if (r < acc && (o.corruptOnly === undefined || o.corruptOnly(ctx.path))) return { kind: 'corrupt' };
    return null;
  };
}

/** A time when every request fails: from the `afterRequests`-th request on, for `durationMs` (Infinity: for good). */
export interface Outage {
  afterRequests: number;
  durationMs: number;
}

export interface OutageState {
  /** Outages begun, and of those ended. */
  started: number;
  ended: number;
  /** `performance.now()` when the first began, or null. */
  firstStart: number | null;
}

/**
 * `policy` with outage windows: during one, every request gets `fault` (default: 503) — a CDN or
 * origin down for everyone. Outside them `policy` decides. `state()` says whether an outage has
 * begun and ended (tests wait on it).
 */
export function withOutages(
  policy: FaultPolicy,
  outages: readonly Outage[],
  fault: Fault = { kind: 'status', status: 503 },
): FaultPolicy & { state(): OutageState } {
  let requests = 0;
  const windows = outages.map((o) => ({ ...o, start: null as number | null }));
  const f = ((ctx: FaultContext) => {
    requests++;
    const now = performance.now();
    for (const w of windows) {
      if (w.start === null && requests > w.afterRequests) w.start = now;
      if (w.start !== null && now - w.start < w.durationMs) return fault;
    }
    return policy(ctx);
  }) as FaultPolicy & { state(): OutageState };
  f.state = () => {
    const now = performance.now();
    const started = windows.filter((w) => w.start !== null);
    return {
      started: started.length,
      ended: started.filter((w) => now - (w.start as number) >= w.durationMs).length,
      firstStart: started.length === 0 ? null : Math.min(...started.map((w) => w.start as number)),
    };
  };
  return f;
}
