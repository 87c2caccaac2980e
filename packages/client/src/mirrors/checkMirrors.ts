/**
 * `checkMirrors()`: is each mirror (CDN, cache) serving the primary repository faithfully?
 * Five checks per mirror — freshness, trust, completeness, HTTP semantics, performance — each
 * with pass / warn / fail and the evidence (URL, expected, got). Mirrors are checked
 * concurrently, each through its own connection pool capped at `connections`, so many mirrors
 * take about as long as the slowest one. The primary is read once and shared.
 */
import createDebug from 'debug';
import { FlathubFetchError } from '../errors/FlathubFetchError.js';
import { ErrorCodes } from '../errors/codes.js';
import type { Checksum } from '../formats/checksum.js';
import { linkSignal } from '../http/linkSignal.js';
import { GpgKeyring } from '../trust/GpgKeyring.js';
import { cacheOf } from '../diagnostics/errorSource.js';
import { pickCacheHeaders } from '../http/pickCacheHeaders.js';
import { addressesOf, compareAddresses } from './checkAddresses.js';
import { checkCompleteness, checkSample } from './checkCompleteness.js';
import { resultOf } from './evidence.js';
import { checkFreshness } from './checkFreshness.js';
import { checkHttp } from './checkHttp.js';
import { checkPerformance, performanceFacts } from './checkPerformance.js';
import { checkTrust } from './checkTrust.js';
import { describeExchange, outcome } from './Exchange.js';
import type { MirrorCheckOptions, ResolvedMirrorCheckOptions } from './MirrorCheckOptions.js';
import { resolveMirrorCheckOptions } from './MirrorCheckOptions.js';
import {
  type CheckResult,
  type Evidence,
  MIRROR_CHECK_SCHEMA,
  type MirrorCheckResult,
  type MirrorReport,
  type OverallStatus,
} from './MirrorCheckResult.js';
import type { MirrorContext } from './MirrorContext.js';
import { MirrorSession } from './MirrorSession.js';
import { PrimaryReference } from './PrimaryReference.js';
import { loadRepoView, TOP_FILES } from './RepoView.js';
import { refGlob, sampleNames } from './sampleObjects.js';
import { asAbortError } from '../errors/abortError.js';

const debug = createDebug('flathub-fetch:mirrors');

export async function checkMirrors(options: MirrorCheckOptions): Promise<MirrorCheckResult> {
  const resolved = resolveMirrorCheckOptions(options);
  // Every session's requests and every check's waits listen on one linked signal, not on the
  // caller's: (mirrors + 1) × connections requests are in flight at once.
  const link = linkSignal(resolved.signal);
  const o: ResolvedMirrorCheckOptions = { ...resolved, signal: link.signal };
  const startedAt = new Date().toISOString();
  const t0 = performance.now();
  const sessions: MirrorSession[] = [];
  const sessionOptions = () => ({
    connections: o.connections,
    timeouts: o.timeouts,
    userAgent: o.userAgent,
    allowUrl: o.allowUrl,
    signal: o.signal,
  });
  const open = (url: string) => {
    const pinned = o.resolve.get(new URL(url).hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase())?.[0];
    const s = new MirrorSession(url, {
      ...sessionOptions(),
      ...(pinned !== undefined ? { address: pinned } : {}),
      onExchange: (e) =>
        o.onEvent({
          type: 'request',
          url,
          method: e.method,
          path: e.path,
          status: e.status,
          ms: Math.round(e.end - e.start),
          error: e.error === null ? null : describeExchange(e),
        }),
    });
    sessions.push(s);
    return s;
  };
  try {
    const primarySession = open(o.primary);
    const view = await loadRepoView(primarySession, { files: TOP_FILES, arches: o.arches, maxBytes: o.maxBytes });
    if (view.refs.size === 0) {
      const why = [...view.files.entries()].map(([f, e]) => `${f}: ${view.unparsable.get(f) ?? describeExchange(e)}`).join('; ');
      throw new FlathubFetchError(ErrorCodes.NOT_FOUND, `primary ${o.primary}: no refs to compare (${why})`, {
        what: 'summary',
        url: o.primary,
      });
    }
    const primary = new PrimaryReference(primarySession, view, Math.max(8, o.sample));
    const matching = [...view.refs.keys()].filter((r) => o.refs.some((g) => refGlob(g).test(r))).sort();
    if (matching.length === 0) {
      throw new FlathubFetchError(ErrorCodes.INVALID_ARGUMENT, `refs: no ref of ${o.primary} matches ${o.refs.join(', ')}`, {
        argument: 'refs',
        value: o.refs,
        reason: 'no matching ref',
      });
    }
    const selected = sampleNames(matching, o.maxRefs, o.seed);
    o.onEvent({ type: 'primary', url: o.primary, refs: view.refs.size, selected });
    const { keyring, keySource } = await loadKeys(
      o,
      view.summary?.gpgKeys ?? view.subsummaries.find((s) => s.summary?.gpgKeys)?.summary?.gpgKeys ?? null,
    );
    const headsOf = (advertised: Map<string, Checksum>) =>
      new Map(selected.map((r) => [r, advertised.get(r) ?? (view.refs.get(r) as Checksum)] as [string, Checksum]));
    const primaryCtx: MirrorContext = { o, primary, server: primary, keyring, heads: headsOf(view.refs) };
    const primaryWork = (async () => {
      const [trust] = await Promise.all([checkTrust(primaryCtx), checkSample(primaryCtx)]);
      return { trust, performance: performanceFacts(primarySession.exchanges, [], performance.now() - t0) };
    })();
    // Keep an early primary failure from being reported as unhandled while the mirrors run.
    primaryWork.catch(() => {});
    const subsummaryKeys = view.subsummaries.map((s) => s.key);
    const present = TOP_FILES.filter((f) => {
      const e = view.files.get(f);
      return e !== undefined && outcome(e) === 'ok';
    });
    const mirrors = await Promise.all(
      o.mirrors.map(async (url): Promise<MirrorReport> => {
        o.onEvent({ type: 'mirror-start', url });
        const started = performance.now();
        const session = open(url);
        const server = { session, view: await loadRepoView(session, { files: present, arches: subsummaryKeys, maxBytes: o.maxBytes }) };
        const ctx: MirrorContext = { o, primary, server, keyring, heads: headsOf(server.view.refs) };
        const emit = (c: CheckResult) => {
          o.onEvent({ type: 'check', url, check: c.name, status: c.status, summary: c.summary });
          return c;
        };
        const addresses = await addressesOf(url, o.resolve);
        const [freshness, trust, completeness] = await Promise.all([
          Promise.all([checkFreshness(ctx), compareAddresses(ctx, addresses, sessionOptions())]).then(([r, byAddress]) => {
            const merged = { ...r, result: withEvidence(r.result, byAddress) };
            emit(merged.result);
            return merged;
          }),
          checkTrust(ctx).then(emit),
          checkCompleteness(ctx).then(emit),
        ]);
        const http = await checkHttp(ctx);
        emit(http.result);
        const facts = performanceFacts(session.exchanges, http.transient, performance.now() - started);
        const perf = emit(checkPerformance(ctx, facts, (await primaryWork).performance, http.transient));
        const checks = [freshness.result, trust, completeness, http.result, perf];
        const report: MirrorReport = {
          url: session.url,
          status: overall(checks),
          ...mirrorKind(session),
          addresses,
          checks,
          freshness: freshness.facts,
          performance: facts,
          redirects: session.exchanges.reduce((n, e) => n + e.redirects.length, 0),
        };
        debug('%s: %s', url, report.status);
        o.onEvent({ type: 'mirror-done', url, report });
        return report;
      }),
    );
    const { trust, performance: primaryPerformance } = await primaryWork;
    return {
      schema: MIRROR_CHECK_SCHEMA,
      status: worst(mirrors.map((m) => m.status)),
      primary: {
        url: primarySession.url,
        refs: { total: view.refs.size, selected },
        keySource,
        keys: keyring?.describe() ?? [],
        trust,
        performance: { ...primaryPerformance, requests: primarySession.exchanges.length },
      },
      mirrors,
      options: { refs: o.refs, maxRefs: o.maxRefs, sample: o.sample, seed: o.seed, maxLag: o.maxLag, connections: o.connections },
      startedAt,
      durationMs: Math.round(performance.now() - t0),
    };
  } catch (err) {
    throw asAbortError(err, o.signal, `mirror check against ${o.primary}`, { url: o.primary });
  } finally {
    link.dispose();
    await Promise.all(sessions.map((s) => s.close()));
  }
}

