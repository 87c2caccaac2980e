/**
 * Counts what a pull has done against what it expects, and emits progress events whose totals
 * never shrink and never fall below what is done (so a progress bar never runs backwards).
 * Events are throttled to one per `intervalMs` except on phase changes and at the end.
 */
import { RequestLog } from '../http/RequestLog.js';
import type { RequestRecord } from '../http/RequestRecord.js';
import type { PullEvent, PullProgress } from './PullEvent.js';

export class ProgressTracker {
  readonly #emit: (e: PullEvent) => void;
  readonly #started = performance.now();
  readonly #intervalMs: number;
  #last = 0;
  phase: PullProgress['phase'] = 'metadata';
  bytesDone = 0;
  bytesTotal = 0;
  objectsDone = 0;
  objectsTotal = 0;
  requests = 0;
  retries = 0;
  errors = 0;
  inFlightLimit: number | null = null;
  /** Every attempt's record, compact until the result lists them (`records.toArray()`). */
  readonly records = new RequestLog();

  constructor(emit: (e: PullEvent) => void, intervalMs = 100) {
    this.#emit = emit;
    this.#intervalMs = intervalMs;
  }

  onRecord(r: RequestRecord): void {
    this.records.push(r);
    this.requests++;
    if (r.attempt > 1 && r.retryOf !== 'redirect') this.retries++;
    if (r.error !== null) this.errors++;
    if (r.inFlightLimit !== null) this.inFlightLimit = r.inFlightLimit;
    this.bytesDone += r.wireBytes;
    this.#emit({ type: 'request', record: r });
    this.tick();
  }

  expect(bytes: number, objects: number): void {
    this.bytesTotal += bytes;
    this.objectsTotal += objects;
    this.tick();
  }

  /** An estimate of the bytes still to come (a plan's): the total becomes at least done + `bytes`. */
  expectBytesAtLeast(bytes: number): void {
    this.bytesTotal = Math.max(this.bytesTotal, this.bytesDone + bytes);
    this.tick();
  }

  objectDone(n = 1): void {
    this.objectsDone += n;
    this.tick();
  }

  setPhase(phase: PullProgress['phase']): void {
    if (phase === this.phase) return;
    this.phase = phase;
    this.tick(true);
  }

  snapshot(): PullProgress {
    return {
      phase: this.phase,
      bytes: { done: this.bytesDone, total: Math.max(this.bytesTotal, this.bytesDone) },
      objects: { done: this.objectsDone, total: Math.max(this.objectsTotal, this.objectsDone) },
      requests: this.requests,
      retries: this.retries,
      errors: this.errors,
      inFlightLimit: this.inFlightLimit,
      elapsed: performance.now() - this.#started,
    };
  }

  tick(force = false): void {
    const now = performance.now();
    if (!force && now - this.#last < this.#intervalMs) return;
    this.#last = now;
    const p = this.snapshot();
    // Totals only grow: remember what was announced.
    this.bytesTotal = p.bytes.total;
    this.objectsTotal = p.objects.total;
    this.#emit({ type: 'progress', progress: p });
  }

  emitEvent(e: PullEvent): void {
    this.#emit(e);
  }

  get elapsedMs(): number {
    return performance.now() - this.#started;
  }
}
