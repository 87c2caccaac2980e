/** What a pull will do and why, with the cost of each alternative. */
import type { Checksum } from '../formats/checksum.js';

export type PullStrategy = 'delta-from' | 'delta-scratch' | 'objects' | 'up-to-date';

export interface PlanAlternative {
  strategy: Exclude<PullStrategy, 'up-to-date'>;
  available: boolean;
  /** Delta name (`TO` or `FROM-TO`) for delta strategies. */
  delta: string | null;
  from: Checksum | null;
  /** Requests after repository metadata (config/summary/index). */
  requests: number | null;
  /** Bytes after repository metadata. */
  bytes: number | null;
  /** How far the figures can be trusted. */
  estimate: 'exact' | 'approximate' | 'unknown';
  /** Why it is (un)available or costs what it does. */
  note: string;
}

export interface PullPlan {
  remote: string;
  ref: string | null;
  target: Checksum;
  strategy: PullStrategy;
  reason: string;
  /** The chosen alternative (null when up to date). */
  chosen: PlanAlternative | null;
  alternatives: PlanAlternative[];
  /** Digest the chosen delta's superblock must have (from index or summary), when known. */
  superblockDigest: Checksum | null;
  /** Local commits considered as delta sources (complete ones only). */
  localCommits: Checksum[];
}
