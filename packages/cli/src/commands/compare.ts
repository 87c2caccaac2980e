import type { CompareMode, ComparePullsOptions, PullComparison, PullReport, PullResult, RequestRecord } from '@flathub-fetch/client';
import { loadClient } from '../client.js';
import type { Command } from '../Command.js';
import { ExitCode } from '../exitCodes.js';
import { bold, formatBytes, type Output, table, writeJson } from '../output.js';
import { ProgressBar } from '../progressBar.js';
import { integerOption } from '../integerOption.js';
import { splitRemote } from '../remoteArgs.js';
import { UsageError } from '../UsageError.js';
import { writeAtomic } from '../writeAtomic.js';

/** One side of the comparison: the figures shown in the table (and in `--json`). */
export function compareSide(result: PullResult, report: PullReport) {
  return {
    strategy: result.strategy,
    requests: report.requests.total,
    logicalRequests: report.requests.logical,
    byPurpose: report.requests.byPurpose,
    ideal: report.requests.ideal,
    bytes: report.bytes.wire,
    wallMs: Math.round(result.durationMs),
    firstByteMs: { p50: report.latency.firstByte.p50, p99: report.latency.firstByte.p99 },
    errors: report.errors.total,
    errorsByStatus: report.errors.byStatus,
    errorsByClass: report.errors.byClass,
    retries: report.retries.total,
    waste: { requests: report.waste.requests, bytes: report.waste.bytes },
    objects: result.objects,
    /** Every failed attempt: what failed, where, and whether it was retried. */
    failures: failures(result.requests),
  };
}

function failures(records: readonly RequestRecord[]) {
  return records
    .filter((r) => r.error !== null)
    .map((r) => ({
      url: r.url,
      purpose: r.purpose,
      attempt: r.attempt,
      status: r.status,
      error: r.error?.class ?? null,
      retried: r.willRetry,
      // Did a later attempt of the same logical request succeed?
      recovered: records.some((x) => x.requestId === r.requestId && x.attempt > r.attempt && x.error === null),
    }));
}

export function compareJson(c: PullComparison, buildReport: (r: PullResult) => PullReport) {
  return {
    remote: c.remote,
    ref: c.ref,
    commit: c.commit,
    from: c.from,
    deltas: compareSide(c.deltas, buildReport(c.deltas)),
    objects: compareSide(c.objects, buildReport(c.objects)),
  };
}

type Side = ReturnType<typeof compareSide>;

export function renderCompare(o: Output, c: ReturnType<typeof compareJson>): void {
  const { deltas: a, objects: b } = c;
  o.out.write(
    `${bold(o, 'Compare')} ${c.ref ?? c.commit} → ${c.commit.slice(0, 12)}${c.from === null ? ' from an empty repository' : ` from ${c.from.slice(0, 12)}`}\n`,
  );
  const ms = (v: number | null) => (v === null ? '-' : `${Math.round(v)} ms`);
  const rows = [['', 'WITH DELTAS', 'OBJECTS ONLY'].map((h) => bold(o, h))];
  const both = (label: string, f: (s: Side) => string) => rows.push([label, f(a), f(b)]);
  both('strategy', (s) => s.strategy);
  both('requests', (s) => `${s.requests}${s.ideal !== null ? ` (ideal ${s.ideal})` : ''}`);
  both('bytes', (s) => formatBytes(s.bytes));
  both('wall time', (s) => `${(s.wallMs / 1000).toFixed(2)} s`);
  both('first byte p50 / p99', (s) => `${ms(s.firstByteMs.p50)} / ${ms(s.firstByteMs.p99)}`);
  both('errors', (s) => (s.errors === 0 ? '0' : `${s.errors} (${statusList(s)})`));
  both('retries', (s) => String(s.retries));
  both('waste', (s) => `${s.waste.requests} req, ${formatBytes(s.waste.bytes)}`);
  both('objects delta / loose', (s) => `${s.objects.fromDelta} / ${s.objects.loose}`);
  o.out.write(`${table(rows)}\n`);
  const ratio = a.requests > 0 ? b.requests / a.requests : null;
  if (ratio !== null && a.strategy !== 'objects')
    o.out.write(`\nThe object pull made ${ratio.toFixed(1)}× the requests of the delta pull (${b.requests} vs ${a.requests}).\n`);
  for (const [name, s] of [
    ['with deltas', a],
    ['objects only', b],
  ] as const) {
    if (s.failures.length === 0) continue;
    o.out.write(`\n${bold(o, `Failed attempts (${name})`)}\n`);
    for (const f of s.failures.slice(0, 8)) {
      const what = f.status !== null ? `HTTP ${f.status}` : (f.error ?? 'error');
      const fate = f.recovered ? `retried, succeeded on a later attempt` : f.retried ? 'retried' : 'not retried';
      o.out.write(`  ${what} on ${f.purpose} ${new URL(f.url).pathname} (attempt ${f.attempt}): ${fate}\n`);
    }
    if (s.failures.length > 8) o.out.write(`  … and ${s.failures.length - 8} more (see --json)\n`);
  }
}

