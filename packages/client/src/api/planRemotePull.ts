/**
 * `planRemotePull()`: what a pull of a ref would do, without doing it — the deltas the remote
 * offers for the target, the strategy the pull engine would choose and why, and the expected
 * requests and bytes of the delta path and the object path side by side. Starts from an empty
 * repository, an existing one (`repo`), or one that holds a given commit (`from`).
 *
 * Nothing is written. The planner is the pull engine's own (`planPull`, with every alternative's
 * superblock fetched). Where the object path's cost needs the object count of a commit that is
 * not downloaded and no superblock lists its objects, the target's dirtrees are walked over
 * HTTP (one request per directory, no file content) unless `walk: false`.
 */
import { FlathubFetchError } from '../errors/FlathubFetchError.js';
import { ErrorCodes } from '../errors/codes.js';
import { type Checksum, parseChecksum } from '../formats/checksum.js';
import type { Commit } from '../formats/Commit.js';
import { ObjectType } from '../formats/ObjectType.js';
import { deltaSuperblockPath } from '../formats/paths.js';
import type { HttpClientOptions } from '../http/HttpClientOptions.js';
import { METADATA_PURPOSES } from '../http/metadataPurposes.js';
import type { RequestRecord } from '../http/RequestRecord.js';
import type { Transport } from '../http/Transport.js';
import { resolvePullOptions } from '../pull/PullOptions.js';
import type { PlanAlternative, PullPlan } from '../pull/PullPlan.js';
import { alternativeCost, type PlanRepo, planPull } from '../pull/planPull.js';
import { LocalRepo } from '../repo/LocalRepo.js';
import { ObjectIndex } from '../repo/ObjectIndex.js';
import { parsePullTarget } from './pull.js';
import { Remote, type RemoteDelta, type RemoteRef } from '../remote/Remote.js';
import { walkCommitMetadata } from './walkCommitMetadata.js';

export interface PlanRemotePullOptions {
  /** Remote repository URL (http, https or file). */
  url: string;
  /** Ref, `REF@COMMIT`, or a 64-hex commit. */
  ref: string;
  /** Plan from this existing local repository (its objects and complete commits). Excludes `from`. */
  repo?: string;
  /**
   * Plan as if the local repository held exactly this commit and everything reachable from it.
   * Its object list comes from a from-scratch delta's superblock when the remote has one,
   * otherwise from walking its dirtrees over HTTP. Excludes `repo`.
   */
  from?: string;
  /** Architecture for Flatpak subsummaries. @default this machine's */
  arch?: string;
  /** Cost model, as `pull()`'s. @default 6_250_000 bytes/s and 50 ms */
  costModel?: { bandwidth?: number; rttMs?: number };
  /** Walk the target's dirtrees when nothing else tells the per-object count. @default true */
  walk?: boolean;
  /** HTTP options; `http.maxInFlight` is also the cost model's parallelism, as in `pull()` (@default 128 there). */
  http?: Omit<HttpClientOptions, 'transport' | 'onRecord'>;
  transport?: Transport;
  signal?: AbortSignal | undefined;
}

export interface ObjectPathEstimate {
  /** How the object path was counted: a superblock's object list, a walk of the target's dirtrees, or not at all. */
  method: 'superblock' | 'walk' | 'none';
  note: string;
  /** The walk of the target, when one was made (its requests are planning cost, not pull cost). */
  walk: { requests: number; dirtrees: number; dirmetas: number; files: number; metadataBytes: number } | null;
}

