/**
 * The mirror verdict table (one row per mirror, one column per check, the overall status last)
 * and, per mirror, the checks that did not pass with their failing evidence (bounded).
 */
import { CHECK_NAMES, type MirrorCheckResult } from '../mirrors/MirrorCheckResult.js';
import { type Cell, dataTable, esc, fmtMs } from './html.js';

const MAX_EVIDENCE = 20;

export function renderMirrors(result: MirrorCheckResult): string {
  const rows: Cell[][] = result.mirrors.map((m) => [
    m.url,
    ...CHECK_NAMES.map((c): Cell => {
      const check = m.checks.find((x) => x.name === c);
      return check === undefined ? null : { text: check.status, status: check.status };
    }),
    { text: m.status, status: m.status },
    m.performance.requests,
    fmtMs(m.performance.firstByteMs.p50),
  ]);
  const table = dataTable(
    `Verdict per mirror against ${result.primary.url}`,
    ['Mirror', ...CHECK_NAMES, 'Status', 'Requests', 'First byte p50'],
    rows,
  );
  const p = result.primary;
  const intro = `<p>Primary <code>${esc(p.url)}</code>: ${p.refs.selected.length} of ${p.refs.total} refs checked (${esc(p.refs.selected.join(', '))}); keys: ${esc(p.keys.length === 0 ? 'none' : `${p.keys.map((k) => k.keyId).join(', ')} (${p.keySource})`)}; primary trust: <span class="st-${esc(p.trust.status)}">${esc(p.trust.status)}</span>. Overall: <strong class="st-${esc(result.status)}">${esc(result.status)}</strong> in ${esc(fmtMs(result.durationMs))}.</p>`;
  const details: string[] = [];
  for (const m of result.mirrors) {
    const bad = m.checks.filter((c) => c.status === 'fail' || c.status === 'warn');
    if (bad.length === 0) continue;
    const items = bad.map((c) => {
      const ev = c.evidence.filter((e) => e.status === 'fail' || e.status === 'warn');
      const rows = ev.slice(0, MAX_EVIDENCE).map((e): Cell[] => [e.what, { text: e.status, status: e.status }, e.expected, e.got, e.url]);
      const more = ev.length > MAX_EVIDENCE ? `<p class="note">… and ${ev.length - MAX_EVIDENCE} more (see --json).</p>` : '';
      return `<h4><span class="st-${esc(c.status)}">${esc(c.status)}</span> ${esc(c.name)}: ${esc(c.summary)}</h4>${rows.length > 0 ? dataTable(`Evidence of ${c.name}`, ['What', 'Status', 'Expected', 'Got', 'URL'], rows) : ''}${more}`;
    });
    details.push(`<section><h3>${esc(m.url)}</h3>${items.join('')}</section>`);
  }
  return `${intro}${table}${details.join('')}`;
}
