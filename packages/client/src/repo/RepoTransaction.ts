/**
 * A write transaction on a local repository, as libostree has them: begun with
 * `LocalRepo.beginTransaction({ commit })`, it is the only way objects get into the repository.
 *
 * Invariants:
 * - Nothing is written before the transaction is prepared: the commit it brings in (when given)
 *   is marked partial (`state/<commit>.commitpartial`, durable unless fsync is 'none') and the
 *   `objects/XX` directories exist. Preparation starts at `beginTransaction()` and runs while
 *   the caller's first requests are on the wire; every write waits for it, and a failed
 *   preparation fails every write, `ready()` and `commit()`.
 * - Every object is verified before it is stored and reaches `objects/` by a rename from
 *   `tmp/` (see `ObjectWriter`): `objects/` never holds a partial or unverified object, and a
 *   failed write removes its temporary file.
 * - `commit({ ref })` waits for every write started, makes the objects durable (fsync, or one
 *   syncfs for many), then removes the partial marker (unless `keepPartial`: a subpath pull),
 *   then writes the ref: a durable ref never points at a commit whose objects a crash could lose.
 * - `abort()` waits for the writes already started and stops there: the objects written stay
 *   (each is verified), the partial marker stays (the next pull of the commit skips what is
 *   present and completes the rest), no temporary file is left, no ref is written.
 * - After `commit()` or `abort()` the transaction takes no more writes (ERR_INVALID_ARGUMENT).
 */
import createDebug from 'debug';
import { FlathubFetchError } from '../errors/FlathubFetchError.js';
import { ErrorCodes } from '../errors/codes.js';
import { type Checksum, parseChecksum } from '../formats/checksum.js';
import type { FileInfo } from '../formats/FileHeader.js';
import type { ObjectType } from '../formats/ObjectType.js';
import type { FilezReceiver } from './FilezReceiver.js';
import { type ContentObject, type MetadataObject, ObjectWriter } from './ObjectWriter.js';
import { clearPartial, markPartial } from './partialMarker.js';
import type { RepoCore, WriteOwner } from './RepoCore.js';

export interface BeginTransactionOptions {
  /** The commit this transaction brings in: marked partial until `commit()`. @default null (no marker) */
  commit?: Checksum | null;
  /**
   * Start the content worker threads once the caller's current synchronous work is done (its
   * first requests sent), so their start-up overlaps network waits. @default false (on first use)
   */
  warmWorkers?: boolean;
  /**
   * Content bytes the caller expects to store, when known: with little to store the workers are
   * not started (those objects are written on the calling thread). @default null (unknown)
   */
  expectedBytes?: number | null;
}

export interface CommitTransactionOptions {
  /** Point this ref at the transaction's commit (`refs/remotes/<remote>/<ref>`, or `refs/heads/<ref>` without `remote`). */
  ref?: string;
  /** The remote the ref belongs to. @default none (refs/heads) */
  remote?: string;
  /** Leave the commit marked partial (a subpath pull: libostree does too). @default false */
  keepPartial?: boolean;
}

const debug = createDebug('flathub-fetch:repo');

type State = 'open' | 'committed' | 'aborted';

export class RepoTransaction implements WriteOwner {
  /** The commit this transaction brings in (marked partial until `commit()`), or null. */
  readonly target: Checksum | null;
  readonly #core: RepoCore;
  readonly #writer: ObjectWriter;
  /** Settles with the preparation's failure, or null once it succeeded (never rejects). */
  readonly #preparation: Promise<{ error: unknown } | null>;
  /** Writes started and not yet settled. */
  readonly #pending = new Set<Promise<unknown>>();
  /** Receivers of streamed objects not yet disposed. */
  readonly #receivers = new Set<FilezReceiver>();
  #warming: ReturnType<typeof setImmediate> | undefined;
  #state: State = 'open';