export interface RemotePlan {
  remote: string;
  ref: string | null;
  target: Checksum;
  /** The summary's entry for the target (download / installed size), when it has one. */
  targetRef: RemoteRef | null;
  /** What the plan starts from. */
  local: {
    kind: 'empty' | 'repo' | 'from';
    repo: string | null;
    from: Checksum | null;
    /** Objects known to be present. */
    objects: number;
    /** How `from`'s objects were learnt (superblock or walk), null otherwise. */
    source: 'superblock' | 'walk' | null;
  };
  /** Static deltas the remote offers that end at the target. */
  deltas: RemoteDelta[];
  plan: PullPlan;
  objectPath: ObjectPathEstimate;
  /** What any pull makes first: config, summary or summary.idx + subsummary, signature (logical requests, wire bytes). */
  metadata: { requests: number; bytes: number };
  /** Looking up deltas to the target (delta index), which a pull makes unless deltas are off. */
  deltaDiscovery: { requests: number; bytes: number };
  /** Superblocks the pull fetches only to price alternatives it does not take (as planned without `fullPlan`). */
  pricing: { requests: number; bytes: number };
  /**
   * Whole-pull figures per alternative (null when unavailable or unknown): `metadata` + the
   * alternative's own, plus `deltaDiscovery` for delta strategies and for the objects strategy
   * when it is the one chosen (a `--no-deltas` pull skips the lookup), plus `pricing` for the
   * chosen one.
   */
  totals: Record<PlanAlternative['strategy'], { requests: number; bytes: number | null } | null>;
  /** The cost model the choice was made with. */
  costModel: { bandwidth: number; rttMs: number; parallelism: number };
  /** Each alternative's cost under the cost model, seconds (null when unavailable or unknown), by strategy. */
  estimatedSeconds: Record<PlanAlternative['strategy'], number | null>;
  /** Every request made while planning (including superblocks, and any walk). */
  requests: RequestRecord[];
}

