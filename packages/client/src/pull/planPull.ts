/**
 * The planner: given the target commit, what the remote offers and what the local repository
 * holds, choose between a from-revision delta, a from-scratch delta and per-object fetches,
 * and explain the choice with the cost of every alternative.
 *
 * Rules (libostree's, plus one): use a delta from the newest complete local commit that a delta
 * starts at; otherwise a from-scratch delta; otherwise objects. Unlike libostree, a from-scratch
 * delta is also weighed against the from-revision delta or the objects still missing when a
 * local commit exists, with a simple cost model (bytes ÷ bandwidth + requests × RTT ÷ parallelism);
 * parts whose objects are all present are priced at zero, since the executor skips them.
 */
import createDebug from 'debug';
import type { Remote, RemoteDelta } from '../remote/Remote.js';
import { FlathubFetchError } from '../errors/FlathubFetchError.js';
import { ErrorCodes } from '../errors/codes.js';
import type { Checksum } from '../formats/checksum.js';
import type { DeltaSuperblock } from '../formats/DeltaSuperblock.js';
import { ObjectType } from '../formats/ObjectType.js';
import { deltaName, deltaSuperblockPath } from '../formats/paths.js';
import type { LocalRepo } from '../repo/LocalRepo.js';
import type { DeltaPolicy } from './PullOptions.js';
import type { PlanAlternative, PullPlan } from './PullPlan.js';

const debug = createDebug('flathub-fetch:plan');

/** What the planner reads of the local repository (a LocalRepo, or a view of one that does not exist yet). */
export type PlanRepo = Pick<LocalRepo, 'hasCached' | 'knowObjects' | 'isPartial' | 'readCommit' | 'listRefs'>;

export interface PlanInput {
  remote: Remote;
  repo: PlanRepo;
  target: Checksum;
  ref: string | null;
  deltas: DeltaPolicy;
  fullPlan: boolean;
  costModel: { bandwidth: number; rttMs: number };
  parallelism: number;
  signal?: AbortSignal | undefined;
}

export interface PlanOutput {
  plan: PullPlan;
  /** Superblocks fetched while planning, by delta name (the executor reuses them). */
  superblocks: Map<string, DeltaSuperblock & { bytes: Uint8Array }>;
}

type Sb = DeltaSuperblock & { bytes: Uint8Array };

