/**
 * `buildReport()`: everything an operator wants to know about one pull, computed from its
 * `RequestRecord`s alone (pure; no I/O). Definitions of each figure are in `SCHEMA.md`.
 */
import { deltaPartPath, parseDeltaName } from '../formats/paths.js';
import { METADATA_PURPOSES } from '../http/metadataPurposes.js';
import type { RequestRecord } from '../http/RequestRecord.js';
import type { FailedPullResult, PullResult } from '../pull/PullResult.js';
import { errorSource } from './errorSource.js';
import { latencyStats, round } from './latencyStats.js';
import {
  type BuildReportOptions,
  PULL_REPORT_SCHEMA,
  type LatencyPair,
  type PullReport,
  type SlowRequest,
  type WastedFetch,
} from './PullReport.js';

const OBJECT_PATH = /objects\/[0-9a-f]{2}\/[0-9a-f]{62}\.[a-z-]+$/;

const inc = (m: Record<string, number>, k: string, n = 1) => {
  m[k] = (m[k] ?? 0) + n;
};
const is2xx = (r: RequestRecord) => r.status !== null && r.status >= 200 && r.status < 300;
const pathOf = (url: string) => {
  try {
    return new URL(url).pathname;
  } catch {
    return url;
  }
};
const firstByteMs = (r: RequestRecord) =>
  r.timings.firstByte !== null && r.timings.requestSent !== null ? r.timings.firstByte - r.timings.requestSent : null;
const totalMs = (r: RequestRecord) => (r.timings.done !== null ? r.timings.done - r.timings.queued : null);
const rangeStart = (range: string | null) => {
  const m = range === null ? null : /^bytes=(\d+)-/.exec(range);
  return m ? Number(m[1]) : 0;
};

