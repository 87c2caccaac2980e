/**
 * The download half of an install or update: price every operation (exact for deltas), let the
 * caller confirm, then — holding libostree's and flatpak's repository locks, so a concurrent
 * prune can neither delete objects this pull counts on nor see a ref half-written — pull each
 * ref at the commit that was listed into the installation's repository (signatures verified as
 * the remote's config demands, every object verified, refs written last), reporting one
 * progress for the whole transaction.
 */
import { readFileSync } from 'node:fs';
import { FlathubFetchError } from '../errors/FlathubFetchError.js';
import { ErrorCodes } from '../errors/codes.js';
import type { Transport } from '../http/Transport.js';
import { planPull } from '../pull/planPull.js';
import type { PullHttpOptions } from '../pull/PullOptions.js';
import type { PullStrategy } from '../pull/PullPlan.js';
import type { PullResult } from '../pull/PullResult.js';
import type { Remote } from '../remote/Remote.js';
import { LocalRepo } from '../repo/LocalRepo.js';
import { pullOn, type SharedRemote } from '../api/pull.js';
import type { Installation, InstallationRemote } from './Installation.js';
import { installationLockFiles, lockFiles } from './RepoLock.js';
import { type InstallOp, pullSubpaths } from './resolveRefs.js';

export interface PlannedOp extends InstallOp {
  /** How it will be fetched (`up-to-date`: the commit is already in the repository, only deploying is left). */
  strategy: PullStrategy;
  /** Bytes to download: exact for deltas, approximate for objects, null when unknown (subpath pulls: at most `downloadSize`). */
  downloadBytes: number | null;
  estimate: 'exact' | 'approximate' | 'unknown';
}

export interface TransactionProgress {
  /** Index (0-based) of the operation being downloaded, and how many there are. */
  index: number;
  count: number;
  ref: string;
  bytes: { done: number; total: number };
  requests: number;
  elapsed: number;
}

export type InstallEvent =
  | { type: 'plan'; ops: PlannedOp[] }
  | { type: 'lock-wait'; files: readonly string[] }
  | { type: 'progress'; progress: TransactionProgress }
  | { type: 'op-done'; op: PlannedOp; result: PullResult };

export interface TransactionOptions {
  /** Asked with the priced list before anything is downloaded; false cancels. @default proceed */
  confirm?: (ops: PlannedOp[]) => boolean | Promise<boolean>;
  /** HTTP options of every pull of the transaction (see `PullOptions.http`, whose defaults apply). */
  http?: PullHttpOptions;
  transport?: Transport;
  signal?: AbortSignal | undefined;
  onEvent?: (event: InstallEvent) => void;
}

export interface TransactionResult {
  installation: Installation;
  ops: PlannedOp[];
  /** The pull of each operation, in order (empty when cancelled). */
  pulls: PullResult[];
  cancelled: boolean;
  durationMs: number;
}

/** Prices `ops` against the installation's repository with the already opened `remote`. */
export async function priceOps(
  inst: Installation,
  remote: Remote,
  ops: readonly InstallOp[],
  { signal }: { signal?: AbortSignal | undefined } = {},
): Promise<PlannedOp[]> {
  const repo = await LocalRepo.open(inst.repoPath);
  try {
    const out: PlannedOp[] = [];
    for (const o of ops) {
      if (o.subpaths !== null && o.subpaths.length > 0) {
        const present = (await repo.readRef(o.ref, { remote: o.remote })) === o.commit && !(await repo.isPartial(o.commit));
        out.push({
          ...o,
          strategy: present ? 'up-to-date' : 'objects',
          downloadBytes: present ? 0 : null,
          estimate: present ? 'exact' : 'unknown',
        });
        continue;
      }
      const { plan } = await planPull({
        remote,
        repo,
        target: o.commit,
        ref: o.ref,
        deltas: 'prefer',
        fullPlan: false,
        costModel: { bandwidth: 6_250_000, rttMs: 50 },
        parallelism: 128,
        signal,
      });
      const chosen = plan.chosen;
      out.push({
        ...o,
        strategy: plan.strategy,
        downloadBytes: chosen === null ? 0 : chosen.bytes,
        estimate: chosen === null ? 'exact' : chosen.estimate,
      });
    }
    return out;
  } finally {
    await repo.close();
  }
}

