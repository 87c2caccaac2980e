/**
 * The human rendering of a mirror check: a verdict table (one row per mirror, one column per
 * check), then, for each check that did not pass, its summary and its failing evidence.
 */
import { CHECK_NAMES, type MirrorCheckResult } from './MirrorCheckResult.js';

export interface RenderMirrorOptions {
  /** Evidence lines shown per failing or warning check. @default 5 */
  maxEvidence?: number;
  /** Decorates a status word (e.g. colour). @default identity */
  paint?: (status: string, text: string) => string;
}

export function renderMirrorTable(result: MirrorCheckResult, options: RenderMirrorOptions = {}): string[] {
  const paint = options.paint ?? ((_s: string, t: string) => t);
  const max = options.maxEvidence ?? 5;
  const header = ['MIRROR', 'KIND', ...CHECK_NAMES.map((c) => c.toUpperCase()), 'STATUS'];
  const rows = result.mirrors.map((m) => [
    m.url,
    m.kind,
    ...CHECK_NAMES.map((c) => m.checks.find((x) => x.name === c)?.status ?? '-'),
    m.status,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  const line = (cells: string[], colour: boolean) =>
    cells
      .map((c, i) => {
        const padded = c.padEnd(widths[i] as number);
        return colour && i > 1 ? paint(c, padded) : padded;
      })
      .join('  ')
      .trimEnd();
  const out = [line(header, false), ...rows.map((r) => line(r, true))];
  for (const m of result.mirrors) {
    const bad = m.checks.filter((c) => c.status === 'fail' || c.status === 'warn');
    if (bad.length === 0) continue;
    out.push('', `${m.url}`);
    for (const c of bad) {
      out.push(`  ${paint(c.status, c.status)} ${c.name}: ${c.summary}`);
      const items = c.evidence.filter((e) => e.status === 'fail' || e.status === 'warn');
      for (const e of items.slice(0, max)) {
        const exp = e.expected === null ? '' : `expected ${e.expected}, `;
        out.push(`      ${e.what}: ${exp}got ${e.got ?? '-'}${e.url !== null ? `  <${e.url}>` : ''}`);
      }
      if (items.length > max) out.push(`      … ${items.length - max} more (see --json)`);
    }
  }
  const p = result.primary;
  out.push(
    '',
    `primary ${p.url}: ${p.refs.selected.length} of ${p.refs.total} refs checked (${p.refs.selected.join(', ')}); ` +
      `keys: ${p.keys.length === 0 ? 'none' : `${p.keys.map((k) => k.keyId).join(', ')} (${p.keySource})`}; primary trust: ${p.trust.status}`,
    `${result.mirrors.length} mirror${result.mirrors.length === 1 ? '' : 's'}: ${result.status}, ${(result.durationMs / 1000).toFixed(2)} s`,
  );
  return out;
}