export async function planRemotePull(options: PlanRemotePullOptions): Promise<RemotePlan> {
  if (options.repo !== undefined && options.from !== undefined) {
    throw new FlathubFetchError(ErrorCodes.INVALID_ARGUMENT, 'repo and from exclude each other', {
      argument: 'from',
      value: options.from,
      reason: 'given together with repo',
    });
  }
  const from = options.from === undefined ? null : parseChecksum(options.from, 'from');
  // pull()'s defaults, resolved where pull() resolves them.
  const { costModel, maxInFlight: parallelism } = resolvePullOptions({
    url: options.url,
    ref: options.ref,
    repo: options.repo ?? '(none)',
    ...(options.costModel ? { costModel: options.costModel } : {}),
    ...(options.http ? { http: options.http } : {}),
  });
  const records: RequestRecord[] = [];
  let phase: 'metadata' | 'local' | 'plan' | 'extra' = 'metadata';
  const metadata = { requests: 0, bytes: 0 };
  const deltaDiscovery = { requests: 0, bytes: 0 };
  const remote = await Remote.open(options.url, {
    ...(options.transport ? { transport: options.transport } : {}),
    ...(options.arch ? { arch: options.arch } : {}),
    signal: options.signal,
    http: {
      ...options.http,
      onRecord: (r) => {
        records.push(r);
        const into = phase === 'metadata' ? metadata : phase === 'plan' && r.purpose === 'delta-index' ? deltaDiscovery : null;
        if (into === null || !METADATA_PURPOSES.has(r.purpose)) return;
        if (r.attempt === 1) into.requests++;
        into.bytes += r.wireBytes;
      },
    },
  });
  let localRepo: LocalRepo | null = null;
  try {
    const spec = parsePullTarget(options.ref);
    const resolved = spec.commit === null ? await remote.resolve(spec.ref as string, { signal: options.signal }) : null;
    const target = spec.commit ?? (resolved?.commit as Checksum);
    const targetRef = remote.refs().find((r) => r.commit === target && (spec.ref === null || r.name === spec.ref)) ?? null;

    phase = 'local';
    let view: PlanRepo;
    let local: RemotePlan['local'];
    if (options.repo !== undefined) {
      localRepo = await LocalRepo.open(options.repo);
      const index = await localRepo.loadObjectIndex();
      view = localRepo;
      local = { kind: 'repo', repo: options.repo, from: null, objects: index.size, source: null };
    } else if (from !== null) {
      const known = await objectsOf(remote, from, options.signal);
      view = setView(known.objects, new Map([[from, known.commit]]));
      local = { kind: 'from', repo: null, from, objects: known.objects.size, source: known.source };
    } else {
      view = setView(new Set(), new Map());
      local = { kind: 'empty', repo: null, from: null, objects: 0, source: null };
    }

    // First exactly as pull() plans (its superblock fetches are part of the pull's cost), then
    // with every alternative's superblock fetched, for the side-by-side figures.
    phase = 'plan';
    const input = { remote, repo: view, target, ref: spec.ref, deltas: 'prefer' as const, costModel, parallelism, signal: options.signal };
    const asPulled = (await planPull({ ...input, fullPlan: false })).plan;
    const pricingRecords = records.filter((r) => r.purpose === 'superblock');
    phase = 'extra';
    const full = asPulled.alternatives.some((a) => a.available && a.requests === null && a.strategy !== 'objects')
      ? (await planPull({ ...input, fullPlan: true })).plan
      : asPulled;
    const plan = withChoice(full, asPulled);
    // Superblocks the pull fetches only to price alternatives it does not take.
    const ownSuperblock = plan.chosen?.delta == null ? null : remote.http.resolve(deltaSuperblockPath(plan.chosen.from, target)).href;
    const pricing = { requests: 0, bytes: 0 };
    for (const r of pricingRecords) {
      if (r.url === ownSuperblock) continue;
      if (r.attempt === 1) pricing.requests++;
      pricing.bytes += r.wireBytes;
    }
    const deltas = (await remote.deltas([target], { signal: options.signal })).filter((d) => d.to === target);

    let objectPath: ObjectPathEstimate;
    const objectsAlt = plan.alternatives.find((a) => a.strategy === 'objects');
    if (objectsAlt !== undefined && objectsAlt.requests !== null) {
      objectPath = { method: 'superblock', note: objectsAlt.note, walk: null };
    } else if (objectsAlt !== undefined && plan.strategy !== 'up-to-date' && options.walk !== false) {
      const walked = await walkCommitMetadata(remote, target, { signal: options.signal });
      const priced = priceWalk(walked, view, targetRef);
      replaceAlternative(plan, objectsAlt, priced);
      objectPath = {
        method: 'walk',
        note: priced.note,
        walk: {
          requests: walked.requests,
          dirtrees: walked.dirtrees,
          dirmetas: walked.dirmetas,
          files: walked.files,
          metadataBytes: walked.metadataBytes,
        },
      };
    } else {
      objectPath = { method: 'none', note: objectsAlt?.note ?? 'up to date', walk: null };
    }
    const estimatedSeconds = { 'delta-from': null, 'delta-scratch': null, objects: null } as RemotePlan['estimatedSeconds'];
    const totals = { 'delta-from': null, 'delta-scratch': null, objects: null } as RemotePlan['totals'];
    for (const a of plan.alternatives) {
      const c = alternativeCost(a, costModel, parallelism);
      estimatedSeconds[a.strategy] = a.available && Number.isFinite(c) ? Math.round(c * 1000) / 1000 : null;
      if (!a.available || a.requests === null) continue;
      const chosen = plan.chosen?.strategy === a.strategy;
      const lookup = a.strategy !== 'objects' || chosen;
      const extra = {
        requests: metadata.requests + (lookup ? deltaDiscovery.requests : 0),
        bytes: metadata.bytes + (lookup ? deltaDiscovery.bytes : 0),
      };
      if (chosen) {
        extra.requests += pricing.requests;
        extra.bytes += pricing.bytes;
      }
      totals[a.strategy] = { requests: extra.requests + a.requests, bytes: a.bytes === null ? null : extra.bytes + a.bytes };
    }
    return {
      remote: remote.url,
      ref: spec.ref,
      target,
      targetRef,
      local,
      deltas,
      plan,
      objectPath,
      metadata,
      deltaDiscovery,
      pricing,
      totals,
      costModel: { ...costModel, parallelism },
      estimatedSeconds,
      requests: records,
    };
  } finally {
    await remote.close();
    await localRepo?.close();
  }
}

/** A read-only planner view of a repository holding exactly `objects`. */
function setView(objects: ReadonlySet<string>, commits: ReadonlyMap<Checksum, Commit>): PlanRepo {
  return {
    hasCached: (type, checksum) => objects.has(ObjectIndex.key(type, checksum)),
    knowObjects: async () => {},
    // Its commits stand for the refs a repository would have.
    listRefs: async () => new Map([...commits.keys()].map((c) => [c, c])),
    isPartial: async () => false,
    readCommit: async (c) => {
      const commit = commits.get(c);
      if (commit === undefined) throw new FlathubFetchError(ErrorCodes.NOT_FOUND, `commit ${c} is not held`, { what: `commit ${c}` });
      return commit;
    },
  };
}

