/**
 * The write paths of a repository transaction: every object is verified before it is stored,
 * written to `tmp/` and renamed into `objects/XX/` (by this thread for single metadata objects
 * and large `.filez` from content, by the content workers for batches — content, a delta
 * part's metadata — and fetched `.filez`), so
 * `objects/` never holds a partial or unverified object. Writes of the same object may run
 * concurrently (also from several transactions or processes): the rename is atomic and a
 * duplicate is a no-op.
 */
import { dirname } from 'node:path';
import { FlathubFetchError } from '../errors/FlathubFetchError.js';
import { ErrorCodes } from '../errors/codes.js';
import { type Checksum, parseChecksum } from '../formats/checksum.js';
import { type FileInfo, isSymlink, validateFileInfo } from '../formats/FileHeader.js';
import { ObjectType, objectTypeName } from '../formats/ObjectType.js';
import { assertBareUserOnlyStorable } from './assertBareUserOnlyStorable.js';
import { atomicWriteFile } from './atomicWriteFile.js';
import { BATCH_BYTES, BATCH_OBJECTS, FilezBatcher } from './FilezBatcher.js';
import { FilezReceiver, FilezStream } from './FilezReceiver.js';
import type { RepoCore } from './RepoCore.js';
import { verifyCommitMeta, verifyMetadataObject } from './verifyMetadataObject.js';
import { mismatch, undecodable, workerFsError } from './writeErrors.js';

/** A content object given as file info and content. */
export interface ContentObject {
  checksum: Checksum;
  info: FileInfo;
  content: Uint8Array;
}

/** A content object of `writeContentBatch` on its way to a worker. */
interface BatchObject extends ContentObject {
  dest: string;
  key: string;
}

/** A metadata object (dirtree, dirmeta, commit; commitmeta as `writeCommitMeta`) given as its bytes. */
export interface MetadataObject {
  type: ObjectType;
  checksum: Checksum;
  bytes: Uint8Array;
}

/** A metadata object of `writeMetadataBatch`, verified, on its way to a worker. */
interface MetadataBatchObject extends MetadataObject {
  dest: string;
  key: string;
}

interface BatchCounts {
  stored: number;
  firstError: unknown;
}

/** `.filez` bodies above this many bytes are streamed to disk as they arrive (`receiveFilez`). */
const STREAM_FILEZ_ABOVE = 512 * 1024;

export class ObjectWriter {
  readonly #core: RepoCore;
  readonly #filez: FilezBatcher;

  constructor(core: RepoCore) {
    this.#core = core;
    this.#filez = new FilezBatcher(core);
  }

  /** See `RepoTransaction.writeMetadata`. */
  async writeMetadata(type: ObjectType, checksum: Checksum, bytes: Uint8Array): Promise<boolean> {
    const c = parseChecksum(checksum, `${objectTypeName(type)} checksum`);
    if (type === ObjectType.COMMIT_META) {
      await this.writeCommitMeta(c, bytes);
      return true;
    }
    verifyMetadataObject(type, c, bytes);
    return this.#store(type, c, [bytes], false);
  }

