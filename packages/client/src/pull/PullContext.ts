/**
 * Shared state of one pull: the remote's HTTP client, the local repository, limits, the
 * progress tracker and the abort signal.
 */
import type { XzBackend, XzDecoderChoice } from '../formats/xzDecoders.js';
import type { Remote } from '../remote/Remote.js';
import type { LocalRepo } from '../repo/LocalRepo.js';
import type { KnownDirTrees } from './KnownDirTrees.js';
import type { ProgressTracker } from './ProgressTracker.js';

export interface PullContext {
  remote: Remote;
  repo: LocalRepo;
  tracker: ProgressTracker;
  maxInFlight: number;
  partConcurrency: number;
  xzDecoder: XzDecoderChoice;
  /** The xz backends that decoded this pull's delta parts. */
  xzBackends: Set<XzBackend>;
  signal: AbortSignal | undefined;
  /** Dirtrees written from delta parts, for the final tree walk. */
  knownDirTrees: KnownDirTrees;
  /**
   * Settles when the repository may receive this pull's objects (the commit is marked partial):
   * the first requests go out while the marker is written, and every object write awaits it.
   */
  ready: Promise<void>;
}

/** Largest metadata object accepted (libostree's OSTREE_MAX_METADATA_SIZE is 128 MiB for commits/dirtrees). */
export const MAX_METADATA_SIZE = 128 * 1024 * 1024;
/** Largest loose content object accepted when no size is declared. */
export const MAX_CONTENT_SIZE = 8 * 1024 * 1024 * 1024;