export function buildReport(result: PullResult | FailedPullResult, options: BuildReportOptions = {}): PullReport {
  const { slowest: slowestN = 10, bucketMs = 100 } = options;
  const records = result.requests;

  const byPurpose: Record<string, number> = {};
  const byStatus: Record<string, number> = {};
  const bytesByPurpose: Record<string, { wire: number; decoded: number }> = {};
  const errorsByClass: Record<string, number> = {};
  const errorsByStatus: Record<string, number> = {};
  const retriesByReason: Record<string, number> = {};
  const errorsBySource: Record<string, number> = {};
  const errorsByCache: Record<string, number> = {};
  let minLimit: number | null = null;
  let maxLimit: number | null = null;
  let lastLimit: { at: number; limit: number } | null = null;
  let wire = 0;
  let decoded = 0;
  let headers = 0;
  let errors = 0;
  let retries = 0;
  let redirects = 0;
  const connections = new Set<number>();
  let known = 0;
  let reused = 0;
  const lastAttempt = new Map<number, RequestRecord>();
  for (const r of records) {
    inc(byPurpose, r.purpose);
    inc(byStatus, r.status === null ? 'none' : String(r.status));
    const b = bytesByPurpose[r.purpose] ?? { wire: 0, decoded: 0 };
    bytesByPurpose[r.purpose] = b;
    b.wire += r.wireBytes;
    b.decoded += r.bodyBytes;
    wire += r.wireBytes;
    decoded += r.bodyBytes;
    headers += r.headerBytes;
    if (r.error !== null) {
      errors++;
      inc(errorsByClass, r.error.class);
      inc(errorsByStatus, r.status === null ? 'none' : String(r.status));
      const src = errorSource(r);
      if (src !== null) {
        inc(errorsBySource, src.source);
        if (src.source === 'cache') inc(errorsByCache, src.cache ?? 'unknown');
      }
    }
    if (r.inFlightLimit !== null) {
      minLimit = Math.min(minLimit ?? r.inFlightLimit, r.inFlightLimit);
      maxLimit = Math.max(maxLimit ?? r.inFlightLimit, r.inFlightLimit);
      const at = r.timings.dispatched ?? r.timings.queued;
      if (lastLimit === null || at >= lastLimit.at) lastLimit = { at, limit: r.inFlightLimit };
    }
    if (r.retryOf === 'redirect') redirects++;
    else if (r.attempt > 1) {
      retries++;
      inc(retriesByReason, r.retryOf ?? 'unknown');
    }
    if (r.connectionId !== null) connections.add(r.connectionId);
    if (r.connectionReused !== null) {
      known++;
      if (r.connectionReused) reused++;
    }
    const prev = lastAttempt.get(r.requestId);
    if (prev === undefined || prev.attempt < r.attempt) lastAttempt.set(r.requestId, r);
  }
  const abandoned = [...lastAttempt.values()].filter((r) => r.error !== null && !r.willRetry).length;

  const waste = wasteOf(result);
  const metadataUrls = new Set(records.filter((r) => METADATA_PURPOSES.has(r.purpose)).map((r) => r.url));
  const plan = result.plan;
  const planned = plan === null ? null : plan.strategy === 'up-to-date' ? 0 : (plan.chosen?.requests ?? null);
  const ideal = planned === null ? null : planned + metadataUrls.size;

  const pair = (rs: readonly RequestRecord[]): LatencyPair => ({
    firstByte: latencyStats(rs.map(firstByteMs).filter((x): x is number => x !== null)),
    total: latencyStats(rs.map(totalMs).filter((x): x is number => x !== null)),
  });
  const latencyByPurpose: Record<string, LatencyPair> = {};
  for (const p of Object.keys(byPurpose).sort()) latencyByPurpose[p] = pair(records.filter((r) => r.purpose === p));

  let startedAt: number | null = null;
  for (const r of records) if (startedAt === null || r.timings.queued < startedAt) startedAt = r.timings.queued;
  const slowest: SlowRequest[] = slowestOf(records, slowestN).map((r) => {
    const fb = firstByteMs(r);
    const t = totalMs(r);
    return {
      id: r.id,
      url: r.url,
      purpose: r.purpose,
      attempt: r.attempt,
      status: r.status,
      wireBytes: r.wireBytes,
      firstByteMs: fb === null ? null : round(fb),
      totalMs: t === null ? null : round(t),
      error: r.error?.class ?? null,
    };
  });

  return {
    schema: PULL_REPORT_SCHEMA,
    remote: result.remote,
    ref: result.ref,
    commit: result.commit,
    repo: result.repo,
    strategy: result.strategy,
    plan: plan === null ? null : { strategy: plan.strategy, reason: plan.reason, chosen: plan.chosen, alternatives: plan.alternatives },
    objects: { ...result.objects },
    partsSkipped: result.partsSkipped,
    partsRecovered: result.partsRecovered,
    decoders: result.decoders ?? { xz: null, zstd: null },
    durationMs: round(result.durationMs),
    failure: result.failure ?? null,
    startedAt: startedAt === null ? null : round(startedAt),
    startedDateTime: startedAt === null ? null : new Date(performance.timeOrigin + startedAt).toISOString(),
    requests: {
      total: records.length,
      ok: records.length - errors,
      errors,
      retries,
      redirects,
      logical: lastAttempt.size,
      abandoned,
      byPurpose,
      byStatus,
      ideal,
      excess: ideal === null ? null : records.length - ideal,
    },
    bytes: { wire, decoded, headers, byPurpose: bytesByPurpose },
    waste,
    errors: { total: errors, byClass: errorsByClass, byStatus: errorsByStatus, bySource: errorsBySource, byCache: errorsByCache },
    concurrency: { minLimit, maxLimit, lastLimit: lastLimit?.limit ?? null },
    retries: { total: retries, byReason: retriesByReason },
    amplification: {
      overall: lastAttempt.size === 0 ? null : (records.length - redirects) / lastAttempt.size,
      byCause: Object.fromEntries(Object.entries(retriesByReason).map(([k, n]) => [k, n / lastAttempt.size])),
    },
    connections: { distinct: connections.size, known, reused, reuseRatio: known === 0 ? null : reused / known },
    latency: { ...pair(records), byPurpose: latencyByPurpose },
    throughput: { bucketMs, buckets: startedAt === null ? [] : throughputBuckets(records, startedAt, bucketMs) },
    slowest,
    entries: records.slice(),
  };
}

/** The `n` slowest records (by total time; unfinished ones last, then by id), slowest first, without sorting them all. */
function slowestOf(records: readonly RequestRecord[], n: number): RequestRecord[] {
  const slower = (a: RequestRecord, b: RequestRecord) => (totalMs(b) ?? -1) - (totalMs(a) ?? -1) || a.id - b.id;
  const top: RequestRecord[] = [];
  if (n <= 0) return top;
  for (const r of records) {
    if (top.length === n && slower(r, top[n - 1] as RequestRecord) >= 0) continue;
    let i = top.length === n ? n - 1 : top.length;
    while (i > 0 && slower(r, top[i - 1] as RequestRecord) < 0) {
      top[i] = top[i - 1] as RequestRecord;
      i--;
    }
    top[i] = r;
  }
  return top;
}

