import type { PullReport } from './PullReport.js';

/**
 * The report as plain JSON data (schema `flathub-fetch/pull-report@1`, see `SCHEMA.md`). Keys are
 * stable within a schema version; new keys may be added, none removed or retyped.
 */
export function toJSON(report: PullReport): PullReport {
  return JSON.parse(JSON.stringify(report)) as PullReport;
}
