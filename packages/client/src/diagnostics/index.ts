export { buildReport } from './buildReport.js';
export { latencyStats } from './latencyStats.js';
export type { BuildReportOptions, LatencyPair, LatencyStats, PullReport, SlowRequest, WastedFetch } from './PullReport.js';
export { PULL_REPORT_SCHEMA } from './PullReport.js';
export { renderSummaryTable } from './renderSummaryTable.js';
export { type HarLog, type HarTimings, harTimings, type ToHarOptions, toHAR } from './toHAR.js';
export { toJSON } from './toJSON.js';
export { toNDJSON } from './toNDJSON.js';
export { toPrometheus } from './toPrometheus.js';
