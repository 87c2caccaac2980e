/**
 * One probe of one target with one module, as Prometheus text: blackbox_exporter's
 * `probe_success` and `probe_duration_seconds`, then the module's own metrics (a mirror check's
 * `flathub_fetch_mirror_*`, a pull's `flathub_fetch_*`). A probe never throws: a failure is
 * `probe_success 0` with `flathub_fetch_probe_failure_info{code}` naming why.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { failedPullResult, pull } from '../api/pull.js';
import { buildReport } from '../diagnostics/buildReport.js';
import { toPrometheus } from '../diagnostics/toPrometheus.js';
import { FlathubFetchError } from '../errors/FlathubFetchError.js';
import { ErrorCodes } from '../errors/codes.js';
import type { Transport, TransportRequest } from '../http/Transport.js';
import { UndiciTransport } from '../http/UndiciTransport.js';
import { checkMirrors } from '../mirrors/checkMirrors.js';
import { mirrorsToPrometheus } from '../mirrors/mirrorsToPrometheus.js';
import type { PullResult } from '../pull/PullResult.js';
import { removeTree } from '../repo/removeTree.js';
import type { DoctorModule, ExporterModule, MirrorModule, PullModule } from './ExporterConfig.js';
import { diagnoseConnection } from '../diagnostics/doctor/diagnoseConnection.js';
import { doctorToPrometheus } from '../diagnostics/doctor/doctorToPrometheus.js';
import { allowedTarget } from './targets.js';
import { throwIfAborted } from '../errors/abortError.js';

export interface ProbeOutcome {
  success: boolean;
  /** Why it failed (an error code, or `check-failed` for a mirror whose verdict is fail), or null. */
  failure: string | null;
  message: string | null;
  durationSeconds: number;
  /** Prometheus text exposition format 0.0.4. */
  text: string;
}

const escapeLabel = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');

/** Runs the module against `target` (already checked against the module's allow-list) until `signal` aborts. */
export async function runProbe(module: ExporterModule, target: string, { signal }: { signal: AbortSignal }): Promise<ProbeOutcome> {
  const t0 = performance.now();
  let body = '';
  let failure: string | null = null;
  let message: string | null = null;
  try {
    throwIfAborted(signal, `probe of ${target}`, { url: target });
    const r =
      module.prober === 'mirror'
        ? await probeMirror(module, target, { signal })
        : module.prober === 'pull'
          ? await probePull(module, target, { signal })
          : await probeDoctor(module, target, { signal });
    body = r.text;
    failure = r.failure;
    message = r.message;
  } catch (err) {
    failure = signal.aborted ? ErrorCodes.ABORTED : ((err as { code?: string }).code ?? 'error');
    message = signal.aborted ? `timed out (${String(signal.reason?.message ?? signal.reason)})` : (err as Error).message;
    if (module.prober === 'pull') {
      const partial = failedPullResult(err);
      if (partial !== null) body = toPrometheus(buildReport(partial), { ref: module.ref });
    }
  }
  const durationSeconds = (performance.now() - t0) / 1000;
  const head = [
    '# HELP probe_success Whether the probe succeeded (1) or failed (0).',
    '# TYPE probe_success gauge',
    `probe_success ${failure === null ? 1 : 0}`,
    '# HELP probe_duration_seconds How long the probe took, seconds.',
    '# TYPE probe_duration_seconds gauge',
    `probe_duration_seconds ${durationSeconds}`,
  ];
  if (failure !== null) {
    head.push(
      '# HELP flathub_fetch_probe_failure_info Why the probe failed: an error code or check-failed (value 1).',
      '# TYPE flathub_fetch_probe_failure_info gauge',
      `flathub_fetch_probe_failure_info{code="${escapeLabel(failure)}"} 1`,
    );
  }
  return { success: failure === null, failure, message, durationSeconds, text: `${head.join('\n')}\n${body}` };
}

/** The connection doctor: a probe fails when it finds a problem (warnings and information do not fail it). */
async function probeDoctor(m: DoctorModule, target: string, { signal }: { signal: AbortSignal }) {
  // The doctor only talks to the target's host (its addresses, over the target's scheme and port).
  const result = await diagnoseConnection({ url: target, objects: m.objects, ...(m.ref !== null ? { ref: m.ref } : {}), signal });
  const problems = result.findings.filter((f) => f.severity === 'problem');
  return {
    text: doctorToPrometheus(result),
    failure: problems.length > 0 ? 'check-failed' : null,
    message: problems.length > 0 ? problems.map((f) => f.text).join('; ') : null,
  };
}

async function probeMirror(m: MirrorModule, target: string, { signal }: { signal: AbortSignal }) {
  const primaryPrefix = new URL(m.primary).href;
  const result = await checkMirrors({
    primary: m.primary,
    mirrors: [target],
    refs: m.refs,
    maxRefs: m.maxRefs,
    sample: m.sample,
    gpgKeys: m.gpgKeys,
    maxLag: m.maxLag,
    connections: m.connections,
    // A mirror may redirect to the primary (a redirecting cache) or within the allow-list, nowhere else.
    allowUrl: (url) => url.startsWith(primaryPrefix) || allowedTarget(url, m.targets) !== null,
    signal,
  });
  const fail = result.status === 'fail';
  const failed = result.mirrors.flatMap((x) => x.checks.filter((c) => c.status === 'fail').map((c) => `${c.name}: ${c.summary}`));
  return { text: mirrorsToPrometheus(result), failure: fail ? 'check-failed' : null, message: fail ? failed.join('; ') : null };
}

/** Refuses any request (a redirect included) outside the module's allow-list, then hands it on. */
class AllowListTransport implements Transport {
  readonly enforcesTimeouts: boolean;
  constructor(
    private readonly inner: Transport,
    private readonly prefixes: readonly string[],
  ) {
    this.enforcesTimeouts = inner.enforcesTimeouts === true;
  }
  request(request: TransportRequest) {
    const href = request.url.href;
    if (allowedTarget(href, this.prefixes) === null) {
      return Promise.reject(
        new FlathubFetchError(ErrorCodes.REDIRECT, `${href} refused: not under the exporter's allowed targets`, {
          url: href,
          location: href,
          reason: 'not an allowed target',
          purpose: 'other',
        }),
      );
    }
    return this.inner.request(request);
  }
  close() {
    return this.inner.close();
  }
}

async function probePull(m: PullModule, target: string, { signal }: { signal: AbortSignal }) {
  const dir = await mkdtemp(join(m.workDir ?? tmpdir(), 'flathub-fetch-probe-'));
  const transport = new AllowListTransport(new UndiciTransport({ connections: m.connections, allowH2: true }), m.targets);
  try {
    const result: PullResult = await pull({
      url: target,
      ref: m.ref,
      repo: join(dir, 'repo'),
      remote: null,
      deltas: m.deltas,
      http: { connections: m.connections },
      transport,
      signal,
    });
    return { text: toPrometheus(buildReport(result), { ref: m.ref }), failure: null, message: null };
  } finally {
    await transport.close();
    await removeTree(dir);
  }
}