  /** See `RepoTransaction.writeMetadataBatch`. */
  async writeMetadataBatch(objects: readonly MetadataObject[]): Promise<number> {
    const core = this.#core;
    const todo: MetadataBatchObject[] = [];
    const waits: Promise<unknown>[] = [];
    const seen = new Set<string>();
    // Every object checked before any write starts: a bad one fails the batch with nothing sent.
    const checked = objects.map((o) => {
      const c = parseChecksum(o.checksum, `${objectTypeName(o.type)} checksum`);
      if (o.type === ObjectType.COMMIT_META) verifyCommitMeta(c, o.bytes);
      else verifyMetadataObject(o.type, c, o.bytes);
      return { ...o, checksum: c };
    });
    for (const o of checked) {
      const c = o.checksum;
      if (o.type === ObjectType.COMMIT_META) {
        waits.push(this.#store(o.type, c, [o.bytes], true));
        continue;
      }
      const key = core.key(o.type, c);
      if (core.index.has(key) || seen.has(key)) continue;
      seen.add(key);
      // Another write of it is under way: its outcome decides (see #store).
      if (core.inflight.has(key)) waits.push(this.#store(o.type, c, [o.bytes], false));
      else todo.push({ type: o.type, checksum: c, bytes: o.bytes, dest: core.objectFile(o.type, c), key });
    }
    await core.ensureObjectDirs(todo.map((o) => o.dest));
    const counts: BatchCounts = { stored: 0, firstError: null };
    const jobs: Promise<void>[] = [];
    for (let i = 0; i < todo.length; i += BATCH_OBJECTS) {
      const batch = todo.slice(i, i + BATCH_OBJECTS);
      jobs.push(this.#inflightJob(batch, this.#storeMetadataBatch(batch, counts)));
    }
    return this.#settleBatch(jobs, waits, counts);
  }

  /** `job` is the write of `batch`'s objects while it runs (see `RepoCore.inflight`). */
  #inflightJob(batch: ReadonlyArray<{ key: string }>, job: Promise<void>): Promise<void> {
    const inflight = this.#core.inflight;
    for (const o of batch) inflight.set(o.key, job);
    return job.finally(() => {
      for (const o of batch) if (inflight.get(o.key) === job) inflight.delete(o.key);
    });
  }

  /** Waits for a batch call's jobs and waits; the first failure rejects, else the objects stored. */
  async #settleBatch(jobs: Promise<void>[], waits: Promise<unknown>[], counts: BatchCounts): Promise<number> {
    const settled = await Promise.allSettled([...jobs, ...waits]);
    for (const s of settled) if (s.status === 'rejected') counts.firstError ??= s.reason;
    if (counts.firstError !== null) throw counts.firstError;
    return counts.stored;
  }

  /** One worker job of metadata; its failures go to `counts.firstError` (the first one wins). */
  async #storeMetadataBatch(batch: MetadataBatchObject[], counts: BatchCounts): Promise<void> {
    const core = this.#core;
    const results = await core.codec.storeMetadata(batch, core.workerWriteOptions());
    batch.forEach((o, k) => {
      const r = results[k];
      if (r?.status === 'ok') {
        core.stored(o.key, o.dest);
        counts.stored++;
      } else if (r?.status === 'fs') counts.firstError ??= workerFsError(r);
      else counts.firstError ??= new Error(`${objectTypeName(o.type)} ${o.checksum}: no result from the content worker`);
    });
  }

  /** See `RepoTransaction.writeCommitMeta`. */
  async writeCommitMeta(checksum: Checksum, bytes: Uint8Array): Promise<void> {
    const c = parseChecksum(checksum, 'commit checksum');
    verifyCommitMeta(c, bytes);
    await this.#store(ObjectType.COMMIT_META, c, [bytes], true);
  }