function statusList(s: Side): string {
  const parts = Object.entries(s.errorsByStatus).map(([k, v]) => `${v}× ${k}`);
  for (const [k, v] of Object.entries(s.errorsByClass)) if (k !== 'http-status') parts.push(`${v}× ${k}`);
  return parts.join(', ');
}

export const compareCommand: Command = {
  name: 'compare',
  summary: 'Pull a ref twice into throwaway repositories — with static deltas and objects only — and compare the two.',
  usage: 'flathub-fetch compare [REMOTE] REF[@COMMIT] [--from COMMIT] [--connections N] [--arch ARCH] [--json] [--html FILE]',
  help: `Runs the pull a client would make (static deltas preferred) and the same pull object by object
(deltas off), one after the other, each into its own temporary repository (removed afterwards),
and prints them side by side: requests, bytes, wall time, first-byte latency p50/p99, errors,
retries and waste (failed attempts, duplicate fetches, loose objects a delta had already
delivered), then every failed attempt with its URL and whether a retry recovered it.

Options:
  --from COMMIT     start both pulls from a repository holding COMMIT (pulled first, not counted):
                    the delta pull can then use a delta from that revision
  --connections N   connections per server (default 8)
  --arch ARCH       architecture whose Flatpak subsummary to read (default: this machine's)
  --html FILE       write a self-contained HTML report: the two pulls side by side on one time
                    scale (figures, request waterfalls by connection, throughput), each chart
                    with its data table
  --json            print {remote, ref, commit, from, deltas: SIDE, objects: SIDE}, SIDE being
                    {strategy, requests, logicalRequests, byPurpose, ideal, bytes, wallMs,
                    firstByteMs {p50, p99}, errors, errorsByStatus, errorsByClass, retries,
                    waste {requests, bytes}, objects {fromDelta, loose, present},
                    failures [{url, purpose, attempt, status, error, retried, recovered}]}

A progress line is shown on stderr when it is a terminal.

Examples:
  flathub-fetch compare app/org.gnome.Maps/x86_64/stable
  flathub-fetch compare https://example.org/repo/ app/org.example.App/x86_64/stable --from <64-hex commit> --json
`,
  options: { from: { type: 'string' }, connections: { type: 'string' }, arch: { type: 'string' }, html: { type: 'string' } },
  async run(args, o, signal) {
    const { remote, rest } = await splitRemote(args.positionals, 1);
    if (rest.length !== 1) throw new UsageError(rest.length === 0 ? 'missing REF' : `unexpected argument "${rest[1]}"`);
    const from = args.values.from as string | undefined;
    if (from !== undefined && !/^[0-9a-f]{64}$/i.test(from)) throw new UsageError(`--from needs a 64-hex commit, got "${from}"`);
    const connections = integerOption(args, 'connections', 1);
    const arch = args.values.arch as string | undefined;
    const html = args.values.html as string | undefined;
    const { json: result, reports } = await runCompareReports(o, {
      url: (await loadClient()).resolveRemoteUrl(remote).url,
      ref: rest[0] as string,
      ...(from !== undefined ? { from } : {}),
      ...(connections !== undefined ? { http: { connections } } : {}),
      ...(arch ? { arch } : {}),
      signal,
      progress: args.values.json !== true,
    });
    if (html !== undefined) {
      const { renderHtmlReport } = await loadClient();
      const page = renderHtmlReport([{ kind: 'compare', ...reports }], { title: `flathub-fetch compare ${result.ref ?? result.commit}` });
      await writeAtomic(html, page);
      o.err.write(`HTML report: ${html}\n`);
    }
    if (args.values.json === true) writeJson(o, result);
    else renderCompare(o, result);
    return ExitCode.OK;
  },
};

/**
 * Runs the comparison with a progress line on a terminal; shared by `compare` and `demo`.
 * `onComparison` receives the full comparison (both pulls' results and request records), for reports.
 */
export async function runCompare(
  o: Output,
  options: ComparePullsOptions & { progress: boolean; onComparison?: (c: PullComparison) => void },
): Promise<ReturnType<typeof compareJson>> {
  return (await runCompareReports(o, options)).json;
}

/** `runCompare`, with the diagnostics report of each pull (for `--html`). */
export async function runCompareReports(
  o: Output,
  options: ComparePullsOptions & { progress: boolean; onComparison?: (c: PullComparison) => void },
): Promise<{ json: ReturnType<typeof compareJson>; reports: { deltas: PullReport; objects: PullReport } }> {
  const { progress, onComparison, ...rest } = options;
  const bar = progress && o.err.isTTY === true ? new ProgressBar(o.err) : null;
  const label: Record<CompareMode, string> = { deltas: 'with deltas', objects: 'objects only' };
  try {
    const { buildReport, comparePulls } = await loadClient();
    const c = await comparePulls({
      ...rest,
      onEvent: (mode, e, prepare) => {
        if (bar === null) return;
        if (e.type === 'progress') bar.update(e.progress, false, `${prepare ? 'preparing' : label[mode]}:`);
      },
    });
    onComparison?.(c);
    const reports = { deltas: buildReport(c.deltas), objects: buildReport(c.objects) };
    return { json: compareJson(c, (r) => (r === c.deltas ? reports.deltas : reports.objects)), reports };
  } finally {
    bar?.clear();
  }
}
