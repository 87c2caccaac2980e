export { checkMirrors } from './checkMirrors.js';
export type { MirrorCheckOptions, PerformanceThresholds } from './MirrorCheckOptions.js';
export type { MirrorCheckEvent } from './MirrorCheckEvent.js';
export {
  CHECK_NAMES,
  MIRROR_CHECK_SCHEMA,
  type CheckName,
  type CheckResult,
  type CheckStatus,
  type Evidence,
  type FreshnessFacts,
  type LatencySummary,
  type MirrorCheckResult,
  type MirrorKind,
  type MirrorReport,
  type OverallStatus,
  type PerformanceFacts,
} from './MirrorCheckResult.js';
export { mirrorsToPrometheus } from './mirrorsToPrometheus.js';
export { renderMirrorTable, type RenderMirrorOptions } from './renderMirrorTable.js';
export { refGlob } from './sampleObjects.js';
