/**
 * Shared state of one pull: the remote's HTTP client, the local repository (read) and the
 * transaction that writes into it, limits, the progress tracker and the abort signal.
 */
import type { XzBackend, XzDecoderChoice } from '../formats/xzDecoders.js';
import type { Remote } from '../remote/Remote.js';
import type { LocalRepo } from '../repo/LocalRepo.js';
import type { RepoTransaction } from '../repo/RepoTransaction.js';
import type { KnownDirTrees } from './KnownDirTrees.js';
import type { ProgressTracker } from './ProgressTracker.js';

export interface PullContext {
  remote: Remote;
  /** What the pull reads: presence, objects already there. */
  repo: LocalRepo;
  /** Where the pull writes (its writes wait for the commit to be marked partial). */
  txn: RepoTransaction;
  tracker: ProgressTracker;
  maxInFlight: number;
  partConcurrency: number;
  xzDecoder: XzDecoderChoice;
  /** The xz backends that decoded this pull's delta parts. */
  xzBackends: Set<XzBackend>;
  signal: AbortSignal | undefined;
  /** Dirtrees written from delta parts, for the final tree walk. */
  knownDirTrees: KnownDirTrees;
}

/** Largest metadata object accepted (libostree's OSTREE_MAX_METADATA_SIZE is 128 MiB for commits/dirtrees). */
export const MAX_METADATA_SIZE = 128 * 1024 * 1024;
/** Largest loose content object accepted when no size is declared. */
export const MAX_CONTENT_SIZE = 8 * 1024 * 1024 * 1024;
