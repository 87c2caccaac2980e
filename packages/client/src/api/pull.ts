/**
 * `pull()`: bring a ref (or commit) of a remote repository into a local archive repository,
 * static deltas first, every object verified, every request recorded.
 *
 * Order of work (crash-safe: an interrupted pull leaves the commit marked partial and every
 * object written verified, so the next pull resumes without re-fetching them):
 * open remote → resolve target → plan → mark partial → delta (commit, parts, fallbacks) →
 * walk the commit and fetch anything still missing → clear partial → write the ref.
 */
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import createDebug from 'debug';
import { FlathubFetchError, isFlathubFetchError } from '../errors/FlathubFetchError.js';
import { ErrorCodes } from '../errors/codes.js';
import { type Checksum, parseChecksum } from '../formats/checksum.js';
import { objectPath } from '../formats/paths.js';
import { xzDecoderInfo } from '../formats/xzDecoders.js';
import { ObjectType } from '../formats/ObjectType.js';
import { applyDelta } from '../pull/applyDelta.js';
import { ObjectFetcher } from '../pull/ObjectFetcher.js';
import { KnownDirTrees } from '../pull/KnownDirTrees.js';
import type { PullContext } from '../pull/PullContext.js';
import { type PullOptions, type ResolvedPullOptions, resolvePullOptions } from '../pull/PullOptions.js';
import type { PullPlan } from '../pull/PullPlan.js';
import { planPull } from '../pull/planPull.js';
import { ProgressTracker } from '../pull/ProgressTracker.js';
import type { PullResult } from '../pull/PullResult.js';
import { LocalRepo } from '../repo/LocalRepo.js';
import { GpgKeyring } from '../trust/GpgKeyring.js';
import { Remote, type RemoteOptions } from '../remote/Remote.js';
import type { RequestRecord } from '../http/RequestRecord.js';
import { verifyRemoteSignatures } from './verifyRemoteSignatures.js';

const debug = createDebug('flathub-fetch:pull');

/** Splits `REF@COMMIT` (an older commit of a ref, as in ostree) or a bare commit. */
export function parsePullTarget(spec: string): { ref: string | null; commit: Checksum | null } {
  const at = spec.lastIndexOf('@');
  if (at > 0) return { ref: spec.slice(0, at), commit: parseChecksum(spec.slice(at + 1), `commit in "${spec}"`) };
  if (/^[0-9a-fA-F]{64}$/.test(spec)) return { ref: null, commit: parseChecksum(spec) };
  return { ref: spec, commit: null };
}

/** What a pull had done when it failed, attached to its error (see `failedPullResult`). */
const PARTIAL = Symbol('flathub-fetch partial pull result');

/**
 * The partial result of a failed `pull()`, from the error it rejected with: every HTTP attempt
 * made until then, the plan (when planning was reached) and `failure` ({ code, message }), so a
 * report (HAR, metrics, JSON) can still be written for a pull that failed. Null for any other error.
 */
export function failedPullResult(err: unknown): PullResult | null {
  return (err as { [PARTIAL]?: PullResult } | null)?.[PARTIAL] ?? null;
}

interface PullState {
  target: Checksum | null;
  plan: PullPlan | null;
}

/**
 * A remote opened once for several pulls from it (a transaction of `installRefs`): each pull
 * routes the remote's request records to itself while it runs, and does not close it. Pulls
 * on one shared remote run one after the other.
 */
export interface SharedRemote {
  remote: Remote;
  route(onRecord: ((record: RequestRecord) => void) | null): void;
}

/** Opens `url` as `pull()` would (same HTTP options and summary cache) for pulls that share it. */
export async function openSharedRemote(options: PullOptions): Promise<SharedRemote> {
  const o = resolvePullOptions(options);
  let current: ((record: RequestRecord) => void) | null = null;
  const remote = await Remote.open(
    o.url,
    remoteOptions(o, (r) => current?.(r)),
  );
  return {
    remote,
    route: (fn) => {
      current = fn;
    },
  };
}

function remoteOptions(o: ResolvedPullOptions, onRecord: (record: RequestRecord) => void): RemoteOptions {
  return {
    ...(o.transport ? { transport: o.transport } : {}),
    ...(o.arch ? { arch: o.arch } : {}),
    ...(o.signal ? { signal: o.signal } : {}),
    cacheDir: join(o.repo, 'tmp', 'cache', 'flathub-fetch', 'summaries'),
    http: {
      ...o.http,
      connections: o.connections,
      maxInFlight: o.maxInFlight,
      pipelining: o.pipelining,
      retry: typeof o.http.retry === 'object' ? { ...o.http.retry, retries: o.retries } : o.retries,
      stallTimeout: o.stallTimeout,
      onRecord,
    },
  };
}

export async function pull(options: PullOptions): Promise<PullResult> {
  return pullOn(options, null);
}

