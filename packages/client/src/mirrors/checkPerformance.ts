/**
 * Performance: first-byte time and throughput percentiles over the sampled objects (the same
 * set on every server at the same commits), compared with the primary's; the share of requests
 * that failed for reasons no other check explains (network errors, timeouts, 5xx or short bodies
 * that went away when repeated).
 */
import { latencyStats } from '../diagnostics/latencyStats.js';
import { describeExchange, type Exchange, outcome } from './Exchange.js';
import { ev, resultOf } from './evidence.js';
import type { MirrorContext } from './MirrorContext.js';
import type { CheckResult, Evidence, LatencySummary, PerformanceFacts } from './MirrorCheckResult.js';

export function performanceFacts(exchanges: readonly Exchange[], transient: readonly Exchange[], durationMs: number): PerformanceFacts {
  const errored = exchanges.filter((e) => e.purpose !== 'repeat' && (e.error?.kind === 'network' || e.error?.kind === 'timeout'));
  const errors = errored.length + transient.length;
  const objects = exchanges.filter((e) => e.purpose === 'object' && outcome(e) === 'ok' && e.firstByte !== null);
  const requests = exchanges.length;
  return {
    requests,
    errors,
    errorRate: requests === 0 ? 0 : Math.round((errors / requests) * 1000) / 1000,
    firstByteMs: summarise(objects.map((e) => (e.firstByte as number) - e.start)),
    throughput: summarise(objects.map((e) => Math.round(e.bytes / (Math.max(e.end - e.start, 0.001) / 1000)))),
    durationMs: Math.round(durationMs),
  };
}

function summarise(samples: number[]): LatencySummary {
  const { count, p50, p90, p99, max } = latencyStats(samples);
  return { count, p50, p90, p99, max };
}

export function checkPerformance(
  ctx: MirrorContext,
  facts: PerformanceFacts,
  reference: PerformanceFacts,
  transient: readonly Exchange[],
): CheckResult {
  const t = ctx.o.performance;
  const evidence: Evidence[] = [];
  const mine = facts.firstByteMs.p50;
  const ref = reference.firstByteMs.p50;
  if (mine !== null && ref !== null) {
    const ratio = mine / Math.max(ref, 0.001);
    const diff = mine - ref;
    const status =
      ratio >= t.failRatio && diff >= t.failMarginMs ? 'fail' : ratio >= t.warnRatio && diff >= t.warnMarginMs ? 'warn' : 'pass';
    evidence.push(
      ev(
        status,
        'first byte p50 over the sampled objects',
        null,
        `${ref} ms (the primary’s)`,
        `${mine} ms (×${ratio.toFixed(1)}; p90 ${facts.firstByteMs.p90} ms)`,
      ),
    );
    if (facts.throughput.p50 !== null) {
      evidence.push(ev('info', 'throughput p50', null, `${reference.throughput.p50} B/s (the primary’s)`, `${facts.throughput.p50} B/s`));
    }
  } else if (mine !== null) {
    evidence.push(ev('info', 'first byte p50 over the sampled objects', null, null, `${mine} ms`));
  }
  const rate = facts.errorRate;
  const rateStatus = rate >= t.failErrorRate && facts.errors > 0 ? 'fail' : rate > t.warnErrorRate ? 'warn' : 'pass';
  evidence.push(
    ev(
      rateStatus,
      'error rate',
      null,
      `≤ ${t.warnErrorRate}`,
      `${facts.errors} of ${facts.requests} requests (${(rate * 100).toFixed(1)} %)`,
    ),
  );
  const errored = ctx.server.session.exchanges.filter(
    (e) => e.purpose !== 'repeat' && (e.error?.kind === 'network' || e.error?.kind === 'timeout'),
  );
  for (const e of [...errored, ...transient].slice(0, 10)) {
    evidence.push(
      ev(
        'info',
        `${e.method} ${e.path}`,
        e.url,
        null,
        `${describeExchange(e)}${transient.includes(e) ? ' (went away when repeated)' : ''}`,
      ),
    );
  }
  return resultOf('performance', evidence);
}