export async function planPull(input: PlanInput): Promise<PlanOutput> {
  const { remote, repo, target } = input;
  const has = (type: ObjectType, c: Checksum) => repo.hasCached(type, c);
  const superblocks = new Map<string, Sb>();
  const base = { remote: remote.url, ref: input.ref, target, superblockDigest: null as Checksum | null };
  // The commits local refs point at: delta sources for a remote that lists no deltas (as libostree
  // takes the ref's commit), next to the sources of the deltas offered. Nothing reads all of
  // objects/: only the commits named here are looked at.
  const refCommits = [...new Set((await repo.listRefs()).values())];
  await repo.knowObjects([target, ...refCommits].map((checksum) => ({ type: ObjectType.COMMIT, checksum })));

  if (has(ObjectType.COMMIT, target) && !(await repo.isPartial(target))) {
    const localCommits = await completeCommits(repo, refCommits);
    return {
      plan: {
        ...base,
        strategy: 'up-to-date',
        reason: `commit ${target} is already complete locally`,
        chosen: null,
        alternatives: [],
        localCommits,
      },
      superblocks,
    };
  }

  // What deltas end at the target: summary list and delta index; probe paths when neither exists.
  let offered: RemoteDelta[] = [];
  if (input.deltas !== 'never') {
    offered = (await remote.deltas([target], { signal: input.signal })).filter((d) => d.to === target);
    // Nothing lists a delta to the target (no summary or one listing none; a delta index absent,
    // even where config says `indexed-deltas=true` — a mirror that syncs objects/ and deltas/
    // only): probe the superblock paths, as libostree does when it has no delta list.
    if (offered.length === 0 && (remote.summary === null || remote.summary.deltas.size === 0)) {
      for (const f of [...(await completeCommits(repo, refCommits)).slice(0, 1), null]) {
        const sb = await remote.probeDelta(f, target, { signal: input.signal });
        if (sb === null) continue;
        const d: RemoteDelta = { name: deltaName(f, target), from: f, to: target, digest: null, source: 'probe' };
        offered.push(d);
        superblocks.set(d.name, sb);
      }
    }
  }
  const scratch = offered.find((d) => d.from === null) ?? null;
  // Complete local commits, newest first: candidates for from-revision deltas.
  const localCommits = await completeCommits(repo, [...refCommits, ...offered.flatMap((d) => (d.from === null ? [] : [d.from]))]);
  const fromDelta = localCommits.map((c) => offered.find((d) => d.from === c)).find((d) => d !== undefined) ?? null;
  debug('target %s: %d deltas offered, scratch=%s, from=%s', target, offered.length, scratch !== null, fromDelta?.from ?? null);

  const fetchSb = async (d: RemoteDelta): Promise<Sb> => {
    let sb = superblocks.get(d.name);
    if (sb === undefined) {
      sb = await remote.superblock(d.from, d.to, { digest: d.digest, signal: input.signal });
      superblocks.set(d.name, sb);
    }
    return sb;
  };

  const cost = (a: PlanAlternative) => alternativeCost(a, input.costModel, input.parallelism);

  const deltaAlternative = (strategy: 'delta-from' | 'delta-scratch', d: RemoteDelta | null, sb: Sb | null): PlanAlternative => {
    if (d === null) {
      return {
        strategy,
        available: false,
        delta: null,
        from: null,
        requests: null,
        bytes: null,
        estimate: 'unknown',
        note:
          input.deltas === 'never'
            ? 'deltas disabled'
            : strategy === 'delta-from'
              ? 'no delta from a complete local commit'
              : 'no from-scratch delta offered',
      };
    }
    if (sb === null) {
      return {
        strategy,
        available: true,
        delta: d.name,
        from: d.from,
        requests: null,
        bytes: null,
        estimate: 'unknown',
        note: 'superblock not fetched',
      };
    }
    let requests = 1;
    let bytes = sb.bytes.length;
    let skipped = 0;
    for (const p of sb.parts) {
      if (p.objects.every((o) => has(o.type, o.checksum))) {
        skipped++;
        continue;
      }
      if (!sb.inlineParts.has(p.index)) requests++;
      bytes += p.size;
    }
    const fallbacks = sb.fallbacks.filter((f) => !has(f.type, f.checksum));
    requests += fallbacks.length;
    bytes += fallbacks.reduce((n, f) => n + f.size, 0);
    const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
    const note = `${plural(sb.parts.length, 'part')} (${skipped} skippable), ${plural(fallbacks.length, 'fallback object')}`;
    return { strategy, available: true, delta: d.name, from: d.from, requests, bytes, estimate: 'exact', note };
  };

  // Price the alternatives. A from-revision delta is fetched when it exists; the scratch delta
  // when it is the only delta, when asked for a full plan, or when it may beat the alternative:
  // the from-delta is big compared with what the ref downloads. When the summary does not say
  // (no size), the from-revision delta is taken unpriced, as libostree always takes it: the
  // from-scratch superblock (tens to hundreds of KB for a runtime) is not fetched for an update.
  const size = remote.refs().find((r) => r.commit === target)?.downloadSize ?? null;
  const scratchNow = scratch !== null && (fromDelta === null || input.fullPlan);
  // A superblock whose every object is looked at (the from-revision one: the objects new since
  // its source; the from-scratch one when it is the only one) has them looked up in the
  // directories they are in, read concurrently. With a from-revision delta, the from-scratch
  // superblock's parts are priced by their first missing object, read as needed: the objects
  // path is priced from the from-revision superblock, which lists what is missing.
  const fetchKnown = async (d: RemoteDelta, all: boolean): Promise<Sb> => {
    const sb = await fetchSb(d);
    if (all) await repo.knowObjects(superblockObjects(sb));
    return sb;
  };
  const [fromSb, eagerScratchSb] = await Promise.all([
    fromDelta === null ? null : fetchKnown(fromDelta, true),
    scratch === null || !scratchNow ? null : fetchKnown(scratch, fromDelta === null),
  ]);
  let scratchSb = eagerScratchSb;
  const fromAlt = deltaAlternative('delta-from', fromDelta, fromSb);
  if (scratch !== null && scratchSb === null && fromSb !== null && size !== null && (fromAlt.bytes ?? 0) > size / 2) {
    scratchSb = await fetchKnown(scratch, false);
  }
  const scratchAlt = deltaAlternative('delta-scratch', scratch, scratchSb);
  const objectsAlt = objectsAlternative(remote, target, fromSb ?? scratchSb, has, fromSb !== null);
  const alternatives = [fromAlt, scratchAlt, objectsAlt];

  let chosen: PlanAlternative;
  let reason: string;
  if (input.deltas === 'never') {
    chosen = objectsAlt;
    reason = 'static deltas disabled: fetching objects';
  } else if (fromAlt.available && (!scratchAlt.available || cost(fromAlt) <= cost(scratchAlt))) {
    chosen = fromAlt;
    reason = `delta from local commit ${fromAlt.from} (the newest complete local commit a delta starts at)`;
    if (scratchAlt.available && scratchAlt.bytes !== null)
      reason += `; cheaper than the from-scratch delta (${fmt(fromAlt)} vs ${fmt(scratchAlt)})`;
  } else if (scratchAlt.available && fromAlt.available) {
    chosen = scratchAlt;
    reason = `from-scratch delta is cheaper than the delta from ${fromAlt.from} (${fmt(scratchAlt)} vs ${fmt(fromAlt)})`;
  } else if (scratchAlt.available) {
    if (localCommits.length > 0 && cost(objectsAlt) < cost(scratchAlt)) {
      chosen = objectsAlt;
      reason = `few objects are missing: fetching them (${fmt(objectsAlt)}) beats the from-scratch delta (${fmt(scratchAlt)})`;
    } else {
      chosen = scratchAlt;
      reason =
        localCommits.length > 0
          ? `no delta from a local commit; the from-scratch delta (${fmt(scratchAlt)}) beats fetching the missing objects (${fmt(objectsAlt)})`
          : 'no local commit: from-scratch delta';
    }
  } else {
    if (input.deltas === 'require') {
      throw new FlathubFetchError(ErrorCodes.NOT_FOUND, `no static delta to ${target} at ${remote.url} (deltas required)`, {
        what: `static delta to ${target}`,
        url: remote.http.resolve(deltaSuperblockPath(null, target)).href,
      });
    }
    chosen = objectsAlt;
    reason =
      offered.length > 0
        ? 'no usable delta (none from a complete local commit, none from scratch): fetching objects'
        : 'the remote offers no static delta to this commit: fetching objects';
  }
  const digest = chosen.delta === null ? null : (offered.find((d) => d.name === chosen.delta)?.digest ?? null);
  return {
    plan: { ...base, superblockDigest: digest, strategy: chosen.strategy, reason, chosen, alternatives, localCommits },
    superblocks,
  };
}