/** `pull()` on an already opened remote (`shared`), or on its own when null. */
export async function pullOn(options: PullOptions, shared: SharedRemote | null): Promise<PullResult> {
  const o = resolvePullOptions(options);
  const tracker = new ProgressTracker(o.onEvent);
  const state: PullState = { target: null, plan: null };
  try {
    return await pullWith(o, tracker, state, shared);
  } catch (err) {
    if (err !== null && typeof err === 'object') {
      const failure = isFlathubFetchError(err)
        ? { code: err.code, message: err.message }
        : { code: ErrorCodes.UNKNOWN, message: String(err) };
      const plan: PullPlan = state.plan ?? {
        remote: o.url,
        ref: null,
        target: state.target ?? '',
        strategy: 'objects',
        reason: `the pull failed before it was planned (${failure.message})`,
        chosen: null,
        alternatives: [],
        superblockDigest: null,
        localCommits: [],
      };
      const partial: PullResult = {
        remote: o.url,
        ref: parsePullTargetOrNull(o.ref),
        commit: state.target ?? '',
        repo: o.repo,
        plan,
        strategy: plan.strategy,
        objects: { fromDelta: 0, loose: 0, present: 0 },
        partsSkipped: 0,
        partsRecovered: 0,
        decoders: { xz: null, zstd: null },
        requests: tracker.records,
        durationMs: tracker.elapsedMs,
        failure,
      };
      Object.defineProperty(err, PARTIAL, { value: partial, enumerable: false, configurable: true });
    }
    throw err;
  }
}

function parsePullTargetOrNull(spec: string): string | null {
  try {
    return parsePullTarget(spec).ref;
  } catch {
    return null;
  }
}

