import type { Checksum } from '../formats/checksum.js';
import type { XzDecoderInfo } from '../formats/xzDecoders.js';
import type { RequestRecord } from '../http/RequestRecord.js';
import type { RemoteVerification } from '../trust/SignatureCheck.js';
import type { PullPlan, PullStrategy } from './PullPlan.js';

export interface PullResult {
  remote: string;
  ref: string | null;
  commit: Checksum;
  repo: string;
  plan: PullPlan;
  /** Strategy actually carried out (a failing delta can fall back to objects). */
  strategy: PullPlan['strategy'];
  objects: {
    /** Objects produced by delta parts. */
    fromDelta: number;
    /** Objects fetched individually (fallbacks, per-object pulls, recovery of failed parts). */
    loose: number;
    /**
     * Objects found already present locally: by the tree walk of an objects pull, or among the
     * objects a delta lists (a delta applied in full needs no walk, so the objects a
     * from-revision delta shares with its source commit are not counted).
     */
    present: number;
  };
  /** Delta parts skipped because every object they produce was present. */
  partsSkipped: number;
  /** Delta parts whose objects were fetched individually after the part kept failing. */
  partsRecovered: number;
  /**
   * The delta carried out, with the objects each part produces (`objects/ab/cd….ext` paths), so
   * diagnostics can spot loose fetches of objects a part already delivered. Absent without a delta.
   */
  delta?: { name: string; parts: Array<{ index: number; inline: boolean; objects: string[] }> };
  /** The signatures checked with `verify: true` (absent otherwise). */
  verification?: RemoteVerification;
  /**
   * The decoders that ran: `xz` for the delta parts (null when no xz part was decoded), `zstd`
   * for zstd-encoded responses (null when none came).
   */
  decoders: { xz: XzDecoderInfo | null; zstd: string | null };
  /** One record per HTTP attempt, in completion order. */
  requests: RequestRecord[];
  /** Wall time, milliseconds. */
  durationMs: number;
  /** Only on the partial result of a failed pull: see {@link FailedPullResult}. */
  failure?: { code: string; message: string };
}

/**
 * The partial result of a failed pull (`failedPullResult(err)`): the requests made until the
 * failure, and the error's code and one-line message. Counts (`objects`, `partsSkipped`…) are
 * zero; `commit` is empty when the target was not resolved.
 */
export interface FailedPullResult extends Omit<PullResult, 'plan' | 'strategy' | 'failure'> {
  /** The plan, or null when the pull failed before it was planned. */
  plan: PullPlan | null;
  /** The planned strategy, or null when the pull failed before it was planned. */
  strategy: PullStrategy | null;
  failure: { code: string; message: string };
}