  /** @internal Use `LocalRepo.beginTransaction()`. */
  constructor(core: RepoCore, options: BeginTransactionOptions = {}) {
    core.assertWritable();
    core.noteUmask();
    this.#core = core;
    this.target = options.commit == null ? null : parseChecksum(options.commit, 'commit checksum');
    this.#writer = new ObjectWriter(core);
    const commit = this.target;
    this.#preparation = Promise.all([commit === null ? null : markPartial(core, commit), core.prepareObjectDirs()]).then(
      () => null,
      (error: unknown) => ({ error }),
    );
    if (options.warmWorkers === true) this.#warming = setImmediate(() => core.codec.warm(options.expectedBytes ?? null));
    core.owners.add(this);
  }

  /** Resolves once the transaction may write (the commit marked partial, `objects/XX` made); rejects with why not. */
  async ready(): Promise<void> {
    const failure = await this.#preparation;
    if (failure !== null) throw failure.error;
  }

  /**
   * Stores a commit, dirtree or dirmeta after checking that its SHA-256 is `checksum`
   * (ERR_CHECKSUM_MISMATCH) and that it decodes as `type` (ERR_GVARIANT_* / ERR_FORMAT /
   * ERR_UNSAFE_NAME). `COMMIT_META` is passed on to `writeCommitMeta`. Resolves true when this
   * call stored the object, false when it was already present.
   */
  writeMetadata(type: ObjectType, checksum: Checksum, bytes: Uint8Array): Promise<boolean> {
    return this.#write(() => this.#writer.writeMetadata(type, checksum, bytes));
  }

  /**
   * Stores many metadata objects (the dirtrees and dirmetas of a delta part) with the checks of
   * `writeMetadata`, made on the calling thread; the file writes run in the content workers, in
   * batches (on the calling thread while no worker has started and the writes are few, as for
   * `writeContentBatch`). Objects already present (or being written) are skipped. Every object is written or
   * known present when this resolves; the first failed check (nothing of the batch is then
   * sent) or filesystem error (ERR_FS) rejects it after the batches in flight have settled.
   * Resolves to the number of objects this call stored.
   */
  writeMetadataBatch(objects: readonly MetadataObject[]): Promise<number> {
    return this.#write(() => this.#writer.writeMetadataBatch(objects));
  }

  /**
   * Stores detached metadata (`.commitmeta`, an `a{sv}` of signatures and bindings) of commit
   * `checksum`. It is not content-addressed, so it replaces any previous one.
   */
  writeCommitMeta(checksum: Checksum, bytes: Uint8Array): Promise<void> {
    return this.#write(() => this.#writer.writeCommitMeta(checksum, bytes));
  }

  /**
   * Stores a content object given its file info and content: checks that they hash to
   * `checksum`, then writes the `.filez` (raw deflate, `compressionLevel`). Hashing and
   * compression run in a worker for content of `inlineDeflateBelow` bytes or more. In a
   * bare-user-only repository the object is the file itself, written by a worker
   * (ERR_UNSUPPORTED_OBJECT for what that mode cannot hold, see `assertBareUserOnlyStorable`).
   */
  writeContent(checksum: Checksum, info: FileInfo, content: Uint8Array): Promise<boolean> {
    return this.#write(() => this.#writer.writeContent(checksum, info, content));
  }

  /**
   * Stores many content objects (the output of a delta part) with the checks of
   * `writeContent`, doing the hashing, compression and file writes in the worker threads in
   * batches: the calling thread only encodes headers and copies contents. Objects already
   * present (or being written) are skipped. `onWritten(n)` reports progress after each batch.
   * Every object is written or known present when this resolves; the first checksum mismatch
   * (ERR_CHECKSUM_MISMATCH, naming the object) or filesystem error (ERR_FS) rejects it after
   * the batches in flight have settled — mismatched objects are never stored. Resolves to the
   * number of objects this call stored.
   */
  writeContentBatch(objects: readonly ContentObject[], options: { onWritten?: (n: number) => void } = {}): Promise<number> {
    return this.#write(() => this.#writer.writeContentBatch(objects, options.onWritten ?? (() => undefined)));
  }

  /**
   * Stores a `.filez` as fetched, after inflating it (bounded by its header's size, off-thread
   * from `inlineInflateBelow` bytes) and checking that it hashes to `checksum`. Bytes that are
   * not that object — wrong hash, but also a broken header or deflate stream, or more content
   * than the header declares — are ERR_CHECKSUM_MISMATCH (the decoder's error as `cause`), so a
   * fetcher can treat every kind of corruption alike; a declared size above `maxObjectSize` is
   * ERR_SIZE_LIMIT.
   */
  writeFilez(checksum: Checksum, filez: Uint8Array): Promise<boolean> {
    return this.#write(() => this.#writer.writeFilez(checksum, filez));
  }

  /**
   * A receiver for a `.filez` being fetched (see `FilezReceiver`): `push`/`restart` follow the
   * body as it streams in, `commit()` stores it with the checks of `writeFilez`. Small bodies go
   * to `writeFilez`'s batches; large ones (declared or found above 512 KiB) are inflated, hashed
   * and written to `tmp/` as they arrive, then renamed into place once verified, so memory does
   * not grow with the object. Call `dispose()` last, whatever happened.
   */
  receiveFilez(checksum: Checksum, options: { declaredSize?: number | undefined } = {}): FilezReceiver {
    this.#assertOpen();
    const receiver = this.#writer.receiveFilez(checksum, options.declaredSize, (write) => this.#write(write));
    // Until disposed, a receiver may hold a file in tmp/: abort() disposes of those still open.
    this.#receivers.add(receiver);
    receiver.onDisposed = () => this.#receivers.delete(receiver);
    return receiver;
  }

  /**
   * Ends the transaction: waits for its writes, makes the objects durable, clears the partial
   * marker, writes `ref` (see the invariants above). A failed preparation rejects it, the
   * transaction staying open for `abort()`.
   */
  async commit(options: CommitTransactionOptions = {}): Promise<void> {
    this.#assertOpen();
    if (options.ref !== undefined && this.target === null) {
      throw new FlathubFetchError(ErrorCodes.INVALID_ARGUMENT, 'commit({ ref }) of a transaction begun without a commit', {
        argument: 'ref',
        value: options.ref,
        reason: 'no commit to point it at',
      });
    }
    await this.ready();
    // A failed write was its caller's to report (a corrupt download is fetched again and written
    // by a later call): only the objects' presence matters here, and the caller's walk checked it.
    await this.settled();
    this.#end('committed');
    if (this.target !== null && options.keepPartial !== true) await clearPartial(this.#core, this.target);
    else await this.#core.flush();
    if (options.ref !== undefined && this.target !== null) {
      await this.#core.refs.write(options.ref, this.target, options.remote === undefined ? {} : { remote: options.remote });
      debug('ref %s%s -> %s', options.remote === undefined ? '' : `${options.remote}:`, options.ref, this.target);
    }
  }

  /** Ends the transaction without a ref: waits for the writes already started; what they stored stays (see the invariants above). */
  async abort(): Promise<void> {
    if (this.#state === 'open') this.#end('aborted');
    // Bodies still streaming in (their requests are being aborted too): their files in tmp/ go.
    await Promise.all([...this.#receivers].map((r) => r.dispose()));
    await this.settled();
  }

  /** Waits for the writes started so far, also those started meanwhile; their outcomes are their callers'. */
  async settled(): Promise<void> {
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending]);
  }

  #end(state: State): void {
    this.#state = state;
    clearImmediate(this.#warming);
    this.#core.owners.delete(this);
  }

  #assertOpen(): void {
    if (this.#state !== 'open') {
      throw new FlathubFetchError(ErrorCodes.INVALID_ARGUMENT, `the transaction on ${this.#core.path} is ${this.#state}`, {
        argument: 'transaction',
        reason: this.#state,
      });
    }
  }

  /** Runs one write once the transaction is ready, tracked until it settles. */
  #write<T>(write: () => Promise<T>): Promise<T> {
    const run = (async () => {
      this.#assertOpen();
      await this.ready();
      return write();
    })();
    this.#pending.add(run);
    const done = () => void this.#pending.delete(run);
    run.then(done, done);
    return run;
  }
}