/** The complete commits among `candidates` held locally, newest first (an unreadable one is not a delta source). */
async function completeCommits(repo: PlanRepo, candidates: readonly Checksum[]): Promise<Checksum[]> {
  const local: Array<{ commit: Checksum; timestamp: bigint }> = [];
  for (const c of new Set(candidates)) {
    if (!repo.hasCached(ObjectType.COMMIT, c) || (await repo.isPartial(c))) continue;
    try {
      local.push({ commit: c, timestamp: (await repo.readCommit(c)).timestamp });
    } catch {
      // An unreadable local commit is not a delta source.
    }
  }
  local.sort((a, b) => (a.timestamp > b.timestamp ? -1 : a.timestamp < b.timestamp ? 1 : 0));
  return local.map((l) => l.commit);
}

function* superblockObjects(sb: Sb): Iterable<{ type: ObjectType; checksum: Checksum }> {
  for (const p of sb.parts) yield* p.objects;
  yield* sb.fallbacks;
}

/**
 * The cost model, in seconds: bytes ÷ bandwidth + requests × RTT ÷ parallelism (infinite when
 * either figure is unknown).
 */
export function alternativeCost(a: PlanAlternative, costModel: { bandwidth: number; rttMs: number }, parallelism: number): number {
  if (a.bytes === null || a.requests === null) return Number.POSITIVE_INFINITY;
  return a.bytes / costModel.bandwidth + (a.requests * costModel.rttMs) / 1000 / parallelism;
}

function fmt(a: PlanAlternative): string {
  return `${a.requests ?? '?'} requests, ${a.bytes ?? '?'} bytes`;
}

/**
 * Per-object cost. With a superblock at hand (from scratch: every object of the target; from a
 * revision: the objects new since it) the missing objects are counted exactly and their bytes
 * approximated by the delta's compressed sizes; without one only the commit is known.
 */
function objectsAlternative(
  remote: Remote,
  target: Checksum,
  sb: Sb | null,
  has: (type: ObjectType, c: Checksum) => boolean,
  partialList: boolean,
): PlanAlternative {
  const ref = remote.refs().find((r) => r.commit === target);
  if (sb === null) {
    return {
      strategy: 'objects',
      available: true,
      delta: null,
      from: null,
      requests: null,
      bytes: ref?.downloadSize ?? null,
      estimate: 'unknown',
      note: `object count unknown until the tree is walked${ref?.downloadSize ? '; bytes from the summary’s download size' : ''}`,
    };
  }
  let missing = 2; // commit + commitmeta probe
  let bytes = 0;
  for (const p of sb.parts) {
    const miss = p.objects.filter((o) => !has(o.type, o.checksum)).length;
    missing += miss;
    // Loose objects are deflate, not xz: a little bigger than their share of the part.
    if (p.objects.length > 0) bytes += Math.round((p.size * miss * 1.3) / p.objects.length);
  }
  for (const f of sb.fallbacks) {
    if (!has(f.type, f.checksum)) {
      missing++;
      bytes += f.size;
    }
  }
  return {
    strategy: 'objects',
    available: true,
    delta: null,
    from: null,
    requests: missing,
    bytes,
    estimate: 'approximate',
    note: partialList
      ? 'objects new since the delta’s source commit (others assumed present)'
      : 'objects listed by the from-scratch superblock that are missing locally',
  };
}