async function pullWith(
  o: ResolvedPullOptions,
  tracker: ProgressTracker,
  state: PullState,
  shared: SharedRemote | null,
): Promise<PullResult> {
  // The local repository is opened (or created) while the remote's config and summary are on the
  // wire; one this pull created is removed again if the remote cannot be opened.
  const created = !existsSync(o.repo);
  const opening = LocalRepo.openOrCreate(o.repo, { mode: o.repoMode });
  opening.catch(() => {}); // awaited below
  /** Set once the pull writes into the repository (from the partial marker on). */
  let written = false;
  // Closes the local repository; after a failure, removes it if this pull created it and never
  // wrote into it (the remote could not be opened, the ref did not resolve…).
  const closeRepo = async (failed: boolean) => {
    await (await opening.catch(() => null))?.close();
    if (failed && created && !written) await removeRepo(o.repo);
  };
  shared?.route((r) => tracker.onRecord(r));
  const remote =
    shared?.remote ??
    (await Remote.open(
      o.url,
      remoteOptions(o, (r) => tracker.onRecord(r)),
    ).catch(async (err: unknown) => {
      await closeRepo(true);
      throw err;
    }));
  let failed = false;
  let warming: ReturnType<typeof setImmediate> | undefined;
  try {
    const spec = parsePullTarget(o.ref);
    const target = spec.commit ?? (await remote.resolve(spec.ref as string, { signal: o.signal })).commit;
    state.target = target;
    const repo = await opening;
    // A commit already here (a resumed pull) is verified from its local bytes: no refetch.
    const verification = o.verify
      ? await verifyRemoteSignatures(remote, target, await GpgKeyring.from(o.gpgKeys), o.signal, await localCommit(repo, target))
      : undefined;
    repo.assertWritable();
    const ctx: PullContext = {
      remote,
      repo,
      tracker,
      maxInFlight: o.maxInFlight,
      partConcurrency: o.partConcurrency,
      xzDecoder: o.xzDecoder,
      xzBackends: new Set(),
      signal: o.signal,
      knownDirTrees: new KnownDirTrees(),
      ready: Promise.resolve(),
    };
    const { plan, superblocks } = await planPull({
      remote,
      repo,
      target,
      ref: spec.ref,
      deltas: o.deltas,
      fullPlan: o.fullPlan,
      costModel: o.costModel,
      parallelism: o.maxInFlight,
      signal: o.signal,
    });
    state.plan = plan;
    o.onEvent({ type: 'plan', plan });
    // Object sizes are learnt as they arrive: the plan's estimate gives the progress total early.
    // (Not for a subpath pull: the summary's size is the whole commit's.)
    if (plan.chosen?.strategy === 'objects' && plan.chosen.bytes !== null && o.subpaths === null)
      tracker.expectBytesAtLeast(plan.chosen.bytes);
    debug('plan: %s (%s)', plan.strategy, plan.reason);
    const fetcher = new ObjectFetcher(ctx);
    let strategy = plan.strategy;
    let fromDelta = 0;
    let partsSkipped = 0;
    let partsRecovered = 0;
    let delta: PullResult['delta'];
    if (plan.strategy !== 'up-to-date') {
      // The first requests go out while the commit is marked partial (an fsync: ~85 ms on this
      // VM's disk) and the objects/XX directories are made; nothing is written before. The
      // content workers start once those requests are on the wire: their start-up then overlaps
      // the first round trip.
      written = true;
      ctx.ready = Promise.all([repo.markPartial(target), repo.prepareObjectDirs()]).then(() => undefined);
      ctx.ready.catch(() => {}); // awaited by every write and below
      warming = setImmediate(() => repo.warmWorkers());
      if (plan.chosen?.delta != null) {
        const name = plan.chosen.delta;
        let sb: Awaited<ReturnType<typeof remote.superblock>> | undefined;
        try {
          sb =
            superblocks.get(name) ??
            (await remote.superblock(plan.chosen.from, target, { digest: plan.superblockDigest, signal: o.signal }));
          const outcome = await applyDelta(ctx, sb, fetcher);
          fromDelta = outcome.objectsFromDelta;
          partsSkipped = outcome.partsSkipped;
          partsRecovered = outcome.partsRecovered;
        } catch (err) {
          // A broken superblock (missing, corrupt) is not fatal unless deltas are required.
          if (o.deltas === 'require' || o.signal?.aborted || !isFlathubFetchError(err) || err.code === ErrorCodes.ABORTED) throw err;
          debug('delta %s failed (%s): falling back to objects', name, err.message);
          tracker.emitEvent({ type: 'part-fallback', part: -1, reason: err.message });
          strategy = 'objects';
        }
        // The result's description of the delta, built after it ran (not in the way of its requests).
        if (sb !== undefined) {
          const header = sb;
          delta = {
            name,
            parts: header.parts.map((p) => ({
              index: p.index,
              inline: header.inlineParts.has(p.index),
              objects: p.objects.map((x) => objectPath(x.checksum, x.type)),
            })),
          };
        }
      }
      tracker.setPhase(strategy === 'objects' ? 'objects' : 'verify');
      await fetcher.fetchCommitTree(target, o.subpaths);
      await ctx.ready;
      // A subpath pull leaves the commit partial (as libostree does); its objects are flushed
      // before the ref is written all the same.
      if (o.subpaths === null) await repo.clearPartial(target);
      else await repo.flush();
    }
    if (spec.ref !== null) await repo.writeRef(spec.ref, target, o.remote === null ? {} : { remote: o.remote });
    tracker.setPhase('done');
    const result: PullResult = {
      remote: remote.url,
      ref: spec.ref,
      commit: target,
      repo: o.repo,
      plan,
      strategy,
      // The final tree walk finds the delta's objects present too: they are not "already present".
      objects: { fromDelta, loose: fetcher.fetched, present: Math.max(0, fetcher.present - fromDelta) },
      partsSkipped,
      partsRecovered,
      ...(delta !== undefined ? { delta } : {}),
      ...(verification !== undefined ? { verification } : {}),
      decoders: decodersUsed(ctx, tracker.records),
      requests: tracker.records,
      durationMs: tracker.elapsedMs,
    };
    o.onEvent({ type: 'done', result });
    return result;
  } catch (err) {
    failed = true;
    if (o.signal?.aborted && !(isFlathubFetchError(err) && err.code === ErrorCodes.ABORTED)) {
      throw new FlathubFetchError(ErrorCodes.ABORTED, `pull of ${o.ref} from ${remote.url} aborted`, { url: remote.url }, { cause: err });
    }
    throw err;
  } finally {
    clearImmediate(warming);
    if (shared === null) await remote.close();
    else shared.route(null);
    await closeRepo(failed);
  }
}

/** The decoders that ran in a pull (see PullResult.decoders). */
function decodersUsed(ctx: PullContext, records: readonly RequestRecord[]): PullResult['decoders'] {
  const xz = ctx.xzBackends.size === 0 ? null : xzDecoderInfo(ctx.xzBackends.has('xz') ? 'xz' : 'wasm');
  const zstd = records.some((r) => r.contentEncoding === 'zstd') ? `node:zlib (zstd ${process.versions.zstd ?? 'built in'})` : null;
  return { xz, zstd };
}

/** The commit and its detached metadata when the repository has the commit, for signature checks. */
async function localCommit(repo: LocalRepo, commit: Checksum): Promise<{ commit: Uint8Array; meta: Uint8Array | null } | undefined> {
  const bytes = await repo.readObjectBytes(ObjectType.COMMIT, commit);
  if (bytes === null) return undefined;
  return { commit: bytes, meta: await repo.readObjectBytes(ObjectType.COMMIT_META, commit) };
}

/** Removes a repository this pull created (best effort: the pull's own error is what matters). */
async function removeRepo(path: string): Promise<void> {
  await rm(path, { recursive: true, force: true }).catch((err: unknown) => debug('could not remove %s: %s', path, String(err)));
}