/** Downloads the planned operations into the installation's repository under its locks. */
export async function runTransaction(
  inst: Installation,
  remotes: ReadonlyMap<string, { config: InstallationRemote; shared: SharedRemote }>,
  planned: PlannedOp[],
  options: TransactionOptions,
): Promise<TransactionResult> {
  const started = performance.now();
  const emit = options.onEvent ?? (() => {});
  emit({ type: 'plan', ops: planned });
  if (options.confirm !== undefined && !(await options.confirm(planned))) {
    return { installation: inst, ops: planned, pulls: [], cancelled: true, durationMs: performance.now() - started };
  }
  const files = installationLockFiles(inst.path, inst.repoPath);
  emit({ type: 'lock-wait', files });
  const lock = await lockFiles(files, 'shared', { signal: options.signal });
  const pulls: PullResult[] = [];
  try {
    const expected = planned.map((p) => p.downloadBytes ?? p.downloadSize ?? 0);
    let doneBefore = 0;
    let requestsBefore = 0;
    for (let i = 0; i < planned.length; i++) {
      const op = planned[i] as PlannedOp;
      const entry = remotes.get(op.remote);
      if (entry === undefined) throw new Error(`internal: remote ${op.remote} not resolved`);
      const r = entry.config;
      const gpgKeys = r.gpgVerify ? [trustedKeys(r)] : [];
      const subpaths = pullSubpaths(op.subpaths);
      let lastDone = 0;
      // Every pull of the transaction on the remote opened once (no config/summary per ref).
      const result = await pullOn(
        {
          url: r.url,
          ref: `${op.ref}@${op.commit}`,
          repo: inst.repoPath,
          remote: op.remote,
          ...(subpaths !== undefined ? { subpaths } : {}),
          verify: r.gpgVerify,
          gpgKeys,
          ...(options.http !== undefined ? { http: options.http } : {}),
          ...(options.transport !== undefined ? { transport: options.transport } : {}),
          signal: options.signal,
          onEvent: (e) => {
            if (e.type !== 'progress') return;
            expected[i] = Math.max(expected[i] ?? 0, e.progress.bytes.total);
            lastDone = e.progress.bytes.done;
            const done = doneBefore + lastDone;
            const total = Math.max(
              done,
              expected.reduce((n, x) => n + x, 0),
            );
            emit({
              type: 'progress',
              progress: {
                index: i,
                count: planned.length,
                ref: op.ref,
                bytes: { done, total },
                requests: requestsBefore + e.progress.requests,
                elapsed: performance.now() - started,
              },
            });
          },
        },
        entry.shared,
      );
      expected[i] = lastDone;
      doneBefore += lastDone;
      requestsBefore += result.requests.length;
      pulls.push(result);
      emit({ type: 'op-done', op, result });
    }
  } finally {
    await lock.release();
  }
  return { installation: inst, ops: planned, pulls, cancelled: false, durationMs: performance.now() - started };
}

/** The remote's trusted keys (ERR_SIGNATURE when it demands signatures but has none: checked before anything is fetched). */
export function trustedKeys(r: InstallationRemote): Uint8Array {
  if (r.trustedKeys === null) {
    throw new FlathubFetchError(
      ErrorCodes.SIGNATURE,
      `remote ${r.name} has gpg-verify=true but no trusted keys (no ${r.name}.trustedkeys.gpg in the installation's repository)`,
      { what: `remote ${r.name}`, verdict: 'no-key', reason: 'no trusted keys' },
    );
  }
  return readFileSync(r.trustedKeys);
}
