/**
 * The request waterfall: one row per attempt, grouped by connection (lanes in the order the
 * connections first carried a request), each row split into its phases — queued, DNS, connect,
 * TLS, waiting for the first byte, transfer — on a shared time axis. Retries and errors are
 * marked. Past `maxBars` attempts, the errors and retries and the first attempts in time order
 * are drawn and the rest of each connection is one aggregate bar with its count (said on the page):
 * the page stays bounded for pulls of tens of thousands of requests.
 */
import type { RequestRecord } from '../http/RequestRecord.js';
import { type Cell, dataDetails, dataTable, esc, fmtBytes, fmtMs, num } from './html.js';

export const PHASES = ['queued', 'dns', 'connect', 'tls', 'wait', 'transfer'] as const;
export type Phase = (typeof PHASES)[number];
export const PHASE_LABEL: Record<Phase, string> = {
  queued: 'queued',
  dns: 'DNS',
  connect: 'TCP connect',
  tls: 'TLS',
  wait: 'waiting (first byte)',
  transfer: 'transfer',
};

export interface Span {
  phase: Phase;
  start: number;
  end: number;
}

/** The phases of one attempt as absolute spans (ms from `performance.timeOrigin`), gaps folded into the next phase. */
export function phasesOf(r: RequestRecord): Span[] {
  const t = r.timings;
  const end = t.done ?? t.lastByte ?? t.firstByte ?? t.requestSent ?? t.dispatched ?? t.queued;
  const marks: Array<[Phase, number | null, number | null]> = [
    ['queued', t.queued, t.dispatched],
    ['dns', t.dnsStart, t.dnsEnd],
    ['connect', t.connectStart, t.tlsStart ?? t.connectEnd],
    ['tls', t.tlsStart, t.tlsEnd],
    ['wait', null, t.firstByte ?? (t.requestSent !== null ? end : null)],
    ['transfer', null, t.firstByte === null ? null : (t.lastByte ?? t.done)],
  ];
  const spans: Span[] = [];
  let cursor = t.queued;
  for (const [phase, s, e] of marks) {
    if (e === null) continue;
    const start = Math.max(cursor, s ?? cursor);
    const stop = Math.max(start, e);
    if (phase === 'queued' || stop > start || phase === 'wait' || phase === 'transfer') spans.push({ phase, start: cursor, end: stop });
    cursor = stop;
  }
  if (spans.length === 0) spans.push({ phase: 'queued', start: t.queued, end });
  return spans;
}

export interface WaterfallOptions {
  /** Attempts drawn one by one; beyond, aggregated per connection. */
  maxBars: number;
  /** Time origin of the axis (ms from performance.timeOrigin); the earliest queued time when null. */
  origin?: number | null;
  /** Axis length, ms (for side-by-side charts on one scale). @default the span of these attempts */
  spanMs?: number;
  /** Prefix of element ids (unique per page). */
  id: string;
}

const W = 1000;
const LABEL = 150;
const ROW = 7;
const GAP = 1;
const LANE_GAP = 6;
const AXIS = 22;

/** Smallest and largest of `f` over `xs` (a loop: spreading a huge array into Math.min overflows the stack). */
function extent<T>(xs: readonly T[], f: (x: T) => number): [number, number] {
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const x of xs) {
    const v = f(x);
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return [lo, hi];
}

const pathOf = (url: string) => {
  try {
    const u = new URL(url);
    return u.pathname + u.search;
  } catch {
    return url;
  }
};

interface Lane {
  key: string;
  label: string;
  drawn: RequestRecord[];
  rest: RequestRecord[];
}

