/**
 * A small pool of worker threads for the CPU-heavy part of content objects (deflate, inflate,
 * SHA-256), so that it overlaps network and disk I/O instead of blocking the event loop.
 *
 * Workers are spawned on demand up to `size`, kept while the pool lives, and unref'd while
 * idle (an idle pool never keeps the process alive). A worker that dies fails only its own
 * job; the next job spawns a replacement. `close()` terminates every worker and fails queued
 * jobs; the pool can be used again afterwards (it respawns lazily).
 */
import { Worker } from 'node:worker_threads';
import createDebug from 'debug';
import { FlathubFetchError } from '../errors/FlathubFetchError.js';
import { ErrorCodes } from '../errors/codes.js';
import { CONTENT_WORKER_SOURCE } from './contentWorkerSource.js';

const debug = createDebug('flathub-fetch:repo');

export type WorkerRequest =
  | { op: 'encode'; header: Uint8Array; content: Uint8Array; expected: string | null; compress: boolean; level: number }
  | { op: 'inflate'; header: Uint8Array; payload: Uint8Array; size: number; keep: boolean }
  | ({ op: 'store'; data: Uint8Array; shared: Uint8Array | null; items: StoreItem[]; level: number } & WorkerWriteOptions)
  | ({ op: 'storeFilez'; data: Uint8Array; items: StoreFilezItem[] } & WorkerWriteOptions);

/** Where and how a worker writes objects. */
export interface WorkerWriteOptions {
  objectsDir: string;
  tmpDir: string;
  fsync: boolean;
  /** Write bare-user-only objects (`.file`: the content, with its mode; symlinks as symlinks) instead of `.filez`. */
  bare: boolean;
}

/** How a content object is materialised in a bare-user-only repository. */
export interface BareFields {
  symlink: boolean;
  /** Permission bits for the file (bare-user-only). */
  mode: number;
  /** Symlink target ('' for a regular file). */
  target: string;
}

/**
 * One `.filez` of a `storeFilez` request (see contentWorkerSource.ts). Byte ranges point into the
 * request's `data`: items hold only numbers and the checksum, so the message clones cheaply.
 */
export interface StoreFilezItem extends BareFields {
  offset: number;
  length: number;
  payloadOffset: number;
  /** Declared content size (from the `.filez` header). */
  size: number;
  /** The framed checksum header of the file info. */
  headerOffset: number;
  headerLength: number;
  expected: string;
}

/** One content object of a `store` request (see contentWorkerSource.ts); ranges of `data`, as in `StoreFilezItem`. */
export interface StoreItem extends BareFields {
  /** The content: `[offset, offset + length)` of `shared` when `inShared`, else of `data`. */
  offset: number;
  length: number;
  inShared: boolean;
  /** The framed checksum header of the file info. */
  headerOffset: number;
  headerLength: number;
  filezHeaderOffset: number;
  filezHeaderLength: number;
  expected: string;
}

export type StoreResult =
  | { status: 'ok' }
  | { status: 'mismatch'; checksum: string }
  | { status: 'fs'; syscall: string; path: string; code: string | undefined; message: string }
  | { status: 'too-large' | 'short' | 'zlib'; message: string; length?: number };

export type WorkerReply =
  | { ok: true; checksum: string; data: Uint8Array | null; results?: StoreResult[] }
  | { ok: false; kind: 'too-large' | 'short' | 'zlib'; message: string; length?: number };

interface Job {
  id: number;
  request: WorkerRequest;
  transfer: ArrayBuffer[];
  resolve(reply: WorkerReply): void;
  reject(err: unknown): void;
}

interface Slot {
  worker: Worker;
  job: Job | null;
}

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
    const closed = new FlathubFetchError(ErrorCodes.ABORTED, 'content worker pool closed', {});
    for (const job of queued) job.reject(closed);
    for (const s of slots) s.job?.reject(closed);
    if (slots.length > 0) debug('terminating %d content worker(s)', slots.length);
    await Promise.all(slots.map((s) => s.worker.terminate()));
  }

  #dispatch(): void {
    while (this.#queue.length > 0) {
      let slot = this.#slots.find((s) => s.job === null);
      if (slot === undefined) {
        if (this.#slots.length >= this.size) return;
        slot = this.#spawn();
      }
      const job = this.#queue.shift() as Job;
      slot.job = job;
      slot.worker.ref();
      try {
        slot.worker.postMessage({ id: job.id, ...job.request }, job.transfer);
      } catch (err) {
        slot.job = null;
        slot.worker.unref();
        job.reject(err);
      }
    }
  }

  #spawn(): Slot {
    const worker = new Worker(CONTENT_WORKER_SOURCE, { eval: true, name: 'flathub-fetch content' });
    const slot: Slot = { worker, job: null };
    worker.on('message', (msg: WorkerReply & { id: number }) => {
      const job = slot.job;
      if (job === null || job.id !== msg.id) return;
      slot.job = null;
      worker.unref();
      const { id: _id, ...reply } = msg;
      job.resolve(reply as WorkerReply);
      this.#dispatch();
    });
    const fail = (err: unknown): void => {
      const i = this.#slots.indexOf(slot);
      if (i === -1) return;
      this.#slots.splice(i, 1);
      debug('content worker failed: %s', err instanceof Error ? err.message : String(err));
      const job = slot.job;
      slot.job = null;
      job?.reject(err instanceof Error ? err : new Error(`content worker exited (${String(err)})`));
      this.#dispatch();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`content worker exited with code ${code}`)));
    this.#slots.push(slot);
    debug('spawned content worker %d/%d', this.#slots.length, this.size);
    return slot;
  }
}
