import { createWriteStream, readFileSync, type WriteStream } from 'node:fs';
import type { FailedPullResult, PullEvent, PullResult } from '@flathub-fetch/client';
import { type Client, loadClient } from '../client.js';
import type { Command } from '../Command.js';
import { ExitCode } from '../exitCodes.js';
import { bold, dim, formatBytes, type Output, table, writeJson } from '../output.js';
import { integerOption } from '../integerOption.js';
import { ProgressBar } from '../progressBar.js';
import { splitRemote } from '../remoteArgs.js';
import { UsageError } from '../UsageError.js';
import { writeAtomic } from '../writeAtomic.js';

/** A compact, stable JSON summary of a pull (the full per-request records come with the diagnostics exports). */
export function pullSummary(r: PullResult) {
  const byPurpose: Record<string, number> = {};
  let wire = 0;
  let retries = 0;
  let errors = 0;
  for (const q of r.requests) {
    byPurpose[q.purpose] = (byPurpose[q.purpose] ?? 0) + 1;
    wire += q.wireBytes;
    if (q.attempt > 1 && q.retryOf !== 'redirect') retries++;
    if (q.error !== null) errors++;
  }
  return {
    remote: r.remote,
    ref: r.ref,
    commit: r.commit,
    repo: r.repo,
    strategy: r.strategy,
    plan: { strategy: r.plan.strategy, reason: r.plan.reason, alternatives: r.plan.alternatives },
    objects: r.objects,
    partsSkipped: r.partsSkipped,
    partsRecovered: r.partsRecovered,
    requests: { total: r.requests.length, byPurpose, retries, errors },
    bytes: { wire },
    durationMs: Math.round(r.durationMs),
    ...(r.verification !== undefined ? { verification: r.verification } : {}),
  };
}

export function renderPull(o: Output, r: PullResult, { buildReport, renderSummaryTable }: Client): void {
  const s = pullSummary(r);
  o.out.write(`${bold(o, 'Pulled')} ${r.ref ?? r.commit} → ${r.commit.slice(0, 12)} into ${r.repo}\n`);
  o.out.write(`strategy: ${s.strategy} — ${r.plan.reason}\n`);
  const decoders = [r.decoders.xz && `xz by ${r.decoders.xz.description}`, r.decoders.zstd && `zstd by ${r.decoders.zstd}`].filter(Boolean);
  if (decoders.length > 0) o.out.write(`decoders: ${decoders.join('; ')}\n`);
  if (r.verification !== undefined) {
    const v = r.verification;
    const sig = (c: typeof v.commit.check) => `good signature from ${c.good?.keyId ?? '?'}, made ${c.good?.created ?? '?'}`;
    o.out.write(`signatures: ${v.summary === null ? '' : `${v.summary.file} ${sig(v.summary.check)}; `}commit ${sig(v.commit.check)}\n`);
  }
  const rows = [['PURPOSE', 'REQUESTS'].map((h) => bold(o, h))];
  for (const [k, v] of Object.entries(s.requests.byPurpose).sort((a, b) => b[1] - a[1])) rows.push([k, String(v)]);
  o.out.write(`${table(rows, [1])}\n`);
  o.out.write(
    `${s.requests.total} requests (${s.requests.retries} retries, ${s.requests.errors} errors), ${formatBytes(s.bytes.wire)}, ` +
      `${s.objects.fromDelta} objects from deltas, ${s.objects.loose} loose, ${s.objects.present} already present, ${(s.durationMs / 1000).toFixed(2)} s\n`,
  );
  o.out.write(`\n${renderSummaryTable(buildReport(r)).join('\n')}\n`);
}

/** The `--json` document: the diagnostics report (schema flathub-fetch/pull-report@1) with the summary's keys kept. */
export function pullJson(r: PullResult, { buildReport, toJSON }: Client) {
  const report = toJSON(buildReport(r));
  const s = pullSummary(r);
  return {
    ...report,
    plan: { ...report.plan, ...s.plan },
    requests: { ...report.requests, ...s.requests },
    bytes: { ...report.bytes, ...s.bytes },
    durationMs: s.durationMs,
    ...(r.verification !== undefined ? { verification: r.verification } : {}),
  };
}

