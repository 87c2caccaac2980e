/**
 * Fetched `.filez` are verified and written in batches by the content worker threads: objects
 * that arrive within `FILEZ_BATCH_WAIT_MS` of each other (or until a batch is full) go in one
 * job, so the event loop that drives the downloads does no inflating, hashing or file I/O per
 * object. Each queued object is registered as in flight (a second write of it waits for this
 * one) until its batch has settled.
 */
import createDebug from 'debug';
import type { Checksum } from '../formats/checksum.js';
import { ObjectType } from '../formats/ObjectType.js';
import { assertBareUserOnlyStorable } from './assertBareUserOnlyStorable.js';
import type { RepoCore } from './RepoCore.js';
import { mismatch, undecodable, workerFsError } from './writeErrors.js';

const debug = createDebug('flathub-fetch:repo');

/** A batch job's size: enough objects to amortise a worker round trip, small enough to spread over the workers. */
export const BATCH_OBJECTS = 64;
export const BATCH_BYTES = 1024 * 1024;
/** How long a fetched `.filez` may wait for others to share its worker job (a worker round trip costs more). */
const FILEZ_BATCH_WAIT_MS = 2;

interface Queued {
  checksum: Checksum;
  key: string;
  filez: Uint8Array;
  resolve(stored: boolean): void;
  reject(err: unknown): void;
}

export class FilezBatcher {
  readonly #core: RepoCore;
  #queue: Queued[] = [];
  #queuedBytes = 0;
  #timer: ReturnType<typeof setTimeout> | null = null;

  constructor(core: RepoCore) {
    this.#core = core;
  }

  /** Queues a `.filez` for the next batch; resolves true once it is stored. */
  queue(checksum: Checksum, key: string, filez: Uint8Array): Promise<boolean> {
    let resolve!: (stored: boolean) => void;
    let reject!: (err: unknown) => void;
    const promise = new Promise<boolean>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    this.#queue.push({ checksum, key, filez, resolve, reject });
    this.#queuedBytes += filez.length;
    const inflight = this.#core.inflight;
    const settled = promise.then(
      () => undefined,
      () => undefined,
    );
    inflight.set(key, settled);
    void settled.then(() => {
      if (inflight.get(key) === settled) inflight.delete(key);
    });
    if (this.#queue.length >= BATCH_OBJECTS || this.#queuedBytes >= BATCH_BYTES) this.#flush();
    else
      this.#timer ??= setTimeout(() => {
        this.#timer = null;
        this.#flush();
      }, FILEZ_BATCH_WAIT_MS);
    return promise;
  }

  #flush(): void {
    const batch = this.#queue.splice(0);
    this.#queuedBytes = 0;
    if (batch.length === 0) return;
    debug('storeFilez batch of %d', batch.length);
    this.#store(batch).catch((err: unknown) => {
      for (const b of batch) b.reject(err);
    });
  }

  async #store(batch: Queued[]): Promise<void> {
    const core = this.#core;
    const objects = batch.map((b) => ({ checksum: b.checksum, filez: b.filez, dest: core.objectFile(ObjectType.FILE, b.checksum) }));
    await core.ensureObjectDirs(objects.map((o) => o.dest));
    const validate = core.bare ? assertBareUserOnlyStorable : undefined;
    const outcomes = await core.codec.storeFilez(objects, { ...core.workerWriteOptions(), validate });
    batch.forEach((b, k) => {
      const r = outcomes[k];
      const what = `file ${b.checksum}`;
      const dest = objects[k]?.dest as string;
      if (r?.status === 'ok') {
        core.stored(b.key, dest);
        b.resolve(true);
      } else if (r?.status === 'mismatch') b.reject(mismatch(what, b.checksum, r.checksum));
      else if (r?.status === 'error') b.reject(undecodable(what, b.checksum, r.error));
      else if (r?.status === 'fs') b.reject(workerFsError(r));
      else b.reject(new Error(`${what}: no result from the content worker`));
    });
  }
}