function lanesOf(entries: readonly RequestRecord[], maxBars: number): { lanes: Lane[]; aggregated: number } {
  const byTime = [...entries].sort((a, b) => a.timings.queued - b.timings.queued || a.id - b.id);
  // Errors and retries are always drawn; then attempts in time order until the budget is spent.
  const keep = new Set<RequestRecord>(byTime.filter((r) => r.error !== null || r.attempt > 1).slice(0, maxBars));
  for (const r of byTime) {
    if (keep.size >= maxBars) break;
    keep.add(r);
  }
  const lanes = new Map<string, Lane>();
  for (const r of byTime) {
    const key = r.connectionId === null ? 'none' : String(r.connectionId);
    let lane = lanes.get(key);
    if (lane === undefined) {
      const where = r.remoteAddress === null ? '' : ` ${r.remoteAddress}${r.remotePort === null ? '' : `:${r.remotePort}`}`;
      lane = { key, label: r.connectionId === null ? 'no connection' : `connection ${r.connectionId}${where}`, drawn: [], rest: [] };
      lanes.set(key, lane);
    }
    (keep.has(r) ? lane.drawn : lane.rest).push(r);
  }
  return { lanes: [...lanes.values()], aggregated: entries.length - keep.size };
}

function describe(r: RequestRecord, origin: number): string {
  const t = r.timings;
  const parts = [
    `#${r.id} ${r.method} ${pathOf(r.url)}`,
    `${r.purpose}, attempt ${r.attempt}${r.retryOf === null ? '' : ` (retry after ${r.retryOf})`}`,
    `status ${r.status ?? 'none'}, ${fmtBytes(r.wireBytes)}`,
    `from ${fmtMs(t.queued - origin)} to ${fmtMs((t.done ?? t.queued) - origin)}`,
  ];
  if (r.error !== null) parts.push(`error ${r.error.class}: ${r.error.message}`);
  return parts.join('; ');
}

/** The SVG chart and its data table. */
export function renderWaterfall(entries: readonly RequestRecord[], options: WaterfallOptions): string {
  if (entries.length === 0) return '<p>No HTTP requests were made.</p>';
  const origin = options.origin ?? extent(entries, (r) => r.timings.queued)[0];
  const endOf = (r: RequestRecord) => r.timings.done ?? r.timings.lastByte ?? r.timings.firstByte ?? r.timings.queued;
  const span = Math.max(1, options.spanMs ?? extent(entries, endOf)[1] - origin);
  const { lanes, aggregated } = lanesOf(entries, options.maxBars);
  const x = (ms: number) => LABEL + ((ms - origin) / span) * (W - LABEL - 30);
  const out: string[] = [];
  let y = AXIS;
  for (const lane of lanes) {
    out.push(`<text class="lane" x="4" y="${y + 8}">${esc(lane.label)}</text>`);
    y += 10;
    for (const r of lane.drawn) {
      const cls = ['req', r.error !== null ? 'err' : '', r.attempt > 1 && r.retryOf !== 'redirect' ? 'retry' : '']
        .filter(Boolean)
        .join(' ');
      const rects = phasesOf(r)
        .map(
          (s) =>
            `<rect class="p-${s.phase}" x="${num(x(s.start))}" y="${y}" width="${num(Math.max(0.5, x(s.end) - x(s.start)))}" height="${ROW}"/>`,
        )
        .join('');
      const mark =
        r.error !== null
          ? `<text class="mark" x="${num(x(endOf(r)) + 2)}" y="${y + ROW}">✕</text>`
          : r.attempt > 1 && r.retryOf !== 'redirect'
            ? `<text class="mark" x="${num(x(endOf(r)) + 2)}" y="${y + ROW}">↻</text>`
            : '';
      out.push(`<g class="${cls}" data-id="${r.id}"><title>${esc(describe(r, origin))}</title>${rects}${mark}</g>`);
      y += ROW + GAP;
    }
    if (lane.rest.length > 0) {
      const s = extent(lane.rest, (r) => r.timings.queued)[0];
      const e = extent(lane.rest, endOf)[1];
      const bytes = lane.rest.reduce((n, r) => n + r.wireBytes, 0);
      const label = `${lane.rest.length} more attempts on this connection, ${fmtBytes(bytes)}, ${fmtMs(s - origin)}–${fmtMs(e - origin)}`;
      out.push(
        `<g class="agg" data-count="${lane.rest.length}"><title>${esc(label)}</title><rect x="${num(x(s))}" y="${y}" width="${num(Math.max(0.5, x(e) - x(s)))}" height="${ROW * 2}"/><text x="${num(Math.min(x(s) + 2, W - 200))}" y="${y + ROW * 2 - 3}">${esc(`${lane.rest.length} more`)}</text></g>`,
      );
      y += ROW * 2 + GAP;
    }
    y += LANE_GAP;
  }
  const height = y + 4;
  const ticks: string[] = [];
  const step = niceStep(span / 8);
  for (let t = 0; t <= span + 1e-9; t += step) {
    const tx = num(x(origin + t));
    ticks.push(
      `<line class="grid" x1="${tx}" x2="${tx}" y1="${AXIS - 4}" y2="${height}"/><text class="tick" x="${tx}" y="${AXIS - 8}">${esc(fmtMs(t))}</text>`,
    );
  }
  const titleId = `${options.id}-t`;
  const descId = `${options.id}-d`;
  const desc = `${entries.length} HTTP attempts over ${lanes.length} connections in ${fmtMs(span)}; ${entries.filter((r) => r.error !== null).length} failed, ${entries.filter((r) => r.attempt > 1 && r.retryOf !== 'redirect').length} retries.`;
  const svg = `<svg class="chart waterfall" viewBox="0 0 ${W} ${height}" width="${W}" height="${height}" role="img" aria-labelledby="${titleId} ${descId}"><title id="${titleId}">Request waterfall by connection</title><desc id="${descId}">${esc(desc)}</desc>${ticks.join('')}${out.join('')}</svg>`;
  const note =
    aggregated > 0
      ? `<p class="note">This pull made ${entries.length} attempts: the waterfall draws ${entries.length - aggregated} of them one by one (every failed or retried attempt, then the earliest) and ${aggregated} as one aggregate bar per connection; the table lists the same.</p>`
      : '';
  return `${note}<div class="scroll">${svg}</div>${dataDetails(`Waterfall data (${entries.length - aggregated} attempts${aggregated > 0 ? `, ${aggregated} aggregated` : ''})`, waterfallTable(lanes, origin))}`;
}

