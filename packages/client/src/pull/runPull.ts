/**
 * The pull engine behind `pull()`: bring a ref (or commit) of a remote repository into a local
 * repository, static deltas first, every object verified, every request recorded.
 *
 * Order of work: open the remote (while the local repository is opened or created) → resolve
 * the target → check signatures (`verify`) → plan → begin a repository transaction for the
 * target (the commit is marked partial while the first requests are on the wire) → delta
 * (commit, parts, fallbacks) → walk the commit and fetch anything still missing → commit the
 * transaction (objects flushed, partial marker cleared, ref written).
 *
 * Crash-safe: an interrupted pull leaves the commit marked partial and every object written
 * verified (see `RepoTransaction`), so the next pull resumes without re-fetching them. A failed
 * pull aborts its transaction; a repository this pull created and never began writing into is
 * removed again.
 */
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import createDebug from 'debug';
import { FlathubFetchError, isFlathubFetchError } from '../errors/FlathubFetchError.js';
import { ErrorCodes } from '../errors/codes.js';
import { type Checksum, parseChecksum } from '../formats/checksum.js';
import { ObjectType } from '../formats/ObjectType.js';
import { objectPath } from '../formats/paths.js';
import { findXzProgram, xzDecoderInfo } from '../formats/xzDecoders.js';
import type { RequestLog } from '../http/RequestLog.js';
import type { RequestRecord } from '../http/RequestRecord.js';
import { Remote, type RemoteOptions } from '../remote/Remote.js';
import { LocalRepo } from '../repo/LocalRepo.js';
import type { RepoTransaction } from '../repo/RepoTransaction.js';
import { GpgKeyring } from '../trust/GpgKeyring.js';
import { applyDelta } from './applyDelta.js';
import { KnownDirTrees } from './KnownDirTrees.js';
import { ObjectFetcher } from './ObjectFetcher.js';
import { planPull } from './planPull.js';
import type { ProgressTracker } from './ProgressTracker.js';
import type { PullContext } from './PullContext.js';
import type { ResolvedPullOptions } from './PullOptions.js';
import type { PullPlan } from './PullPlan.js';
import type { PullResult } from './PullResult.js';
import { verifyRemoteSignatures } from './verifyRemoteSignatures.js';

const debug = createDebug('flathub-fetch:pull');

