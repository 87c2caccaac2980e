/**
 * Events a pull emits, as things happen: `request` (one per HTTP attempt) and `progress` events
 * from the start — the requests that open the remote and price the plan (config, summaries,
 * signatures, delta indexes, superblocks) come before `plan` — then `plan`, then the pull's
 * requests, progress, `part` events and any `part-fallback`, and last `done`.
 *
 * A delta part's `part` events come in the order of its stages: `downloading` (it has a download
 * slot), `decoded` (downloaded, verified and decoded; it may then wait for a run slot),
 * `running` (it has a run slot: its objects are being built and written), `applied` (its objects
 * written). At most `partConcurrency` parts are between `downloading` and `decoded`, and at most
 * `partConcurrency` between `running` and `applied`. A part that fails and is replaced by its
 * objects has a `part-fallback` instead of `applied`.
 */
import type { RequestRecord } from '../http/RequestRecord.js';
import type { PullPlan } from './PullPlan.js';
import type { PullResult } from './PullResult.js';

export interface PullProgress {
  phase: 'metadata' | 'delta' | 'fallbacks' | 'objects' | 'verify' | 'done';
  /** Bytes received (bodies), and the total expected; the total only grows, and never below done. */
  bytes: { done: number; total: number };
  /** Objects written or found present, and the total expected. */
  objects: { done: number; total: number };
  requests: number;
  retries: number;
  errors: number;
  /** The HTTP client's in-flight limit as of the latest attempt (lowered under overload by adaptive concurrency), null before any. */
  inFlightLimit: number | null;
  /** Milliseconds since the pull started. */
  elapsed: number;
}

export type PullEvent =
  | { type: 'plan'; plan: PullPlan }
  | { type: 'progress'; progress: PullProgress }
  | { type: 'request'; record: RequestRecord }
  | {
      type: 'part';
      part: number;
      stage: 'downloading' | 'decoded' | 'running' | 'applied';
      /** Objects the part wrote (with `applied`). */
      objects?: number;
    }
  | { type: 'part-fallback'; part: number; reason: string }
  | { type: 'done'; result: PullResult };