function waterfallTable(lanes: readonly Lane[], origin: number): string {
  const rows: Cell[][] = [];
  for (const lane of lanes) {
    for (const r of lane.drawn) {
      const t = r.timings;
      const ph = new Map(phasesOf(r).map((s) => [s.phase, s.end - s.start]));
      rows.push([
        r.id,
        lane.label,
        r.method,
        pathOf(r.url),
        r.purpose,
        r.attempt,
        r.retryOf,
        r.status,
        r.wireBytes,
        fmtMs(t.queued - origin),
        ...PHASES.map((p) => (ph.has(p) ? fmtMs(ph.get(p) as number) : null)),
        r.error === null ? null : { text: `${r.error.class}: ${r.error.message}`, status: 'fail' },
      ]);
    }
    if (lane.rest.length > 0) {
      rows.push([
        `${lane.rest.length} more`,
        lane.label,
        null,
        'aggregated',
        null,
        null,
        null,
        null,
        lane.rest.reduce((n, r) => n + r.wireBytes, 0),
        null,
        ...PHASES.map(() => null),
        null,
      ]);
    }
  }
  return dataTable(
    'HTTP attempts by connection, with phase durations',
    [
      'Attempt',
      'Connection',
      'Method',
      'Path',
      'Purpose',
      'Try',
      'Retry of',
      'Status',
      'Wire bytes',
      'Queued at',
      ...PHASES.map((p) => PHASE_LABEL[p]),
      'Error',
    ],
    rows,
  );
}

export function niceStep(raw: number): number {
  const p = 10 ** Math.floor(Math.log10(Math.max(raw, 1e-6)));
  for (const m of [1, 2, 5, 10]) if (m * p >= raw) return m * p;
  return 10 * p;
}

export function legend(): string {
  const items = PHASES.map(
    (p) =>
      `<li><svg width="14" height="10" aria-hidden="true"><rect class="p-${p}" width="14" height="10"/></svg> ${esc(PHASE_LABEL[p])}</li>`,
  );
  items.push(
    '<li><span class="mark" aria-hidden="true">✕</span> failed attempt</li>',
    '<li><span class="mark" aria-hidden="true">↻</span> retry</li>',
  );
  return `<ul class="legend" aria-label="Legend">${items.join('')}</ul>`;
}
