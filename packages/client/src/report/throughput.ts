/**
 * Throughput over time: the report's wire-byte buckets as bars (MiB/s), re-binned to at most
 * `MAX_BARS` so a long pull stays a small page, with the figures in a table behind the chart.
 */
import { dataDetails, dataTable, esc, fmtBytes, fmtMs, num } from './html.js';
import { niceStep } from './waterfall.js';

const MAX_BARS = 240;
const W = 1000;
const H = 160;
const LEFT = 60;
const BOTTOM = 20;

export interface ThroughputOptions {
  id: string;
  /** Axis length, ms (for side-by-side charts on one scale). @default the buckets' span */
  spanMs?: number;
  /** Highest rate on the axis, bytes/s (shared scale). @default the highest rate */
  maxRate?: number;
}

/** Buckets merged so that there are at most MAX_BARS of them. */
export function rebin(buckets: readonly number[], bucketMs: number): { width: number; bytes: number[] } {
  const factor = Math.max(1, Math.ceil(buckets.length / MAX_BARS));
  const bytes: number[] = [];
  for (let i = 0; i < buckets.length; i += factor) bytes.push(buckets.slice(i, i + factor).reduce((a, b) => a + b, 0));
  return { width: bucketMs * factor, bytes };
}

export function peakRate(buckets: readonly number[], bucketMs: number): number {
  const { width, bytes } = rebin(buckets, bucketMs);
  return Math.max(0, ...bytes.map((b) => (b * 1000) / width));
}

export function renderThroughput(buckets: readonly number[], bucketMs: number, options: ThroughputOptions): string {
  if (buckets.length === 0) return '<p>No bytes were received.</p>';
  const { width, bytes } = rebin(buckets, bucketMs);
  const rates = bytes.map((b) => (b * 1000) / width);
  const maxRate = Math.max(1, options.maxRate ?? Math.max(...rates));
  const span = Math.max(options.spanMs ?? bytes.length * width, bytes.length * width);
  const x = (ms: number) => LEFT + (ms / span) * (W - LEFT - 30);
  const y = (rate: number) => H - BOTTOM - (rate / maxRate) * (H - BOTTOM - 10);
  const bars = rates
    .map(
      (r, i) =>
        `<rect class="tp" x="${num(x(i * width))}" y="${num(y(r))}" width="${num(Math.max(0.5, x((i + 1) * width) - x(i * width) - 0.3))}" height="${num(H - BOTTOM - y(r))}"/>`,
    )
    .join('');
  const yTicks = [0, 0.5, 1]
    .map(
      (f) => `<text class="tick y" x="${LEFT - 4}" y="${num(y(maxRate * f) + 4)}">${esc(`${fmtBytes(Math.round(maxRate * f))}/s`)}</text>`,
    )
    .join('');
  const step = niceStep(span / 8);
  const xTicks: string[] = [];
  for (let t = 0; t <= span + 1e-9; t += step) xTicks.push(`<text class="tick" x="${num(x(t))}" y="${H - 4}">${esc(fmtMs(t))}</text>`);
  const total = bytes.reduce((a, b) => a + b, 0);
  const peak = Math.max(...rates);
  const desc = `${fmtBytes(total)} received over ${fmtMs(bytes.length * width)}, peak ${fmtBytes(Math.round(peak))}/s, in ${fmtMs(width)} steps.`;
  const svg = `<svg class="chart throughput" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-labelledby="${options.id}-t ${options.id}-d"><title id="${options.id}-t">Throughput over time</title><desc id="${options.id}-d">${esc(desc)}</desc><line class="axis" x1="${LEFT}" x2="${W - 10}" y1="${H - BOTTOM}" y2="${H - BOTTOM}"/>${yTicks}${xTicks.join('')}${bars}</svg>`;
  const rows = bytes.map((b, i) => [`${fmtMs(i * width)}–${fmtMs((i + 1) * width)}`, b, `${fmtBytes(Math.round((b * 1000) / width))}/s`]);
  return `<div class="scroll">${svg}</div>${dataDetails(`Throughput data (${bytes.length} intervals of ${fmtMs(width)})`, dataTable('Wire bytes received per interval', ['Interval', 'Bytes', 'Rate'], rows))}`;
}
