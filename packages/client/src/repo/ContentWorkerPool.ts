/**
 * A small pool of worker threads for the CPU-heavy part of content objects (deflate, inflate,
 * SHA-256), so that it overlaps network and disk I/O instead of blocking the event loop.
 *
 * Workers are spawned on demand up to `size`, kept while the pool lives, and unref'd while
 * idle (an idle pool never keeps the process alive). Each worker has up to two jobs posted, so
 * it starts the next while its reply travels back. A worker that dies fails only its own jobs;
 * the next job spawns a replacement. `close()` terminates every worker and fails queued
 * jobs; the pool can be used again afterwards (it respawns lazily).
 */
import { Worker } from 'node:worker_threads';
import createDebug from 'debug';
import type { WorkerReply, WorkerRequest } from './contentWorkerProtocol.js';
import { abortError } from '../errors/abortError.js';

const debug = createDebug('flathub-fetch:repo');

export type { WorkerReply, WorkerRequest, WorkerWriteOptions } from './contentWorkerProtocol.js';

/** Jobs posted to one worker before its previous reply is back: hides the round trip through a busy caller. */
const DEPTH = 2;

interface Job {
  id: number;
  request: WorkerRequest;
  transfer: ArrayBuffer[];
  resolve(reply: WorkerReply): void;
  reject(err: unknown): void;
}

interface Slot {
  worker: Worker;
  /** Posted and not yet answered, oldest first (a worker answers in order). */
  jobs: Job[];
}

/** The worker module beside this one: the build's `.js`, or the source's `.ts` where this runs from sources (tests). */
const WORKER_URL = new URL(import.meta.url.endsWith('.ts') ? './contentWorker.ts' : './contentWorker.js', import.meta.url);

export class ContentWorkerPool {
  readonly size: number;
  #slots: Slot[] = [];
  #queue: Job[] = [];
  #nextId = 1;

  constructor(size: number) {
    this.size = Math.max(1, Math.floor(size));
  }

  /** Number of live worker threads (0 until the first job). */
  get threads(): number {
    return this.#slots.length;
  }

  /**
   * Runs one request. Byte arrays in `request` are transferred when listed in `transfer`
   * (the caller must not use them afterwards), otherwise copied.
   */
  run(request: WorkerRequest, transfer: ArrayBuffer[] = []): Promise<WorkerReply> {
    return new Promise<WorkerReply>((resolve, reject) => {
      this.#queue.push({ id: this.#nextId++, request, transfer, resolve, reject });
      this.#dispatch();
    });
  }

  /** Starts every worker now (idle and unref'd), so their start-up overlaps what the caller waits for. */
  warm(): void {
    while (this.#slots.length < this.size) this.#spawn().worker.unref();
  }

  async close(): Promise<void> {
    const slots = this.#slots;
    const queued = this.#queue;
    this.#slots = [];
    this.#queue = [];
    const closed = abortError('content worker pool closed');
    for (const job of queued) job.reject(closed);
    for (const s of slots) for (const job of s.jobs) job.reject(closed);
    if (slots.length > 0) debug('terminating %d content worker(s)', slots.length);
    await Promise.all(slots.map((s) => s.worker.terminate()));
  }

  #dispatch(): void {
    while (this.#queue.length > 0) {
      // An idle worker first, then a new one, then one with room in its pipeline.
      let slot = this.#slots.find((s) => s.jobs.length === 0);
      if (slot === undefined && this.#slots.length < this.size) slot = this.#spawn();
      slot ??= this.#slots.find((s) => s.jobs.length < DEPTH);
      if (slot === undefined) return;
      const job = this.#queue.shift() as Job;
      slot.jobs.push(job);
      slot.worker.ref();
      try {
        slot.worker.postMessage({ id: job.id, ...job.request }, job.transfer);
      } catch (err) {
        slot.jobs.pop();
        if (slot.jobs.length === 0) slot.worker.unref();
        job.reject(err);
      }
    }
  }

  #spawn(): Slot {
    // No inherited options: the parent's V8 / process flags are not valid in a worker
    // (ERR_WORKER_INVALID_EXEC_ARGV).
    const execArgv: string[] = [];
    const worker = new Worker(WORKER_URL, { execArgv, name: 'flathub-fetch content' });
    const slot: Slot = { worker, jobs: [] };
    worker.on('message', (msg: WorkerReply & { id: number }) => {
      const job = slot.jobs[0];
      if (job === undefined || job.id !== msg.id) return;
      slot.jobs.shift();
      if (slot.jobs.length === 0) worker.unref();
      const { id: _id, ...reply } = msg;
      job.resolve(reply as WorkerReply);
      this.#dispatch();
    });
    const fail = (err: unknown): void => {
      const i = this.#slots.indexOf(slot);
      if (i === -1) return;
      this.#slots.splice(i, 1);
      debug('content worker failed: %s', err instanceof Error ? err.message : String(err));
      const jobs = slot.jobs;
      slot.jobs = [];
      for (const job of jobs) job.reject(err instanceof Error ? err : new Error(`content worker exited (${String(err)})`));
      this.#dispatch();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`content worker exited with code ${code}`)));
    this.#slots.push(slot);
    debug('spawned content worker %d/%d', this.#slots.length, this.size);
    return slot;
  }
}
