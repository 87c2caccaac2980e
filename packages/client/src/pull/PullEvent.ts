/** Events a pull emits, in order: plan, then progress (many), then done. */
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
  /** Milliseconds since the pull started. */
  elapsed: number;
}

export type PullEvent =
  | { type: 'plan'; plan: PullPlan }
  | { type: 'progress'; progress: PullProgress }
  | { type: 'request'; record: RequestRecord }
  | { type: 'part-fallback'; part: number; reason: string }
  | { type: 'done'; result: PullResult };