/** Key files given with --gpg-key, else the GPGKey of a .flatpakrepo remote. */
export function readKeyArgs(files: string[] | undefined, fromRemote: string | null): Array<Uint8Array | string> {
  if (files !== undefined && files.length > 0) {
    return files.map((f) => {
      try {
        return new Uint8Array(readFileSync(f));
      } catch (err) {
        throw new UsageError(`--gpg-key ${f}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      }
    });
  }
  return fromRemote === null ? [] : [fromRemote];
}

export const pullCommand: Command = {
  name: 'pull',
  summary: 'Pull a ref (or REF@COMMIT) into a local repository: static deltas first, every object verified.',
  usage:
    'flathub-fetch pull [REMOTE] REF[@COMMIT] --repo DIR [--mode archive|bare-user-only] [--no-deltas | --require-deltas] [--connections N] [--pipelining N|auto] [--stall-timeout SECONDS] [--arch ARCH] [--xz-decoder auto|xz|wasm] [--remote-name NAME | --mirror] [--verify [--gpg-key FILE]] [--json] [--events FILE|-] [--har FILE] [--metrics FILE] [--html FILE]',
  help: `The pull plans first (a delta from your newest complete local commit, a from-scratch delta, or
per-object fetches — whichever costs least), then downloads with retries on transient failures,
verifies every object and writes an ostree-compatible repository (created if missing): archive-z2
by default, or bare-user-only — the mode of a Flatpak per-user installation's repository.
An interrupted pull resumes without re-fetching what was verified.

Options:
  --repo DIR           local repository (required)
  --mode MODE          mode of a repository this creates: archive (default; compressed, servable
                       as a remote) or bare-user-only (plain files, as ~/.local/share/flatpak/repo;
                       less CPU). An existing repository keeps its mode; given, it must match
  --no-deltas          fetch objects only
  --require-deltas     fail unless a static delta can be used
  --connections N      connections per server (default 8)
  --pipelining N|auto  HTTP/1.1 object requests pipelined per connection (default auto: up to 16
                       once the server has answered 4 promptly, one at a time for a cool-down
                       (1 s, doubling while they repeat) after a first byte later than 1 s or a
                       failure; 1 never pipelines; HTTP/2 multiplexes anyway)
  --stall-timeout S    fail when nothing has been received or verified for S seconds while
                       requests are pending (default 120; 0 never). Until then transient
                       failures (503s, resets, timeouts, corrupt bodies) are retried, paced by a
                       retry budget (one retry per successful request plus 10 a second), so an
                       outage shorter than this is ridden out. A permanent error (a required
                       object missing, a corrupt body that repeats, a bad signature) fails at once,
                       and a server that never answered (refused, unknown, connect timeout)
                       after 5 retries
  --arch ARCH          architecture whose Flatpak subsummary to read (default: this machine's)
  --xz-decoder WHICH   decoder for xz delta parts: auto (default: the system's xz program, XZ
                       Utils, when found; else WebAssembly), xz, or wasm. The output and the
                       report ("decoders") say which ran. FLATHUB_FETCH_XZ=PATH|wasm sets it too
  --remote-name NAME   write the ref to refs/remotes/NAME/ (default: origin)
  --mirror             write the ref to refs/heads/ instead
  --verify             require good GPG signatures on the summary and the commit before pulling
                       (exit 3 on a missing or bad signature or an unknown key)
  --gpg-key FILE       public key(s) for --verify (binary or armored; repeatable); default: the
                       GPGKey of a .flatpakrepo REMOTE
  --json               print the JSON report (schema "flathub-fetch/pull-report@1", documented in
                       the client's diagnostics/SCHEMA.md): remote, ref, commit, repo, strategy, plan,
                       objects, requests {total, byPurpose, byStatus, retries, errors, ideal, …},
                       bytes {wire, decoded, …}, waste, errors, retries, connections, latency,
                       throughput, slowest, entries[] (one per HTTP attempt), durationMs
  --events FILE|-      stream pull events as NDJSON (one JSON object per line: plan, request,
                       progress, part (a delta part downloading/decoded/running/applied),
                       part-fallback, done) to FILE, or stdout with "-"
  --har FILE           write every HTTP attempt as HAR 1.2 (open in browser dev tools or a HAR viewer);
                       written for a failed pull too, up to the failure
  --metrics FILE       write Prometheus text metrics (flathub_fetch_*) for node_exporter's textfile
                       collector; written atomically (temporary file, then rename)
  --html FILE          write a self-contained HTML report (no network needed to view it): request
                       waterfall by connection (DNS/connect/TLS/wait/transfer; retries and errors
                       marked), throughput over time, failed attempts, each chart with its data
                       table; written for a failed pull too

A progress line is shown on stderr when it is a terminal. The human output ends with a table of
requests, errors, bytes and latency per purpose, waste, connection reuse and the slowest requests.

Examples:
  flathub-fetch pull app/org.gnome.Maps/x86_64/stable --repo ./repo
  flathub-fetch pull https://example.org/repo/ app/org.example.App/x86_64/stable@<commit> --repo ./repo --json
  flathub-fetch pull ./flathub.flatpakrepo app/org.gnome.Maps/x86_64/stable --repo ./repo --verify
`,
  options: {
    repo: { type: 'string' },
    mode: { type: 'string' },
    'no-deltas': { type: 'boolean' },
    'require-deltas': { type: 'boolean' },
    connections: { type: 'string' },
    pipelining: { type: 'string' },
    'stall-timeout': { type: 'string' },
    'remote-name': { type: 'string' },
    mirror: { type: 'boolean' },
    arch: { type: 'string' },
    'xz-decoder': { type: 'string' },
    events: { type: 'string' },
    har: { type: 'string' },
    metrics: { type: 'string' },
    html: { type: 'string' },
    verify: { type: 'boolean' },
    'gpg-key': { type: 'string', multiple: true },
  },
  async run(args, o, signal) {
    const client = await loadClient();
    const { buildReport, pull, renderHtmlReport, resolveRemoteUrl, toHAR, toNDJSON, toPrometheus } = client;
    const { remote, rest } = await splitRemote(args.positionals, 1);
    if (rest.length !== 1) throw new UsageError(rest.length === 0 ? 'missing REF' : `unexpected argument "${rest[1]}"`);
    const repo = args.values.repo as string | undefined;
    if (repo === undefined) throw new UsageError('--repo DIR is required');
    if (args.values['no-deltas'] === true && args.values['require-deltas'] === true)
      throw new UsageError('--no-deltas and --require-deltas exclude each other');
    const mode = args.values.mode as string | undefined;
    if (mode !== undefined && mode !== 'archive' && mode !== 'bare-user-only')
      throw new UsageError(`--mode must be archive or bare-user-only, got "${mode}"`);
    const xzDecoder = args.values['xz-decoder'] as string | undefined;
    if (xzDecoder !== undefined && xzDecoder !== 'auto' && xzDecoder !== 'xz' && xzDecoder !== 'wasm')
      throw new UsageError(`--xz-decoder must be auto, xz or wasm, got "${xzDecoder}"`);
    const connections = integerOption(args, 'connections', 1);
    const pipelining = args.values.pipelining === 'auto' ? ('auto' as const) : integerOption(args, 'pipelining', 1);
    const stallSeconds = integerOption(args, 'stall-timeout', 0);
    const eventsPath = args.values.events as string | undefined;
    if (eventsPath === '-' && args.values.json === true)
      throw new UsageError('--events - and --json both write to stdout; give --events a FILE');
    const events: NodeJS.WritableStream | WriteStream | null =
      eventsPath === undefined ? null : eventsPath === '-' ? o.out : createWriteStream(eventsPath);
    const bar = o.err.isTTY === true && args.values.json !== true && eventsPath !== '-' ? new ProgressBar(o.err) : null;
    const onEvent = (e: PullEvent) => {
      events?.write(toNDJSON(e));
      if (bar === null) return;
      if (e.type === 'progress') bar.update(e.progress);
      else if (e.type === 'plan') {
        bar.clear();
        o.err.write(dim(o, `plan: ${e.plan.strategy} — ${e.plan.reason}\n`));
      } else if (e.type === 'part-fallback') {
        bar.clear();
        o.err.write(dim(o, `delta part ${e.part} failed (${e.reason}); fetching its objects individually\n`));
      }
    };
    const arch = args.values.arch as string | undefined;
    const resolved = resolveRemoteUrl(remote);
    const gpgKeys = readKeyArgs(args.values['gpg-key'] as string[] | undefined, resolved.gpgKey);
    const verify = args.values.verify === true;
    if (verify && gpgKeys.length === 0) throw new UsageError('--verify needs a key: --gpg-key FILE, or a .flatpakrepo REMOTE with GPGKey');
    const har = args.values.har as string | undefined;
    const metrics = args.values.metrics as string | undefined;
    const html = args.values.html as string | undefined;
    const writeExports = async (result: PullResult | FailedPullResult) => {
      if (har === undefined && metrics === undefined && html === undefined) return;
      const report = buildReport(result);
      if (har !== undefined) await writeAtomic(har, `${JSON.stringify(toHAR(report), null, 2)}\n`);
      if (metrics !== undefined) await writeAtomic(metrics, toPrometheus(report, result.ref === null ? {} : { ref: result.ref }));
      if (html !== undefined) {
        await writeAtomic(
          html,
          renderHtmlReport([{ kind: 'pull', report }], { title: `flathub-fetch pull ${result.ref ?? result.commit}` }),
        );
        o.err.write(`HTML report: ${html}\n`);
      }
    };
    try {
      const result = await pull({
        url: resolved.url,
        ...(verify ? { verify, gpgKeys } : {}),
        ref: rest[0] as string,
        repo,
        ...(mode !== undefined ? { repoMode: mode } : {}),
        deltas: args.values['no-deltas'] === true ? 'never' : args.values['require-deltas'] === true ? 'require' : 'prefer',
        remote: args.values.mirror === true ? null : ((args.values['remote-name'] as string | undefined) ?? 'origin'),
        http: {
          ...(connections !== undefined ? { connections } : {}),
          ...(pipelining !== undefined ? { pipelining } : {}),
          ...(stallSeconds !== undefined ? { stallTimeout: stallSeconds * 1000 } : {}),
        },
        ...(arch ? { arch } : {}),
        ...(xzDecoder !== undefined ? { xzDecoder } : {}),
        signal,
        onEvent,
      });
      bar?.clear();
      await writeExports(result);
      if (args.values.json === true) writeJson(o, pullJson(result, client));
      else if (eventsPath !== '-') renderPull(o, result, client);
      return ExitCode.OK;
    } catch (err) {
      // A failed pull still gets its HAR and metrics: every attempt up to the failure.
      bar?.clear();
      const partial = client.failedPullResult(err);
      if (partial !== null) await writeExports(partial).catch(() => undefined);
      throw err;
    } finally {
      bar?.clear();
      if (events !== null && events !== o.out) await new Promise<void>((resolve) => (events as WriteStream).end(resolve));
    }
  },
};
