/**
 * Small HTML building blocks for the report page: escaping (every value that reaches the page
 * goes through `esc`, URLs and server-sent strings are untrusted), number formatting, and an
 * accessible data table.
 */

import { formatBytes } from '../diagnostics/formatBytes.js';

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for element content and quoted attribute values alike. */
export function esc(value: unknown): string {
  return String(value ?? '').replace(/[&<>"']/g, (c) => ENTITIES[c] as string);
}

export function fmtBytes(n: number | null | undefined): string {
  return n === null || n === undefined || !Number.isFinite(n) ? '–' : formatBytes(n);
}

export function fmtMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '–';
  if (Math.abs(ms) >= 10_000) return `${(ms / 1000).toFixed(1)} s`;
  if (Math.abs(ms) >= 1000) return `${(ms / 1000).toFixed(2)} s`;
  return `${ms < 10 ? ms.toFixed(1) : Math.round(ms)} ms`;
}

/** A number with at most 3 decimals, for SVG coordinates (keeps the file small). */
export function num(x: number): string {
  return String(Math.round(x * 1000) / 1000);
}

export type Cell = string | number | null | { html: string } | { text: string; status: string };

function cell(c: Cell, tag: 'td' | 'th'): string {
  if (c !== null && typeof c === 'object' && 'html' in c) return `<${tag}>${c.html}</${tag}>`;
  if (c !== null && typeof c === 'object') return `<${tag} class="st-${esc(c.status)}">${esc(c.text)}</${tag}>`;
  return `<${tag}${typeof c === 'number' ? ' class="n"' : ''}>${c === null ? '–' : esc(c)}</${tag}>`;
}

/** A table with a caption and column headers; the first column heads its row. */
export function dataTable(caption: string, columns: readonly string[], rows: readonly (readonly Cell[])[]): string {
  const head = `<tr>${columns.map((c) => `<th scope="col">${esc(c)}</th>`).join('')}</tr>`;
  const body = rows.map(
    (r) => `<tr>${r.map((c, i) => (i === 0 ? cell(c, 'th').replace('<th', '<th scope="row"') : cell(c, 'td'))).join('')}</tr>`,
  );
  return `<table><caption>${esc(caption)}</caption><thead>${head}</thead><tbody>${body.join('')}</tbody></table>`;
}

/** The data behind a chart, folded away (screen readers and copy-paste get the figures). */
export function dataDetails(summary: string, table: string): string {
  return `<details class="data"><summary>${esc(summary)}</summary>${table}</details>`;
}
