import type { RequestPurpose } from './Transport.js';

/**
 * Purposes that fetch repository metadata (config, summaries and signatures, delta indexes, refs)
 * rather than content: what every pull makes before its plan, counted apart by the planner and
 * by pull reports.
 */
export const METADATA_PURPOSES: ReadonlySet<RequestPurpose | string> = new Set<RequestPurpose>([
  'config',
  'summary',
  'summary.sig',
  'summary.idx',
  'summary.idx.sig',
  'subsummary',
  'summary-delta',
  'delta-index',
  'ref',
]);
