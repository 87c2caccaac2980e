/** Options of a local repository: how objects are written and where the CPU work runs. */
import { availableParallelism } from 'node:os';
import { invalidArgument } from '../errors/invalidArgument.js';
import type { RepoMode } from './repoMode.js';

/** Names these options in argument errors. */
const WHOSE = 'LocalRepo option';

/**
 * When written files are flushed to stable storage.
 * - `'commit'` (default, libostree's model): objects are written without waiting for the disk;
 *   before a ref is written or a partial marker cleared, every object written since the last
 *   flush and the directories that received them are fsynced together (in parallel, so the
 *   filesystem coalesces them) — or, for many objects, the filesystem is synced once (syncfs,
 *   as libostree does) — then the ref/marker itself is fsynced. A durable ref never points
 *   at objects a power loss could drop; a power loss in the middle of a pull can leave objects
 *   of the still-partial commit incomplete, as with libostree.
 * - `'object'`: every object, ref, marker and config file is fsynced before it is renamed into
 *   place, so no crash or power loss can leave a truncated object under `objects/`; the object
 *   directories touched since the last ref write are fsynced before a ref is written or a
 *   partial marker cleared, so a durable ref never points at objects a power loss could drop.
 * - `'none'`: no fsync at all (scratch repositories, tests, or a caller that syncs itself).
 *   A process crash still never leaves a half-written object (tmp + rename).
 */
export type FsyncPolicy = 'commit' | 'object' | 'none';

export interface LocalRepoOptions {
  /** See {@link FsyncPolicy}. @default 'commit' */
  fsync?: FsyncPolicy;
  /**
   * Worker threads that compress, inflate and hash content objects. Created on first use,
   * terminated by `close()`. @default {@link defaultContentWorkers} of the repository's mode
   */
  workers?: number;
  /**
   * Content smaller than this (bytes, uncompressed) is deflated and hashed on the calling
   * thread: below it, posting to a worker costs more main-thread time than the work itself.
   * @default 4096
   */
  inlineDeflateBelow?: number;
  /**
   * `.filez` whose declared size is below this are inflated and hashed on the calling thread
   * (inflating is ~3× cheaper than deflating, so the break-even is higher). @default 16384
   */
  inlineInflateBelow?: number;
  /**
   * zlib level for `.filez` written from content (objects produced by delta parts). ostree
   * writes level 6 and reads any level; compressing is the largest CPU cost of applying a delta,
   * and level 1 trades a little disk for much less of it (BENCHMARKS.md has the current
   * figures). @default 1
   */
  compressionLevel?: number;
  /** Largest content object accepted, in bytes. @default 2 ** 32 */
  maxObjectSize?: number;
}

export type ResolvedLocalRepoOptions = Required<LocalRepoOptions>;

/**
 * Content workers for a repository in `mode` on `cores` cores. In an archive repository the
 * workers deflate every object a delta produces, a pull's largest CPU cost: two of them, where
 * there are two cores. In the other modes they inflate and write files, which costs little CPU
 * besides the kernel's: one core is left to the pull's thread (network, TLS, verification) and
 * the `xz` programs, so on two cores one worker (a second one only competes with them for the
 * CPU, and each costs its own heap and allocator arena).
 */
export function defaultContentWorkers(mode: RepoMode, cores = availableParallelism()): number {
  return mode === 'archive' ? Math.min(2, cores) : Math.max(1, Math.min(2, cores - 1));
}

/** `mode`: the repository's, which decides the default number of workers (archive when unknown). */
export function resolveLocalRepoOptions(options: LocalRepoOptions = {}, mode: RepoMode = 'archive'): ResolvedLocalRepoOptions {
  const o: ResolvedLocalRepoOptions = {
    fsync: options.fsync ?? 'commit',
    workers: options.workers ?? defaultContentWorkers(mode),
    inlineDeflateBelow: options.inlineDeflateBelow ?? 4096,
    inlineInflateBelow: options.inlineInflateBelow ?? 16384,
    compressionLevel: options.compressionLevel ?? 1,
    maxObjectSize: options.maxObjectSize ?? 2 ** 32,
  };
  if (o.fsync !== 'commit' && o.fsync !== 'object' && o.fsync !== 'none')
    throw invalidArgument('fsync', o.fsync, "must be 'commit', 'object' or 'none'", WHOSE);
  if (!Number.isInteger(o.workers) || o.workers < 1) throw invalidArgument('workers', o.workers, 'must be an integer >= 1', WHOSE);
  if (!(o.inlineDeflateBelow >= 0)) throw invalidArgument('inlineDeflateBelow', o.inlineDeflateBelow, 'must be >= 0', WHOSE);
  if (!(o.inlineInflateBelow >= 0)) throw invalidArgument('inlineInflateBelow', o.inlineInflateBelow, 'must be >= 0', WHOSE);
  if (!Number.isInteger(o.compressionLevel) || o.compressionLevel < 0 || o.compressionLevel > 9) {
    throw invalidArgument('compressionLevel', o.compressionLevel, 'must be an integer 0..9', WHOSE);
  }
  if (!Number.isSafeInteger(o.maxObjectSize) || o.maxObjectSize < 0)
    throw invalidArgument('maxObjectSize', o.maxObjectSize, 'must be a safe integer >= 0', WHOSE);
  return o;
}
