import { expect } from 'vitest';
import { type RequestRecord, TIMING_PHASES } from '../../packages/client/src/http/RequestRecord.js';

/** Phases present are non-negative and never decrease in the order they happen; `done` is set. */
export function expectOrderedTimings(r: RequestRecord): void {
  let last = Number.NEGATIVE_INFINITY;
  for (const k of TIMING_PHASES) {
    const v = r.timings[k];
    if (v === null) continue;
    expect(v, `${r.url} ${k}`).toBeGreaterThanOrEqual(0);
    expect(v, `${r.url} ${k} after the previous phase`).toBeGreaterThanOrEqual(last);
    last = v;
  }
  expect(r.timings.done, r.url).not.toBeNull();
}