async function loadKeys(
  o: ResolvedMirrorCheckOptions,
  summaryKeys: Uint8Array | null,
): Promise<{ keyring: GpgKeyring | null; keySource: 'option' | 'summary' | 'none' }> {
  if (o.gpgKeys.length > 0) return { keyring: await GpgKeyring.from(o.gpgKeys, 'gpgKeys'), keySource: 'option' };
  if (o.summaryKeys && summaryKeys !== null && summaryKeys.length > 0) {
    return { keyring: await GpgKeyring.from([summaryKeys], `xa.gpg-keys of ${o.primary}summary`), keySource: 'summary' };
  }
  return { keyring: null, keySource: 'none' };
}

/** A mirror's verdict: the worst of its checks (a skipped check does not count). */
function overall(checks: readonly CheckResult[]): OverallStatus {
  return worst(checks.map((c) => (c.status === 'skip' ? 'pass' : c.status)));
}

/** A check's result with more evidence: its status and summary become the evidence's when that is worse. */
function withEvidence(r: CheckResult, extra: Evidence[]): CheckResult {
  if (extra.length === 0) return r;
  const merged = resultOf(r.name, [...r.evidence, ...extra]);
  const rank = { skip: 0, pass: 1, warn: 2, fail: 3 } as const;
  return rank[merged.status] > rank[r.status] ? merged : { ...r, evidence: [...r.evidence, ...extra] };
}

/** The mirror's kind, from where its content answers came from (see MirrorKind). */
function mirrorKind(session: MirrorSession): Pick<MirrorReport, 'kind' | 'served'> {
  const own = session.base.origin;
  const answered = session.exchanges.filter((e) => e.status !== null);
  const away = answered.filter((e) => new URL(e.finalUrl).origin !== own);
  const to = [...new Set(away.map((e) => new URL(e.finalUrl).origin))];
  const served = { itself: answered.length - away.length, redirected: away.length, to };
  const content = answered.filter((e) => e.purpose !== 'probe-missing');
  if (content.length > 0 && content.every((e) => new URL(e.finalUrl).origin !== own)) return { kind: 'redirector', served };
  if (away.length > 0) return { kind: 'redirecting-cache', served };
  const cached = answered.some((e) => e.headers.age !== undefined || cacheOf(pickCacheHeaders(e.headers)) !== null);
  return { kind: cached ? 'proxy' : 'full-mirror', served };
}

function worst(statuses: readonly OverallStatus[]): OverallStatus {
  return statuses.includes('fail') ? 'fail' : statuses.includes('warn') ? 'warn' : 'pass';
}
