import type { CheckName, CheckStatus, MirrorReport } from './MirrorCheckResult.js';

/** Progress of `checkMirrors()`, in the order it happens (mirrors interleave). */
export type MirrorCheckEvent =
  | { type: 'primary'; url: string; refs: number; selected: string[] }
  | { type: 'mirror-start'; url: string }
  | { type: 'request'; url: string; method: 'GET' | 'HEAD'; path: string; status: number | null; ms: number; error: string | null }
  | { type: 'check'; url: string; check: CheckName; status: CheckStatus; summary: string }
  | { type: 'mirror-done'; url: string; report: MirrorReport };
