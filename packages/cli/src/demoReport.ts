/**
 * The demo's HTML report: its comparisons (fresh install, then update), each as the two pulls
 * side by side on one time scale with their request waterfalls, in one self-contained page.
 */
import type { PullComparison } from '@flathub-fetch/client';
import { loadClient } from './client.js';
import { writeAtomic } from './writeAtomic.js';

export interface DemoHtmlReport {
  /** The comparisons the demo ran, in order: fresh install, then update. */
  comparisons: PullComparison[];
  /** Where the report goes (absolute path). */
  file: string;
}

const HEADINGS = ['Fresh install', 'Update from the previous release'];

/** Writes the demo's HTML report; true once written. */
export async function writeDemoHtmlReport({ comparisons, file }: DemoHtmlReport): Promise<boolean> {
  const { buildReport, renderHtmlReport } = await loadClient();
  const sections = comparisons.map((c, i) => ({
    kind: 'compare' as const,
    heading: HEADINGS[i] ?? `Comparison ${i + 1}`,
    deltas: buildReport(c.deltas),
    objects: buildReport(c.objects),
  }));
  await writeAtomic(file, renderHtmlReport(sections, { title: 'flathub-fetch demo: with and without static deltas' }));
  return true;
}