/** Splits `REF@COMMIT` (an older commit of a ref, as in ostree) or a bare commit. */
export function parsePullTarget(spec: string): { ref: string | null; commit: Checksum | null } {
  const at = spec.lastIndexOf('@');
  if (at > 0) return { ref: spec.slice(0, at), commit: parseChecksum(spec.slice(at + 1), `commit in "${spec}"`) };
  if (/^[0-9a-fA-F]{64}$/.test(spec)) return { ref: null, commit: parseChecksum(spec) };
  return { ref: spec, commit: null };
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

/** What a pull has established so far: the partial result of a failed pull is made of it. */
export interface PullProgressFacts {
  /** The commit being pulled, once resolved. */
  target: Checksum | null;
  /** The plan, once made. */
  plan: PullPlan | null;
}

/** How a pull opens its remote (HTTP options, summary cache in the repository's `tmp/`). */
export function pullRemoteOptions(o: ResolvedPullOptions, onRecord: (record: RequestRecord) => void): RemoteOptions {
  return {
    ...(o.transport ? { transport: o.transport } : {}),
    ...(o.arch ? { arch: o.arch } : {}),
    ...(o.signal ? { signal: o.signal } : {}),
    cacheDir: join(o.repo, 'tmp', 'cache', 'flathub-fetch', 'summaries'),
    http: { ...o.http, onRecord },
  };
}

/** A promise's outcome as a value: started now, looked at later, never an unhandled rejection. */
type Outcome<T> = { value: T } | { error: unknown };

function outcome<T>(p: Promise<T>): Promise<Outcome<T>> {
  return p.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
}

async function settledValue<T>(o: Promise<Outcome<T>>): Promise<T> {
  const r = await o;
  if ('error' in r) throw r.error;
  return r.value;
}

/**
 * Runs one pull. `facts` is filled in as the pull goes (for the caller's partial result of a
 * failure); `shared` is a remote opened by the caller (else the pull opens and closes its own).
 */
export async function runPull(
  o: ResolvedPullOptions,
  run: { tracker: ProgressTracker; facts: PullProgressFacts; shared: SharedRemote | null },
): Promise<PullResult> {
  const { tracker, facts, shared } = run;
  // The local repository is opened (or created) while the remote's config and summary are on the wire.
  const created = !existsSync(o.repo);
  const opening = outcome(LocalRepo.openOrCreate(o.repo, { mode: o.repoMode }));
  let remote: Remote | null = shared?.remote ?? null;
  let txn: RepoTransaction | null = null;
  /** The remote's connections closing (once the last object is in, during the commit's sync). */
  let closing: Promise<void> | null = null;
  let failed = false;
  shared?.route((r) => tracker.onRecord(r));
  try {
    remote ??= await Remote.open(
      o.url,
      pullRemoteOptions(o, (r) => tracker.onRecord(r)),
    );
    // The xz program (its `--version`) is looked up while the ref's commit, superblocks and first
    // parts are on the wire (not before the first request: its start would delay it), so that a
    // delta's first part is decoded as soon as its bytes come in.
    if (o.deltas !== 'never' && o.xzDecoder !== 'wasm') void findXzProgram();
    const spec = parsePullTarget(o.ref);
    const target = spec.commit ?? (await remote.resolve(spec.ref as string, { signal: o.signal })).commit;
    facts.target = target;
    const repo = await settledValue(opening);
    // A commit already here (a resumed pull) is verified from its local bytes: no refetch.
    const verification = o.verify
      ? await verifyRemoteSignatures(remote, target, await GpgKeyring.from(o.gpgKeys), {
          ...(o.signal ? { signal: o.signal } : {}),
          ...(await localCommit(repo, target)),
        })
      : undefined;
    repo.assertWritable();
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
    facts.plan = plan;
    o.onEvent({ type: 'plan', plan });
    // Object sizes are learnt as they arrive: the plan's estimate gives the progress total early.
    // (Not for a subpath pull: the summary's size is the whole commit's.)
    if (plan.chosen?.strategy === 'objects' && plan.chosen.bytes !== null && o.subpaths === null)
      tracker.expectBytesAtLeast(plan.chosen.bytes);
    debug('plan: %s (%s)', plan.strategy, plan.reason);
    const location = o.remote === null ? {} : { remote: o.remote };
    let fetched: Omit<PullResult, 'remote' | 'ref' | 'commit' | 'repo' | 'plan' | 'requests' | 'durationMs' | 'verification'>;
    if (plan.strategy === 'up-to-date') {
      fetched = {
        strategy: plan.strategy,
        objects: { fromDelta: 0, loose: 0, present: 0 },
        partsSkipped: 0,
        partsRecovered: 0,
        decoders: decodersUsed(new Set(), tracker.records),
      };
      if (spec.ref !== null) await repo.writeRef(spec.ref, target, location);
    } else {
      // The first requests go out while the transaction marks the commit partial and makes the
      // objects/XX directories (its writes wait for that); the content workers start once those
      // requests are on the wire, so their start-up overlaps the first round trip.
      // Not for a pull expected to store little (a small update): its few objects are written on
      // this thread. Stored content is taken as up to 4× the plan's (compressed) bytes.
      const expectedBytes = plan.chosen?.bytes == null ? null : plan.chosen.bytes * 4;
      txn = repo.beginTransaction({ commit: target, warmWorkers: true, expectedBytes });
      fetched = await transfer(o, { remote, repo, txn, tracker, plan, superblocks, target });
      // An abort that came after the last object still ends the pull before its ref is written.
      o.signal?.throwIfAborted();
      // Nothing more to fetch: a remote of this pull's own closes its connections while the
      // commit makes the objects durable (a graceful close waits for the server's side).
      if (shared === null) {
        closing = remote.close();
        closing.catch(() => {}); // awaited in `finally`; avoids an unhandled rejection meanwhile
      }
      // A subpath pull leaves the commit partial (as libostree does); its objects are flushed
      // before the ref is written all the same.
      await txn.commit({ ...(spec.ref !== null ? { ref: spec.ref, ...location } : {}), keepPartial: o.subpaths !== null });
    }
    tracker.setPhase('done');
    const result: PullResult = {
      remote: remote.url,
      ref: spec.ref,
      commit: target,
      repo: o.repo,
      plan,
      ...fetched,
      ...(verification !== undefined ? { verification } : {}),
      requests: tracker.records.toArray(),
      durationMs: tracker.elapsedMs,
    };
    o.onEvent({ type: 'done', result });
    return result;
  } catch (err) {
    failed = true;
    if (remote !== null && o.signal?.aborted && !(isFlathubFetchError(err) && err.code === ErrorCodes.ABORTED)) {
      throw new FlathubFetchError(ErrorCodes.ABORTED, `pull of ${o.ref} from ${remote.url} aborted`, { url: remote.url }, { cause: err });
    }
    throw err;
  } finally {
    if (failed) await txn?.abort();
    if (shared === null) await (closing ?? remote?.close());
    else shared.route(null);
    const opened = await opening;
    if ('value' in opened) await opened.value.close();
    // A repository this pull created and never wrote into (the remote could not be opened, the
    // ref did not resolve…) is removed again.
    if (failed && created && txn === null) await removeRepo(o.repo);
  }
}

/** The delta (when planned) then the walk of the commit, inside the transaction. */
async function transfer(
  o: ResolvedPullOptions,
  p: {
    remote: Remote;
    repo: LocalRepo;
    txn: RepoTransaction;
    tracker: ProgressTracker;
    plan: PullPlan;
    superblocks: Awaited<ReturnType<typeof planPull>>['superblocks'];
    target: Checksum;
  },
): Promise<Pick<PullResult, 'strategy' | 'objects' | 'partsSkipped' | 'partsRecovered' | 'delta' | 'decoders'>> {
  const { remote, tracker, plan, target } = p;
  const ctx: PullContext = {
    remote,
    repo: p.repo,
    txn: p.txn,
    tracker,
    maxInFlight: o.maxInFlight,
    partConcurrency: o.partConcurrency,
    xzDecoder: o.xzDecoder,
    xzBackends: new Set(),
    signal: o.signal,
    knownDirTrees: new KnownDirTrees(),
  };
  const fetcher = new ObjectFetcher(ctx);
  let strategy = plan.strategy;
  let fromDelta = 0;
  let partsSkipped = 0;
  let partsRecovered = 0;
  let deltaPresent = 0;
  /** Set when a delta was applied in full: the commit is then complete without a walk. */
  let deltaComplete = false;
  let delta: PullResult['delta'];
  if (plan.chosen?.delta != null) {
    const name = plan.chosen.delta;
    let sb: Awaited<ReturnType<typeof remote.superblock>> | undefined;
    try {
      sb =
        p.superblocks.get(name) ?? (await remote.superblock(plan.chosen.from, target, { digest: plan.superblockDigest, signal: o.signal }));
      const outcome = await applyDelta(ctx, sb, fetcher);
      fromDelta = outcome.objectsFromDelta;
      partsSkipped = outcome.partsSkipped;
      partsRecovered = outcome.partsRecovered;
      deltaPresent = outcome.objectsPresent;
      deltaComplete = true;
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
        parts: header.parts.map((part) => ({
          index: part.index,
          inline: header.inlineParts.has(part.index),
          objects: part.objects.map((x) => objectPath(x.checksum, x.type)),
        })),
      };
    }
  }
  tracker.setPhase(strategy === 'objects' ? 'objects' : 'verify');
  // A delta applied in full leaves the commit complete, as libostree trusts it to (it scans no
  // tree of a delta's target): every object of a part was verified as written (a part that kept
  // failing had its objects fetched loose), every fallback too, the commit came in the
  // superblock, and whatever a from-revision delta does not carry is in its source commit, which
  // the planner takes only when complete. Anything else is walked: objects pulls, subpath pulls,
  // a delta that failed over to objects.
  if (!deltaComplete || o.subpaths !== null) await fetcher.fetchCommitTree(target, o.subpaths);
  return {
    strategy,
    // A final tree walk (objects pulls) finds the delta's objects present too: they are not "already present".
    objects: { fromDelta, loose: fetcher.fetched, present: deltaPresent + Math.max(0, fetcher.present - fromDelta) },
    partsSkipped,
    partsRecovered,
    ...(delta !== undefined ? { delta } : {}),
    decoders: decodersUsed(ctx.xzBackends, tracker.records),
  };
}

/** The decoders that ran in a pull (see PullResult.decoders). */
function decodersUsed(xzBackends: PullContext['xzBackends'], records: RequestLog): PullResult['decoders'] {
  const xz = xzBackends.size === 0 ? null : xzDecoderInfo(xzBackends.has('xz') ? 'xz' : 'wasm');
  const zstd = records.hasContentEncoding('zstd') ? `node:zlib (zstd ${process.versions.zstd ?? 'built in'})` : null;
  return { xz, zstd };
}

/** The commit and its detached metadata when the repository has the commit, for signature checks. */
async function localCommit(repo: LocalRepo, commit: Checksum): Promise<{ local?: { commit: Uint8Array; meta: Uint8Array | null } }> {
  const bytes = await repo.readObjectBytes(ObjectType.COMMIT, commit);
  if (bytes === null) return {};
  return { local: { commit: bytes, meta: await repo.readObjectBytes(ObjectType.COMMIT_META, commit) } };
}

/** Removes a repository this pull created (best effort: the pull's own error is what gets reported). */
async function removeRepo(path: string): Promise<void> {
  await rm(path, { recursive: true, force: true }).catch((err: unknown) => debug('could not remove %s: %s', path, String(err)));
}
