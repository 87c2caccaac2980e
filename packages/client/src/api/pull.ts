/**
 * `pull()`: bring a ref (or commit) of a remote repository into a local repository — the entry
 * point over the engine in `pull/runPull.ts` (options resolved once here). A failed pull rejects
 * with its error, to which the partial result is attached (`failedPullResult`).
 */
import { isFlathubFetchError } from '../errors/FlathubFetchError.js';
import { ErrorCodes } from '../errors/codes.js';
import type { RequestRecord } from '../http/RequestRecord.js';
import { ProgressTracker } from '../pull/ProgressTracker.js';
import { type PullOptions, type ResolvedPullOptions, resolvePullOptions } from '../pull/PullOptions.js';
import type { FailedPullResult, PullResult } from '../pull/PullResult.js';
import { type PullProgressFacts, parsePullTarget, pullRemoteOptions, runPull, type SharedRemote } from '../pull/runPull.js';
import { Remote } from '../remote/Remote.js';

export { parsePullTarget, type SharedRemote } from '../pull/runPull.js';

/** What a pull had done when it failed, attached to its error (see `failedPullResult`). */
const PARTIAL = Symbol('flathub-fetch partial pull result');

/**
 * The partial result of a failed `pull()`, from the error it rejected with: every HTTP attempt
 * made until then, the plan (null when the pull failed before planning) and `failure`
 * ({ code, message }), so a report (HAR, metrics, JSON) can still be written for a pull that
 * failed. Null for any other error.
 */
export function failedPullResult(err: unknown): FailedPullResult | null {
  return (err as { [PARTIAL]?: FailedPullResult } | null)?.[PARTIAL] ?? null;
}

export async function pull(options: PullOptions): Promise<PullResult> {
  return pullOn(options, null);
}

/** `pull()` on an already opened remote (`shared`), or on its own when null. */
export async function pullOn(options: PullOptions, shared: SharedRemote | null): Promise<PullResult> {
  const o = resolvePullOptions(options);
  const tracker = new ProgressTracker(o.onEvent);
  const facts: PullProgressFacts = { target: null, plan: null };
  try {
    return await runPull(o, { tracker, facts, shared });
  } catch (err) {
    if (err !== null && typeof err === 'object') {
      Object.defineProperty(err, PARTIAL, { value: partialResult(o, tracker, facts, err), enumerable: false, configurable: true });
    }
    throw err;
  }
}

/** Opens `url` as `pull()` would (same HTTP options and summary cache) for pulls that share it. */
export async function openSharedRemote(options: PullOptions): Promise<SharedRemote> {
  const o = resolvePullOptions(options);
  let current: ((record: RequestRecord) => void) | null = null;
  const remote = await Remote.open(
    o.url,
    pullRemoteOptions(o, (r) => current?.(r)),
  );
  return {
    remote,
    route: (fn) => {
      current = fn;
    },
  };
}

function partialResult(o: ResolvedPullOptions, tracker: ProgressTracker, facts: PullProgressFacts, err: object): FailedPullResult {
  const failure = isFlathubFetchError(err) ? { code: err.code, message: err.message } : { code: ErrorCodes.UNKNOWN, message: String(err) };
  return {
    remote: o.url,
    ref: refOf(o.ref),
    commit: facts.target ?? '',
    repo: o.repo,
    plan: facts.plan,
    strategy: facts.plan?.strategy ?? null,
    objects: { fromDelta: 0, loose: 0, present: 0 },
    partsSkipped: 0,
    partsRecovered: 0,
    decoders: { xz: null, zstd: null },
    requests: tracker.records.toArray(),
    durationMs: tracker.elapsedMs,
    failure,
  };
}

function refOf(spec: string): string | null {
  try {
    return parsePullTarget(spec).ref;
  } catch {
    return null;
  }
}