  /** See `RepoTransaction.writeContent`. */
  async writeContent(checksum: Checksum, info: FileInfo, content: Uint8Array): Promise<boolean> {
    const core = this.#core;
    const c = parseChecksum(checksum, 'content checksum');
    const what = `file ${c}`;
    validateFileInfo({ ...info, size: isSymlink(info) ? 0 : content.length }, what);
    if (isSymlink(info) ? content.length !== 0 : info.size !== content.length) {
      throw new FlathubFetchError(ErrorCodes.INVALID_ARGUMENT, `${what}: info.size ${info.size} but ${content.length} content bytes`, {
        argument: 'content',
        value: content.length,
        reason: 'size does not match info.size',
      });
    }
    if (core.bare) assertBareUserOnlyStorable(info, c);
    const key = core.key(ObjectType.FILE, c);
    if (core.index.has(key) || core.inflight.has(key)) {
      // Already stored or being stored: still refuse wrong bytes, but skip the compression.
      const { checksum: actual } = await core.codec.encode(info, content, { expected: c, compress: false });
      if (actual !== c) throw mismatch(what, c, actual);
      if (await this.#settled(key)) return false;
    }
    // bare-user-only: the object is the file itself, hashed and written by a worker.
    if (core.bare) return (await this.writeContentBatch([{ checksum: c, info, content }], () => undefined)) === 1;
    const { checksum: actual, filez } = await core.codec.encode(info, content, { expected: c, compress: true });
    if (actual !== c || filez === null) throw mismatch(what, c, actual);
    return this.#store(ObjectType.FILE, c, filez, false);
  }

  /** See `RepoTransaction.writeContentBatch`. */
  async writeContentBatch(objects: readonly ContentObject[], onWritten: (n: number) => void): Promise<number> {
    // The per-object loops live in small methods of their own: V8 optimises a hot loop together
    // with the function around it, and this async function would be large.
    const { todo, waits } = this.#batchTodo(objects);
    await this.#core.ensureObjectDirs(todo.map((o) => o.dest));
    const counts: BatchCounts = { stored: 0, firstError: null };
    return this.#settleBatch(this.#batchJobs(todo, counts, onWritten), waits, counts);
  }

  /**
   * See `RepoTransaction.receiveFilez`; `track` runs a write under the transaction (after its
   * preparation, counted until it settles).
   */
  receiveFilez(
    checksum: Checksum,
    declaredSize: number | undefined,
    track: (write: () => Promise<unknown>) => Promise<unknown>,
  ): FilezReceiver {
    const core = this.#core;
    const c = parseChecksum(checksum, 'content checksum');
    const key = core.key(ObjectType.FILE, c);
    const dest = core.objectFile(ObjectType.FILE, c);
    return new FilezReceiver(
      {
        streamAbove: STREAM_FILEZ_ABOVE,
        writeWhole: (filez) => track(() => this.writeFilez(c, filez)),
        openStream: () => {
          const made = core.ensureObjectDir(dirname(dest));
          made.catch(() => undefined); // awaited by the stream before its rename
          const { tmpDir, fsync, bare } = core.workerWriteOptions();
          return new FilezStream(c, { tmpDir, dest, bare, fsync, maxObjectSize: core.options.maxObjectSize, ready: made });
        },
        commitStream: (stream) =>
          track(async () => {
            await stream.finish();
            core.stored(key, dest);
          }),
      },
      declaredSize,
    );
  }

  /** See `RepoTransaction.writeFilez`. */
  async writeFilez(checksum: Checksum, filez: Uint8Array): Promise<boolean> {
    const core = this.#core;
    const c = parseChecksum(checksum, 'content checksum');
    const key = core.key(ObjectType.FILE, c);
    const fresh = !core.index.has(key) && !core.inflight.has(key);
    // bare-user-only: the worker writes the inflated content, whatever the size.
    if (fresh && (core.bare || filez.length < BATCH_BYTES)) return this.#filez.queue(c, key, filez);
    const what = `file ${c}`;
    let actual: Checksum;
    try {
      ({ checksum: actual } = await core.codec.verify(filez, what));
    } catch (err) {
      throw undecodable(what, c, err);
    }
    if (actual !== c) throw mismatch(what, c, actual);
    if (core.bare) return (await this.#settled(key)) ? false : this.#filez.queue(c, key, filez);
    return this.#store(ObjectType.FILE, c, [filez], false);
  }

  /** The objects of a batch still to write (checked, deduplicated), and the writes of others already under way. */
  #batchTodo(objects: readonly ContentObject[]): { todo: BatchObject[]; waits: Promise<void>[] } {
    const core = this.#core;
    const todo: BatchObject[] = [];
    const waits: Promise<void>[] = [];
    const seen = new Set<string>();
    for (const o of objects) {
      const c = parseChecksum(o.checksum, 'content checksum');
      validateFileInfo({ ...o.info, size: isSymlink(o.info) ? 0 : o.content.length }, `file ${c}`);
      if (core.bare) assertBareUserOnlyStorable(o.info, c);
      const key = core.key(ObjectType.FILE, c);
      if (core.index.has(key) || seen.has(key)) continue;
      seen.add(key);
      if (core.inflight.has(key)) {
        // Another write of it is under way: it must still be these bytes, so check after it.
        waits.push(this.writeContent(c, o.info, o.content).then(() => undefined));
        continue;
      }
      todo.push({ checksum: c, info: o.info, content: o.content, dest: core.objectFile(ObjectType.FILE, c), key });
    }
    return { todo, waits };
  }

  /** Sends `todo` to the content workers in jobs of up to BATCH_OBJECTS / BATCH_BYTES. */
  #batchJobs(todo: BatchObject[], counts: BatchCounts, onWritten: (n: number) => void): Promise<void>[] {
    const jobs: Promise<void>[] = [];
    for (let i = 0; i < todo.length; ) {
      let bytes = 0;
      let j = i;
      while (j < todo.length && j - i < BATCH_OBJECTS && (j === i || bytes + (todo[j]?.content.length ?? 0) <= BATCH_BYTES)) {
        bytes += todo[j]?.content.length ?? 0;
        j++;
      }
      const batch = todo.slice(i, j);
      i = j;
      jobs.push(this.#inflightJob(batch, this.#storeBatch(batch, counts, onWritten)));
    }
    return jobs;
  }

  /** One worker job; its failures go to `counts.firstError` (the first one wins). */
  async #storeBatch(batch: BatchObject[], counts: BatchCounts, onWritten: (n: number) => void): Promise<void> {
    const core = this.#core;
    const results = await core.codec.store(batch, core.workerWriteOptions());
    let n = 0;
    batch.forEach((o, k) => {
      const r = results[k];
      if (r?.status === 'ok') {
        core.stored(o.key, o.dest);
        n++;
      } else if (r?.status === 'mismatch') counts.firstError ??= mismatch(`file ${o.checksum}`, o.checksum, r.checksum);
      else if (r?.status === 'fs') counts.firstError ??= workerFsError(r);
      else counts.firstError ??= new Error(`file ${o.checksum}: no result from the content worker`);
    });
    counts.stored += n;
    if (n > 0) onWritten(n);
  }