/** The objects of a remote commit: from its from-scratch delta's superblock (one request) or by walking its dirtrees. */
async function objectsOf(
  remote: Remote,
  commit: Checksum,
  signal: AbortSignal | undefined,
): Promise<{ objects: Set<string>; commit: Commit; source: 'superblock' | 'walk' }> {
  const scratch = (await remote.deltas([commit], { signal })).find((d) => d.from === null && d.to === commit);
  if (scratch !== undefined) {
    try {
      const sb = await remote.superblock(null, commit, { digest: scratch.digest, signal });
      const objects = new Set<string>([ObjectIndex.key(ObjectType.COMMIT, commit)]);
      for (const p of sb.parts) for (const o of p.objects) objects.add(ObjectIndex.key(o.type, o.checksum));
      for (const f of sb.fallbacks) objects.add(ObjectIndex.key(f.type, f.checksum));
      return { objects, commit: sb.commit, source: 'superblock' };
    } catch (err) {
      if (signal?.aborted) throw err;
      // An unusable superblock: walk instead.
    }
  }
  const walked = await walkCommitMetadata(remote, commit, { signal });
  return { objects: walked.objects, commit: walked.parsed, source: 'walk' };
}

/** Prices the object path from a walk of the target: requests exact, file bytes from the summary's download size. */
function priceWalk(
  walked: Awaited<ReturnType<typeof walkCommitMetadata>>,
  view: PlanRepo,
  targetRef: RemoteRef | null,
): { requests: number; bytes: number | null; note: string } {
  let requests = 0;
  let missingFiles = 0;
  for (const key of walked.objects) {
    const [checksum, ext] = key.split('.') as [Checksum, string];
    const type =
      ext === 'commit'
        ? ObjectType.COMMIT
        : ext === 'dirtree'
          ? ObjectType.DIR_TREE
          : ext === 'dirmeta'
            ? ObjectType.DIR_META
            : ObjectType.FILE;
    if (view.hasCached(type, checksum)) continue;
    requests++;
    if (type === ObjectType.FILE) missingFiles++;
    if (type === ObjectType.COMMIT) requests++; // the commitmeta probe
  }
  // Flatpak's download size is the sum of the commit's .filez objects (metadata not included).
  const download = targetRef?.downloadSize ?? null;
  let bytes: number | null = null;
  let how = 'bytes unknown (the summary gives no download size)';
  if (download !== null) {
    bytes = walked.metadataBytes + (walked.files > 0 ? Math.round((download * missingFiles) / walked.files) : 0);
    how = 'bytes: commit and dirtrees as fetched, files from the summary’s download size (spread evenly), dirmetas not counted';
  }
  return {
    requests,
    bytes,
    note:
      `walked the target’s ${walked.dirtrees} dirtrees over HTTP (${walked.requests} requests, not counted here): ` +
      `${walked.files} files, ${walked.dirmetas} dirmetas; ${requests} objects to fetch; ${how}`,
  };
}

/** The figures of `full` with the choice `asPulled` made (what pull() does); notes when full pricing would choose otherwise. */
function withChoice(full: PullPlan, asPulled: PullPlan): PullPlan {
  if (full === asPulled) return full;
  const chosen = full.alternatives.find((a) => a.strategy === asPulled.strategy) ?? asPulled.chosen;
  const reason =
    full.strategy === asPulled.strategy
      ? asPulled.reason
      : `${asPulled.reason} (with every superblock priced, ${full.strategy} would be cheaper: ${full.reason})`;
  return { ...full, strategy: asPulled.strategy, reason, chosen, superblockDigest: asPulled.superblockDigest };
}

function replaceAlternative(plan: PullPlan, old: PlanAlternative, priced: { requests: number; bytes: number | null; note: string }): void {
  const next: PlanAlternative = { ...old, requests: priced.requests, bytes: priced.bytes, estimate: 'approximate', note: priced.note };
  plan.alternatives = plan.alternatives.map((a) => (a === old ? next : a));
  if (plan.chosen === old) plan.chosen = next;
}
