/**
 * Rendering helpers: results go to stdout, progress and diagnostics to stderr; colour only on
 * a TTY and never with NO_COLOR.
 */
export interface Output {
  out: NodeJS.WritableStream & { isTTY?: boolean };
  err: NodeJS.WritableStream & { isTTY?: boolean };
  color: boolean;
}

export function defaultOutput(): Output {
  const color = process.stdout.isTTY === true && !('NO_COLOR' in process.env) && process.env.TERM !== 'dumb';
  return { out: process.stdout, err: process.stderr, color };
}

export function style(o: Output, code: string, text: string): string {
  return o.color ? `\u001b[${code}m${text}\u001b[0m` : text;
}

export const bold = (o: Output, t: string) => style(o, '1', t);
export const dim = (o: Output, t: string) => style(o, '2', t);

/** Left-aligned columns; `right` lists column indexes to right-align. */
export function table(rows: string[][], right: readonly number[] = []): string {
  const widths: number[] = [];
  for (const r of rows) {
    r.forEach((c, i) => {
      widths[i] = Math.max(widths[i] ?? 0, visibleLength(c));
    });
  }
  return rows
    .map((r) =>
      r
        .map((c, i) => {
          const pad = ' '.repeat((widths[i] ?? 0) - visibleLength(c));
          if (i === r.length - 1 && !right.includes(i)) return c;
          return right.includes(i) ? pad + c : c + pad;
        })
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

function visibleLength(s: string): number {
  return s.includes('\u001b') ? s.replace(/\u001b\[[0-9;]*m/g, '').length : s.length;
}

export function formatBytes(n: number | null | undefined): string {
  if (n === null || n === undefined) return '-';
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

const times = new Map<number, string>();

/** ISO 8601 UTC to the second; memoised (a Flathub summary has thousands of refs and far fewer distinct times). */
export function formatTime(seconds: number | null): string {
  if (seconds === null) return '-';
  let t = times.get(seconds);
  if (t === undefined) {
    t = new Date(seconds * 1000).toISOString().replace('.000Z', 'Z');
    if (times.size < 100_000) times.set(seconds, t);
  }
  return t;
}

export function writeJson(o: Output, value: unknown): void {
  o.out.write(`${JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? v.toString() : v), 2)}\n`);
}
