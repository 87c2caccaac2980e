/**
 * The demo's HTML report: the ONE place the demo hands its comparison to the HTML renderer.
 *
 * MERGE POINT (issue #18, part 2). The self-contained HTML renderer (request waterfall by
 * connection, throughput over time, delta-vs-objects side by side) is built on another branch;
 * its function name is not known here. At merge, replace the body of `writeDemoHtmlReport` with
 * a call to it that writes `file` from `comparisons` (each a full PullComparison: both pulls'
 * results with every RequestRecord) and returns true. Until then it writes nothing and returns
 * false, and the demo says that the report is not available in this build.
 */
import type { PullComparison } from '@flathub-fetch/client';

export interface DemoHtmlReport {
  /** The comparisons the demo ran, in order: fresh install, then update. */
  comparisons: PullComparison[];
  /** Where the report goes (absolute path). */
  file: string;
}

/** Writes the demo's HTML report; false while no renderer is wired (see the merge point above). */
export async function writeDemoHtmlReport(_report: DemoHtmlReport): Promise<boolean> {
  return false;
}
