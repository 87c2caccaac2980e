import type { CheckName, CheckResult, CheckStatus, Evidence } from './MirrorCheckResult.js';

export function ev(status: Evidence['status'], what: string, url: string | null, expected: string | null, got: string | null): Evidence {
  return { status, what, url, expected, got };
}

/** fail > warn > pass; `skip` when nothing could be judged (every item unverified, or none). */
export function statusOf(evidence: readonly Evidence[]): CheckStatus {
  if (evidence.some((e) => e.status === 'fail')) return 'fail';
  if (evidence.some((e) => e.status === 'warn')) return 'warn';
  if (evidence.some((e) => e.status === 'pass' || e.status === 'info')) return 'pass';
  return 'skip';
}

/** A result whose summary counts the evidence: "2 fail, 1 unverified, 14 pass" plus the first failure. */
export function resultOf(name: CheckName, evidence: Evidence[], lead?: string, status: CheckStatus = statusOf(evidence)): CheckResult {
  const count = (s: Evidence['status']) => evidence.filter((e) => e.status === s).length;
  const parts = (['fail', 'warn', 'unverified', 'pass'] as const).filter((s) => count(s) > 0).map((s) => `${count(s)} ${s}`);
  const first = evidence.find((e) => e.status === status && (status === 'fail' || status === 'warn'));
  const why = first === undefined ? '' : `: ${first.what}${first.got !== null ? ` — ${first.got}` : ''}`;
  const summary = lead ?? (parts.length === 0 ? 'nothing to check' : `${parts.join(', ')}${why}`);
  return { name, status, summary, evidence };
}