  /**
   * Writes one object; false when it is already known present (or another write of it, awaited
   * here, succeeded). `replace` (commitmeta) always writes.
   */
  async #store(type: ObjectType, checksum: Checksum, chunks: Uint8Array[], replace: boolean): Promise<boolean> {
    const core = this.#core;
    const key = core.key(type, checksum);
    // Another write of it under way: its outcome decides (present → done; failed → write it here).
    for (let running = core.inflight.get(key); !replace; running = core.inflight.get(key)) {
      if (core.index.has(key)) return false;
      if (running === undefined) break;
      await Promise.allSettled([running]);
    }
    // No await between the check above and registering this write below.
    const dest = core.objectFile(type, checksum);
    const write = (async () => {
      await core.ensureObjectDir(dirname(dest));
      await atomicWriteFile(dest, chunks, { tmpDir: core.tmpDir, fsync: core.options.fsync === 'object' });
      core.stored(key, dest);
    })();
    if (!replace) core.inflight.set(key, write);
    try {
      await write;
    } finally {
      if (core.inflight.get(key) === write) core.inflight.delete(key);
    }
    return true;
  }

  /** Waits for an in-flight write of `key` (its failure is that write's caller's to report); true when the object is then present. */
  async #settled(key: string): Promise<boolean> {
    const running = this.#core.inflight.get(key);
    if (running !== undefined) await Promise.allSettled([running]);
    return this.#core.index.has(key);
  }
}
