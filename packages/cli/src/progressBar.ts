/**
 * A live one-line progress display for a TTY on stderr: bytes and objects against totals, rate,
 * ETA, requests, retries and errors. Redrawn at most every 100 ms; cleared at the end.
 */
import type { PullProgress } from '@flathub-fetch/client';
import { formatBytes } from './output.js';

export class ProgressBar {
  readonly #stream: NodeJS.WritableStream & { columns?: number };
  #lastDraw = 0;
  #drawn = false;
  /** Highest in-flight limit seen: a lower current one means the client is backing off. */
  #maxLimit = 0;

  constructor(stream: NodeJS.WritableStream & { columns?: number }) {
    this.#stream = stream;
  }

  /** Redraws (at most every 100 ms unless `force`); `label` replaces the phase name's place. */
  update(p: PullProgress, force = false, label?: string): void {
    const now = performance.now();
    if (!force && now - this.#lastDraw < 100) return;
    this.#lastDraw = now;
    this.#stream.write(`\r\u001b[2K${label === undefined ? '' : `${label} `}${this.line(p)}`);
    this.#drawn = true;
  }

  line(p: PullProgress): string {
    const width = Math.max(10, Math.min(30, (this.#stream.columns ?? 80) - 70));
    const frac = p.bytes.total > 0 ? Math.min(1, p.bytes.done / p.bytes.total) : 0;
    const fill = Math.round(frac * width);
    const bar = `[${'#'.repeat(fill)}${'.'.repeat(width - fill)}]`;
    const secs = p.elapsed / 1000;
    const rate = secs > 0 ? p.bytes.done / secs : 0;
    const eta = rate > 0 && p.bytes.total > p.bytes.done ? `${Math.ceil((p.bytes.total - p.bytes.done) / rate)}s` : '-';
    if (p.inFlightLimit !== null) this.#maxLimit = Math.max(this.#maxLimit, p.inFlightLimit);
    const extras = [
      p.retries > 0 ? `${p.retries} retries` : '',
      p.errors > 0 ? `${p.errors} errors` : '',
      p.inFlightLimit !== null && p.inFlightLimit < this.#maxLimit ? `backing off: ${p.inFlightLimit}/${this.#maxLimit} in flight` : '',
    ]
      .filter(Boolean)
      .join(', ');
    return `${p.phase.padEnd(9)} ${bar} ${formatBytes(p.bytes.done)}/${formatBytes(p.bytes.total)} ${p.objects.done}/${p.objects.total} obj ${formatBytes(rate)}/s ETA ${eta} ${p.requests} req${extras ? ` (${extras})` : ''}`;
  }

  clear(): void {
    if (this.#drawn) this.#stream.write('\r\u001b[2K');
    this.#drawn = false;
  }
}