function wasteOf(result: PullResult | FailedPullResult): PullReport['waste'] {
  const records = result.requests;
  const items: WastedFetch[] = [];
  const item = (kind: WastedFetch['kind'], r: RequestRecord, bytes: number) =>
    items.push({ kind, id: r.id, url: r.url, purpose: r.purpose, status: r.status, bytes });

  // Failed attempts: their bytes are wasted, except what the next attempt resumed from (Range).
  // (The attempts of requests that had a failure, by request: a pull's requests mostly have none.)
  const failed = records.filter((r) => r.error !== null);
  const retried = new Set(failed.map((r) => r.requestId));
  const byRequest = new Map<number, RequestRecord[]>();
  for (const r of records) {
    if (!retried.has(r.requestId)) continue;
    const list = byRequest.get(r.requestId);
    if (list === undefined) byRequest.set(r.requestId, [r]);
    else list.push(r);
  }
  for (const r of failed) {
    const next = byRequest.get(r.requestId)?.find((x) => x.attempt === r.attempt + 1);
    const kept = next?.range != null ? Math.min(r.wireBytes, Math.max(0, rangeStart(next.range) - rangeStart(r.range))) : 0;
    item('failed', r, r.wireBytes - kept);
  }

  // Objects delivered by delta parts that were actually fetched (or inline).
  const delta = result.delta;
  const fromParts = new Set<string>();
  if (delta !== undefined) {
    const { from, to } = parseDeltaName(delta.name);
    const fetched = new Set(records.filter((r) => r.purpose === 'delta-part' && r.error === null && is2xx(r)).map((r) => pathOf(r.url)));
    for (const p of delta.parts) {
      const partPath = `/${deltaPartPath(from, to, p.index)}`;
      const delivered = p.inline || [...fetched].some((u) => u.endsWith(partPath));
      if (delivered) for (const o of p.objects) fromParts.add(o);
    }
  }

  // Successful fetches: duplicates first, then loose objects a part already delivered.
  const seen = new Set<string>();
  for (const r of records) {
    if (r.error !== null || r.method !== 'GET' || !is2xx(r)) continue;
    if (seen.has(r.url)) {
      item('duplicate', r, r.wireBytes);
      continue;
    }
    seen.add(r.url);
    if (fromParts.size === 0 || r.purpose === 'delta-part') continue;
    const m = OBJECT_PATH.exec(pathOf(r.url));
    if (m !== null && fromParts.has(m[0])) item('loose-in-delta', r, r.wireBytes);
  }

  const sum = (kind: WastedFetch['kind']) => {
    const xs = items.filter((i) => i.kind === kind);
    return { requests: xs.length, bytes: xs.reduce((n, i) => n + i.bytes, 0) };
  };
  return {
    requests: items.length,
    bytes: items.reduce((n, i) => n + i.bytes, 0),
    failed: sum('failed'),
    duplicates: sum('duplicate'),
    looseInDelta: { checked: delta !== undefined, ...sum('loose-in-delta') },
    items,
  };
}

/** Spreads each attempt's wire bytes evenly over its receive window, in integer bytes per bucket. */
function throughputBuckets(records: readonly RequestRecord[], start: number, bucketMs: number): number[] {
  const buckets: number[] = [];
  const add = (i: number, n: number) => {
    while (buckets.length <= i) buckets.push(0);
    buckets[i] = (buckets[i] as number) + n;
  };
  for (const r of records) {
    if (r.wireBytes === 0) continue;
    const t = r.timings;
    const s = Math.max(start, t.firstByte ?? t.requestSent ?? t.queued);
    const e = Math.max(s, t.lastByte ?? t.done ?? s);
    const first = Math.floor((s - start) / bucketMs);
    const last = Math.floor((e - start) / bucketMs);
    if (last === first) {
      add(first, r.wireBytes);
      continue;
    }
    let given = 0;
    for (let i = first; i <= last; i++) {
      const upTo = i === last ? r.wireBytes : Math.round((r.wireBytes * (start + (i + 1) * bucketMs - s)) / (e - s));
      add(i, upTo - given);
      given = upTo;
    }
  }
  return buckets;
}
