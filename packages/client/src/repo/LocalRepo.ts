/**
 * An OSTree repository on disk: archive-z2 and bare-user-only (Flatpak's mode for per-user
 * installations) for reading and writing; bare and bare-user for reading metadata and refs.
 *
 * Reading: config, refs, loose objects (verified on request), commit trees.
 * Writing (used by the pull engine): every object is verified before it is stored, written to
 * `tmp/` and renamed into `objects/XX/`, so `objects/` never holds a partial or unverified
 * object; content objects are compressed/inflated and hashed in worker threads (see
 * {@link LocalRepoOptions}). Writes of the same object may run concurrently (also from
 * several processes): the rename is atomic and a duplicate is a no-op.
 *
 * Call `close()` when done: it waits for writes already started, then terminates the workers.
 */
import { lstat, mkdir, readFile, readlink, stat, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import createDebug from 'debug';
import pLimit from 'p-limit';
import { FlathubFetchError, isFlathubFetchError } from '../errors/FlathubFetchError.js';
import { ErrorCodes } from '../errors/codes.js';
import { type Checksum, parseChecksum, sha256Hex } from '../formats/checksum.js';
import { type Commit, parseCommit } from '../formats/Commit.js';
import { type DirMeta, parseDirMeta } from '../formats/DirMeta.js';
import { type DirTree, parseDirTree } from '../formats/DirTree.js';
import { type FileInfo, isSymlink, S_IFLNK, S_IFMT, S_IFREG, validateFileInfo } from '../formats/FileHeader.js';
import { formatError } from '../formats/formatError.js';
import { type KeyFile, keyFileGet, parseKeyFile } from '../formats/KeyFile.js';
import { ObjectType, objectTypeName } from '../formats/ObjectType.js';
import { objectPath } from '../formats/paths.js';
import { addRemoteToConfig } from './addRemoteToConfig.js';
import { assertBareUserOnlyStorable } from './assertBareUserOnlyStorable.js';
import { atomicWriteFile } from './atomicWriteFile.js';
import { type CheckoutOptions, type CheckoutResult, checkoutCommit } from './checkoutCommit.js';
import { ContentCodec } from './ContentCodec.js';
import type { WorkerWriteOptions } from './ContentWorkerPool.js';
import { type CreateRepoOptions, createRepoLayout } from './createRepoLayout.js';
import { errnoOf, fsError } from './fsError.js';
import { type LocalRepoOptions, type ResolvedLocalRepoOptions, resolveLocalRepoOptions } from './LocalRepoOptions.js';
import { HEX_PREFIXES, ObjectIndex } from './ObjectIndex.js';
import { RefStore } from './RefStore.js';
import type { RefLocation } from './refPath.js';
import { syncDir, syncFile } from './syncDir.js';
import { syncFilesystem } from './syncFilesystem.js';
import type { ObjectSource } from './ObjectSource.js';
import { verifyCommit, type VerifyCommitOptions, type VerifyCommitResult } from './verifyCommit.js';
import { verifyCommitMeta, verifyMetadataObject } from './verifyMetadataObject.js';

const debug = createDebug('flathub-fetch:repo');

/** A content object of `writeContentBatch` on its way to a worker. */
interface BatchObject {
  checksum: Checksum;
  info: FileInfo;
  content: Uint8Array;
  dest: string;
  key: string;
}

/** `writeContentBatch` job size: enough objects to amortise a worker round trip, small enough to spread over the workers. */
const BATCH_OBJECTS = 64;
const BATCH_BYTES = 1024 * 1024;
/** How long a fetched `.filez` may wait for others to share its worker job (a round trip is ~20 ms or more). */
const FILEZ_BATCH_WAIT_MS = 2;
/** From this many unsynced files on, `flush()` syncs the whole filesystem once instead. */
const SYNCFS_FROM = 64;

export type RepoMode = 'archive' | 'bare' | 'bare-user' | 'bare-user-only';
/** The modes this library writes. */
export type WritableRepoMode = 'archive' | 'bare-user-only';
export const WRITABLE_REPO_MODES: readonly WritableRepoMode[] = ['archive', 'bare-user-only'];

export class LocalRepo implements ObjectSource {
  readonly path: string;
  readonly config: KeyFile;
  readonly mode: RepoMode;
  readonly options: ResolvedLocalRepoOptions;
  readonly #index: ObjectIndex;
  /** Set by the first `loadObjectIndex()` or `knowObjects()`: from then on `hasCached` answers. */
  #indexInUse = false;
  /** Writes in progress by object key; a second write of the same object waits for the first. */
  readonly #inflight = new Map<string, Promise<void>>();
  readonly #codec: ContentCodec;
  /** `objects/XX` directories known to exist (or being created). */
  readonly #dirs = new Map<string, Promise<void>>();
  /** Object files written but not yet fsynced (fsync policy 'commit'). */
  readonly #unsynced: string[] = [];
  /** Directories whose new entries are not yet fsynced. */
  readonly #dirtyDirs = new Set<string>();
  readonly #refs: RefStore;
  /** `.filez` waiting for the next `storeFilez` batch. */
  #filezQueue: Array<{ checksum: Checksum; key: string; filez: Uint8Array; resolve(v: boolean): void; reject(err: unknown): void }> = [];
  #filezQueued = 0;
  #filezFlushScheduled = false;
  /** Public write calls not yet settled (`close()` waits for them). */
  readonly #pending = new Set<Promise<unknown>>();

  private constructor(path: string, config: KeyFile, options: ResolvedLocalRepoOptions) {
    this.path = path;
    this.config = config;
    this.options = options;
    const m = keyFileGet(config, 'core', 'mode') ?? 'bare';
    this.mode = m === 'archive-z2' || m === 'archive' ? 'archive' : (m as RepoMode);
    this.#codec = new ContentCodec(options);
    this.#refs = new RefStore(path, options.fsync !== 'none');
    this.#index = new ObjectIndex(join(path, 'objects'));
  }

  /** Opens an existing repository (ERR_NOT_FOUND when `path/config` is missing). */
  static async open(path: string, options: LocalRepoOptions = {}): Promise<LocalRepo> {
    const resolved = resolveLocalRepoOptions(options);
    let text: string;
    try {
      text = await readFile(join(path, 'config'), 'utf8');
    } catch (err) {
      throw new FlathubFetchError(ErrorCodes.NOT_FOUND, `${path} is not an OSTree repository (no config: ${errnoOf(err)})`, {
        what: 'repository',
        path,
      });
    }
    return new LocalRepo(path, parseKeyFile(text, join(path, 'config')), resolved);
  }

  /**
   * Creates a new repository (like `ostree init --mode=archive` or `--mode=bare-user-only`, plus `ostree remote
   * add --no-gpg-verify` when `remote` is given). ERR_PATH_CONFLICT if one exists at `path`.
   */
  static async create(path: string, options: CreateRepoOptions & LocalRepoOptions = {}): Promise<LocalRepo> {
    const resolved = resolveLocalRepoOptions(options);
    const exists = await stat(join(path, 'config')).then(
      () => true,
      () => false,
    );
    if (exists) {
      throw new FlathubFetchError(ErrorCodes.PATH_CONFLICT, `${path}: a repository already exists there`, {
        path,
        reason: 'repository exists',
      });
    }
    await createRepoLayout(path, options, resolved.fsync !== 'none');
    debug('created %s repository %s', options.mode ?? 'archive', path);
    return LocalRepo.open(path, options);
  }

  /**
   * Opens the repository at `path`, creating it when there is none. An existing repository
   * must be in `mode` when one is given (ERR_INVALID_ARGUMENT); a `remote` missing from its
   * config is added, one with a different URL is ERR_PATH_CONFLICT.
   */
  static async openOrCreate(path: string, options: CreateRepoOptions & LocalRepoOptions = {}): Promise<LocalRepo> {
    const resolved = resolveLocalRepoOptions(options);
    const exists = await stat(join(path, 'config')).then(
      () => true,
      () => false,
    );
    if (!exists) {
      await createRepoLayout(path, options, resolved.fsync !== 'none');
      debug('created %s repository %s', options.mode ?? 'archive', path);
    }
    let repo = await LocalRepo.open(path, options);
    if (exists && options.mode !== undefined && repo.mode !== options.mode) {
      throw new FlathubFetchError(ErrorCodes.INVALID_ARGUMENT, `${path} is a repository in mode ${repo.mode}, not ${options.mode}`, {
        argument: 'mode',
        value: options.mode,
        reason: `existing repository is ${repo.mode}`,
      });
    }
    if (exists && options.remote !== undefined && (await addRemoteToConfig(path, repo.config, options.remote, resolved.fsync !== 'none'))) {
      debug('added remote %s (%s) to %s', options.remote.name, options.remote.url, path);
      repo = await LocalRepo.open(path, options);
    }
    return repo;
  }

  /** Live content worker threads (0 until a large content object is processed, and after `close()`). */
  get workerThreads(): number {
    return this.#codec.threads;
  }

  /**
   * Starts the content worker threads now (otherwise they start on the first large object), so
   * their start-up (~30 ms of CPU each) overlaps network waits instead of a busy moment. With
   * `expectedBytes` (content about to be stored) small enough, they are not started: those
   * objects are written on the calling thread (see ContentCodec's INLINE_STORE_BYTES).
   */
  warmWorkers(expectedBytes: number | null = null): void {
    this.#codec.warm(expectedBytes);
  }

  objectFile(type: ObjectType, checksum: Checksum): string {
    return join(this.path, objectPath(checksum, type, this.mode === 'archive' ? 'archive' : 'bare'));
  }

  // ---------------------------------------------------------------- reading

  /** Raw bytes of a loose object, or null when absent. */
  async readObjectBytes(type: ObjectType, checksum: Checksum): Promise<Uint8Array | null> {
    try {
      return new Uint8Array(await readFile(this.objectFile(type, checksum)));
    } catch (err) {
      if (errnoOf(err) === 'ENOENT') return null;
      throw fsError('read', this.objectFile(type, checksum), err);
    }
  }

  async #required(type: ObjectType, checksum: Checksum): Promise<Uint8Array> {
    const bytes = await this.readObjectBytes(type, checksum);
    if (bytes === null) {
      throw new FlathubFetchError(ErrorCodes.NOT_FOUND, `${objectTypeName(type)} ${checksum} is not in ${this.path}`, {
        what: objectTypeName(type),
        object: checksum,
      });
    }
    return bytes;
  }

  /** Reads a metadata object and checks that its bytes hash to its name. */
  async readMetadata(type: ObjectType, checksum: Checksum): Promise<Uint8Array> {
    const bytes = await this.#required(type, checksum);
    const actual = sha256Hex(bytes);
    if (actual !== checksum) {
      throw new FlathubFetchError(ErrorCodes.CHECKSUM_MISMATCH, `${this.objectFile(type, checksum)}: content hashes to ${actual}`, {
        object: checksum,
        expected: checksum,
        actual,
      });
    }
    return bytes;
  }

  async readCommit(checksum: Checksum): Promise<Commit> {
    return parseCommit(await this.readMetadata(ObjectType.COMMIT, checksum), `commit ${checksum}`);
  }

  async readDirTree(checksum: Checksum): Promise<DirTree> {
    return parseDirTree(await this.readMetadata(ObjectType.DIR_TREE, checksum), `dirtree ${checksum}`);
  }

  async readDirMeta(checksum: Checksum): Promise<DirMeta> {
    return parseDirMeta(await this.readMetadata(ObjectType.DIR_META, checksum), `dirmeta ${checksum}`);
  }

  /**
   * Reads a content object and verifies its checksum: archive `.filez` are inflated (large ones
   * off-thread); bare-user-only `.file` are read as they are, owner 0:0 and no xattrs, as libostree reads them.
   */
  async readContent(checksum: Checksum): Promise<{ info: FileInfo; content: Uint8Array }> {
    const file = this.objectFile(ObjectType.FILE, checksum);
    if (this.mode === 'bare-user-only') return this.#readBareContent(checksum, file);
    const r = await this.#codec.decode(await this.#requiredContent(checksum), file);
    this.#assertContentChecksum(file, checksum, r.checksum);
    return { info: r.info, content: r.content };
  }

  /** Verifies a content object (inflate or read, and hash; nothing kept) and returns its file info. */
  async verifyContent(checksum: Checksum): Promise<FileInfo> {
    const file = this.objectFile(ObjectType.FILE, checksum);
    if (this.mode === 'bare-user-only') return (await this.#readBareContent(checksum, file)).info;
    const r = await this.#codec.verify(await this.#requiredContent(checksum), file);
    this.#assertContentChecksum(file, checksum, r.checksum);
    return r.info;
  }

  async #readBareContent(checksum: Checksum, file: string): Promise<{ info: FileInfo; content: Uint8Array }> {
    let st: Awaited<ReturnType<typeof lstat>>;
    try {
      st = await lstat(file);
    } catch (err) {
      if (errnoOf(err) !== 'ENOENT') throw fsError('stat', file, err);
      throw new FlathubFetchError(ErrorCodes.NOT_FOUND, `file ${checksum} is not in ${this.path}`, { what: 'file', object: checksum });
    }
    const fmt = st.mode & S_IFMT;
    if (fmt !== S_IFREG && fmt !== S_IFLNK) throw formatError(file, `mode 0${st.mode.toString(8)} is neither a regular file nor a symlink`);
    const symlink = fmt === S_IFLNK;
    let content: Uint8Array;
    let target = '';
    try {
      if (symlink) {
        target = await readlink(file);
        content = new Uint8Array(0);
      } else content = new Uint8Array(await readFile(file));
    } catch (err) {
      throw fsError(symlink ? 'readlink' : 'read', file, err);
    }
    const info: FileInfo = { uid: 0, gid: 0, mode: st.mode, rdev: 0, symlinkTarget: target, xattrs: [], size: content.length };
    const { checksum: actual } = await this.#codec.encode(info, content, { expected: checksum, compress: false });
    this.#assertContentChecksum(file, checksum, actual);
    return { info, content };
  }

  async #requiredContent(checksum: Checksum): Promise<Uint8Array> {
    if (this.mode !== 'archive') {
      throw new FlathubFetchError(
        ErrorCodes.INVALID_ARGUMENT,
        `${this.path}: reading content from ${this.mode} repositories is not supported`,
        {
          argument: 'repository',
          value: this.path,
          reason: `mode ${this.mode}`,
        },
      );
    }
    return this.#required(ObjectType.FILE, checksum);
  }

  #assertContentChecksum(file: string, expected: Checksum, actual: Checksum): void {
    if (actual !== expected) {
      throw new FlathubFetchError(ErrorCodes.CHECKSUM_MISMATCH, `${file}: content hashes to ${actual}`, {
        object: expected,
        expected,
        actual,
      });
    }
  }

  // ---------------------------------------------------------------- presence

  #key(type: ObjectType, checksum: Checksum): string {
    return ObjectIndex.key(type, checksum, this.mode === 'archive' ? 'archive' : 'bare');
  }

  /** Whether a loose object exists (one `stat`; updates the index when it does). */
  async has(type: ObjectType, checksum: Checksum): Promise<boolean> {
    try {
      await stat(this.objectFile(type, checksum));
    } catch (err) {
      if (errnoOf(err) === 'ENOENT') return false;
      throw fsError('stat', this.objectFile(type, checksum), err);
    }
    this.#index.add(this.#key(type, checksum));
    return true;
  }

  /**
   * Reads all of `objects/` into memory (one readdir per `objects/XX`, those not read yet) and
   * returns the set of `<checksum>.<ext>` names (a live view: later writes appear in it). A pull
   * does not need it: `hasCached` reads the directory of the object it is asked about.
   */
  async loadObjectIndex(): Promise<ReadonlySet<string>> {
    this.#indexInUse = true;
    const t = Date.now();
    await this.#index.load();
    this.#noteObjectDirs(await this.#index.subdirs());
    debug('object index of %s: %d objects in %d ms', this.path, this.#index.keys.size, Date.now() - t);
    return this.#index.keys;
  }

  /**
   * Makes `hasCached` answer for these objects without touching the disk: reads (concurrently)
   * the `objects/XX` directories they are in that were not read yet.
   */
  async knowObjects(objects: Iterable<{ type: ObjectType; checksum: Checksum }>): Promise<void> {
    this.#indexInUse = true;
    const prefixes = new Set<string>();
    for (const o of objects) {
      const p = o.checksum.slice(0, 2);
      if (!this.#index.knows(p)) prefixes.add(p);
    }
    if (prefixes.size > 0) await this.#index.loadPrefixes(prefixes);
  }

  /**
   * Synchronous presence check against the index: objects found in `objects/` (the directory of
   * an object not asked about before is read now, unless `knowObjects` or `loadObjectIndex` did
   * already) or written through this instance since. ERR_INVALID_ARGUMENT until one of those two
   * has been called (the index is then in use).
   */
  hasCached(type: ObjectType, checksum: Checksum): boolean {
    if (!this.#indexInUse) {
      throw new FlathubFetchError(ErrorCodes.INVALID_ARGUMENT, `${this.path}: hasCached() before loadObjectIndex() or knowObjects()`, {
        argument: 'hasCached',
        reason: 'object index not in use',
      });
    }
    const prefix = checksum.slice(0, 2);
    if (!this.#index.knows(prefix)) this.#index.loadPrefixSync(prefix);
    // An empty repository (a fresh pull asks thousands of times) needs no key.
    return this.#index.keys.size > 0 && this.#index.has(this.#key(type, checksum));
  }

  /** The `objects/XX` directories found need no mkdir before a write. */
  #noteObjectDirs(subdirs: ReadonlySet<string>): void {
    for (const d of subdirs) {
      const dir = join(this.path, 'objects', d);
      if (!this.#dirs.has(dir)) this.#dirs.set(dir, Promise.resolve());
    }
  }

  // ---------------------------------------------------------------- writing objects

  /**
   * Stores a commit, dirtree or dirmeta after checking that its SHA-256 is `checksum`
   * (ERR_CHECKSUM_MISMATCH) and that it decodes as `type` (ERR_GVARIANT_* / ERR_FORMAT /
   * ERR_UNSAFE_NAME). `COMMIT_META` is passed on to `writeCommitMeta`. Resolves true when this
   * call stored the object, false when it was already present.
   */
  writeMetadata(type: ObjectType, checksum: Checksum, bytes: Uint8Array): Promise<boolean> {
    return this.#track(this.#writeMetadata(type, checksum, bytes));
  }

  async #writeMetadata(type: ObjectType, checksum: Checksum, bytes: Uint8Array): Promise<boolean> {
    this.assertWritable();
    const c = parseChecksum(checksum, `${objectTypeName(type)} checksum`);
    if (type === ObjectType.COMMIT_META) {
      await this.#writeCommitMeta(c, bytes);
      return true;
    }
    verifyMetadataObject(type, c, bytes);
    return this.#store(type, c, [bytes], false);
  }

  /**
   * Stores a content object given its file info and content: checks that they hash to
   * `checksum`, then writes the `.filez` (raw deflate, `compressionLevel`). Hashing and
   * compression run in a worker for content of `inlineDeflateBelow` bytes or more. In a
   * bare-user-only repository the object is the file itself, written by a worker
   * (ERR_UNSUPPORTED_OBJECT for what that mode cannot hold, see `assertBareUserOnlyStorable`).
   */
  writeContent(checksum: Checksum, info: FileInfo, content: Uint8Array): Promise<boolean> {
    return this.#track(this.#writeContent(checksum, info, content));
  }

  async #writeContent(checksum: Checksum, info: FileInfo, content: Uint8Array): Promise<boolean> {
    this.assertWritable();
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
    if (this.#bare) assertBareUserOnlyStorable(info, c);
    const key = this.#key(ObjectType.FILE, c);
    if (this.#index.has(key) || this.#inflight.has(key)) {
      // Already stored or being stored: still refuse wrong bytes, but skip the compression.
      const { checksum: actual } = await this.#codec.encode(info, content, { expected: c, compress: false });
      if (actual !== c) throw mismatch(what, c, actual);
      if (await this.#settled(key)) return false;
    }
    // bare-user-only: the object is the file itself, hashed and written by a worker.
    if (this.#bare) return (await this.#writeContentBatch([{ checksum: c, info, content }], () => undefined)) === 1;
    const { checksum: actual, filez } = await this.#codec.encode(info, content, { expected: c, compress: true });
    if (actual !== c || filez === null) throw mismatch(what, c, actual);
    return this.#store(ObjectType.FILE, c, filez, false);
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
  writeContentBatch(
    objects: ReadonlyArray<{ checksum: Checksum; info: FileInfo; content: Uint8Array }>,
    options: { onWritten?: (n: number) => void } = {},
  ): Promise<number> {
    return this.#track(this.#writeContentBatch(objects, options.onWritten ?? (() => undefined)));
  }

  async #writeContentBatch(
    objects: ReadonlyArray<{ checksum: Checksum; info: FileInfo; content: Uint8Array }>,
    onWritten: (n: number) => void,
  ): Promise<number> {
    this.assertWritable();
    // The per-object loops live in small methods of their own: V8 optimises a hot loop together
    // with the function around it, and this async function is large (53 ms of compilation).
    const { todo, waits } = this.#batchTodo(objects);
    await this.#ensureObjectDirs(todo.map((o) => o.dest));
    const counts = { stored: 0, firstError: null as unknown };
    const jobs = this.#batchJobs(todo, counts, onWritten);
    const settled = await Promise.allSettled([...jobs, ...waits]);
    for (const s of settled) if (s.status === 'rejected') counts.firstError ??= s.reason;
    if (counts.firstError !== null) throw counts.firstError;
    return counts.stored;
  }

  /** The objects of a batch still to write (checked, deduplicated), and the writes of others already under way. */
  #batchTodo(objects: ReadonlyArray<{ checksum: Checksum; info: FileInfo; content: Uint8Array }>): {
    todo: BatchObject[];
    waits: Promise<void>[];
  } {
    const todo: BatchObject[] = [];
    const waits: Promise<void>[] = [];
    const seen = new Set<string>();
    for (const o of objects) {
      const c = parseChecksum(o.checksum, 'content checksum');
      validateFileInfo({ ...o.info, size: isSymlink(o.info) ? 0 : o.content.length }, `file ${c}`);
      if (this.#bare) assertBareUserOnlyStorable(o.info, c);
      const key = this.#key(ObjectType.FILE, c);
      if (this.#index.has(key) || seen.has(key)) continue;
      seen.add(key);
      const running = this.#inflight.get(key);
      if (running !== undefined) {
        // Another write of it is under way: it must still be these bytes, so check after it.
        waits.push(this.#writeContent(c, o.info, o.content).then(() => undefined));
        continue;
      }
      todo.push({ checksum: c, info: o.info, content: o.content, dest: this.objectFile(ObjectType.FILE, c), key });
    }
    return { todo, waits };
  }

  /** Sends `todo` to the content workers in jobs of up to BATCH_OBJECTS / BATCH_BYTES. */
  #batchJobs(todo: BatchObject[], counts: { stored: number; firstError: unknown }, onWritten: (n: number) => void): Promise<void>[] {
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
      const job = this.#storeBatch(batch, counts, onWritten);
      for (const o of batch) this.#inflight.set(o.key, job);
      jobs.push(
        job.finally(() => {
          for (const o of batch) if (this.#inflight.get(o.key) === job) this.#inflight.delete(o.key);
        }),
      );
    }
    return jobs;
  }

  /** One worker job; its failures go to `counts.firstError` (the first one wins). */
  async #storeBatch(batch: BatchObject[], counts: { stored: number; firstError: unknown }, onWritten: (n: number) => void): Promise<void> {
    const results = await this.#codec.store(batch, this.#workerWriteOptions());
    let n = 0;
    batch.forEach((o, k) => {
      const r = results[k];
      if (r?.status === 'ok') {
        this.#stored(o.key, o.dest);
        n++;
      } else if (r?.status === 'mismatch') counts.firstError ??= mismatch(`file ${o.checksum}`, o.checksum, r.checksum);
      else if (r?.status === 'fs') counts.firstError ??= workerFsError(r);
      else counts.firstError ??= new Error(`file ${o.checksum}: no result from the content worker`);
    });
    counts.stored += n;
    if (n > 0) onWritten(n);
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
    return this.#track(this.#writeFilez(checksum, filez));
  }

  async #writeFilez(checksum: Checksum, filez: Uint8Array): Promise<boolean> {
    this.assertWritable();
    const c = parseChecksum(checksum, 'content checksum');
    const key = this.#key(ObjectType.FILE, c);
    const fresh = !this.#index.has(key) && !this.#inflight.has(key);
    // bare-user-only: the worker writes the inflated content, whatever the size.
    if (fresh && (this.#bare || filez.length < BATCH_BYTES)) return this.#queueFilez(c, key, filez);
    const what = `file ${c}`;
    let actual: Checksum;
    try {
      ({ checksum: actual } = await this.#codec.verify(filez, what));
    } catch (err) {
      throw undecodable(what, c, err);
    }
    if (actual !== c) throw mismatch(what, c, actual);
    if (this.#bare) return (await this.#settled(key)) ? false : this.#queueFilez(c, key, filez);
    return this.#store(ObjectType.FILE, c, [filez], false);
  }

  /**
   * Fetched `.filez` are verified and written in batches by the worker threads: objects that
   * arrive within `FILEZ_BATCH_WAIT_MS` of each other (or until a batch is full) go in one job, so the
   * event loop that drives the downloads does no inflating, hashing or file I/O per object.
   */
  #queueFilez(checksum: Checksum, key: string, filez: Uint8Array): Promise<boolean> {
    let resolve!: (v: boolean) => void;
    let reject!: (err: unknown) => void;
    const promise = new Promise<boolean>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    this.#filezQueue.push({ checksum, key, filez, resolve, reject });
    this.#filezQueued += filez.length;
    const settled = promise.then(
      () => undefined,
      () => undefined,
    );
    this.#inflight.set(key, settled);
    void settled.then(() => {
      if (this.#inflight.get(key) === settled) this.#inflight.delete(key);
    });
    if (this.#filezQueue.length >= BATCH_OBJECTS || this.#filezQueued >= BATCH_BYTES) this.#flushFilez();
    else if (!this.#filezFlushScheduled) {
      this.#filezFlushScheduled = true;
      setTimeout(() => {
        this.#filezFlushScheduled = false;
        this.#flushFilez();
      }, FILEZ_BATCH_WAIT_MS);
    }
    return promise;
  }

  #flushFilez(): void {
    const batch = this.#filezQueue.splice(0);
    this.#filezQueued = 0;
    if (batch.length === 0) return;
    debug('storeFilez batch of %d', batch.length);
    void (async () => {
      const objects = batch.map((b) => ({ checksum: b.checksum, filez: b.filez, dest: this.objectFile(ObjectType.FILE, b.checksum) }));
      await this.#ensureObjectDirs(objects.map((o) => o.dest));
      const validate = this.#bare ? assertBareUserOnlyStorable : undefined;
      const outcomes = await this.#codec.storeFilez(objects, { ...this.#workerWriteOptions(), validate });
      batch.forEach((b, k) => {
        const r = outcomes[k];
        const what = `file ${b.checksum}`;
        const dest = objects[k]?.dest as string;
        if (r?.status === 'ok') {
          this.#stored(b.key, dest);
          b.resolve(true);
        } else if (r?.status === 'mismatch') b.reject(mismatch(what, b.checksum, r.checksum));
        else if (r?.status === 'error') b.reject(undecodable(what, b.checksum, r.error));
        else if (r?.status === 'fs') b.reject(workerFsError(r));
        else b.reject(new Error(`${what}: no result from the content worker`));
      });
    })().catch((err: unknown) => {
      for (const b of batch) b.reject(err);
    });
  }

  /**
   * Stores detached metadata (`.commitmeta`, an `a{sv}` of signatures and bindings) of commit
   * `checksum`. It is not content-addressed, so it replaces any previous one.
   */
  writeCommitMeta(checksum: Checksum, bytes: Uint8Array): Promise<void> {
    return this.#track(this.#writeCommitMeta(checksum, bytes));
  }

  async #writeCommitMeta(checksum: Checksum, bytes: Uint8Array): Promise<void> {
    this.assertWritable();
    const c = parseChecksum(checksum, 'commit checksum');
    verifyCommitMeta(c, bytes);
    await this.#store(ObjectType.COMMIT_META, c, [bytes], true);
  }

  /**
   * Writes one object; false when it is already known present (or another write of it, awaited
   * here, succeeded). `replace` (commitmeta) always writes.
   */
  async #store(type: ObjectType, checksum: Checksum, chunks: Uint8Array[], replace: boolean): Promise<boolean> {
    const key = this.#key(type, checksum);
    for (let running = this.#inflight.get(key); !replace; running = this.#inflight.get(key)) {
      if (this.#index.has(key)) return false;
      if (running === undefined) break;
      await running.catch(() => undefined);
    }
    // No await between the check above and registering this write below.
    const dest = this.objectFile(type, checksum);
    const dir = dirname(dest);
    const write = (async () => {
      await this.#ensureObjectDir(dir);
      await atomicWriteFile(dest, chunks, { tmpDir: join(this.path, 'tmp'), fsync: this.options.fsync === 'object' });
      this.#stored(key, dest);
    })();
    if (!replace) this.#inflight.set(key, write);
    try {
      await write;
    } finally {
      if (this.#inflight.get(key) === write) this.#inflight.delete(key);
    }
    return true;
  }

  /** Waits for an in-flight write of `key` (ignoring its failure); true when the object is then known present. */
  async #settled(key: string): Promise<boolean> {
    await this.#inflight.get(key)?.catch(() => undefined);
    return this.#index.has(key);
  }

  /** Bookkeeping of an object now in place: the index, and what the next `flush()` must sync. */
  #stored(key: string, dest: string): void {
    this.#index.add(key);
    if (this.options.fsync === 'commit') this.#unsynced.push(dest);
    if (this.options.fsync !== 'none') this.#dirtyDirs.add(dirname(dest));
  }

  /** Where and how the worker threads write objects (`ContentCodec.store` / `storeFilez`). */
  #workerWriteOptions(): WorkerWriteOptions {
    return {
      objectsDir: join(this.path, 'objects'),
      tmpDir: join(this.path, 'tmp'),
      fsync: this.options.fsync === 'object',
      bare: this.#bare,
    };
  }

  /** Content objects are stored as plain files (bare-user-only), not `.filez`. */
  get #bare(): boolean {
    return this.mode === 'bare-user-only';
  }

  #ensureObjectDirs(files: readonly string[]): Promise<unknown> {
    return Promise.all([...new Set(files.map((f) => dirname(f)))].map((d) => this.#ensureObjectDir(d)));
  }

  /**
   * Creates every `objects/XX` directory that is not there yet, so that writes do not wait for a
   * mkdir (a pull calls it while its first requests are on the wire: on the benchmark's fresh
   * delta pull the mkdirs of the first content batch otherwise held it back 15–35 ms, queued
   * behind other file-system work on libuv's pool).
   */
  async prepareObjectDirs(): Promise<void> {
    const objects = join(this.path, 'objects');
    // One readdir of objects/ finds those already there (all of them, in a repository used before).
    this.#noteObjectDirs(await this.#index.subdirs());
    await Promise.all(HEX_PREFIXES.map((x) => this.#ensureObjectDir(join(objects, x))));
  }

  /** Creates `objects/XX` once: concurrent writers of the same directory share one mkdir. */
  #ensureObjectDir(dir: string): Promise<void> {
    let made = this.#dirs.get(dir);
    if (made === undefined) {
      made = mkdir(dir).then(
        () => {
          if (this.options.fsync !== 'none') this.#dirtyDirs.add(join(this.path, 'objects'));
        },
        (err: unknown) => {
          if (errnoOf(err) === 'EEXIST') return;
          this.#dirs.delete(dir);
          throw fsError('mkdir', dir, err);
        },
      );
      this.#dirs.set(dir, made);
    }
    return made;
  }

  /** ERR_INVALID_ARGUMENT unless this library can write objects into this repository's mode ({@link WRITABLE_REPO_MODES}). */
  assertWritable(): void {
    if (!(WRITABLE_REPO_MODES as readonly string[]).includes(this.mode)) {
      throw new FlathubFetchError(ErrorCodes.INVALID_ARGUMENT, `${this.path}: writing to ${this.mode} repositories is not supported`, {
        argument: 'repository',
        value: this.path,
        reason: `mode ${this.mode}`,
      });
    }
  }

  /**
   * Makes every object written so far durable: fsync of the files not yet synced and of the
   * directories that received new entries, or — from 64 files on — one syncfs of the
   * repository's filesystem (see `syncFilesystem`). Called by `writeRef` and `clearPartial`; a
   * no-op with fsync policy 'none'.
   */
  async flush(): Promise<void> {
    if (this.options.fsync === 'none') return;
    const files = this.#unsynced.splice(0);
    const dirs = [...this.#dirtyDirs].sort((a, b) => b.length - a.length);
    this.#dirtyDirs.clear();
    // Many new files: one syncfs of the repository's filesystem, as libostree does at the end of
    // a transaction (the objects, tmp/ and state/ are all on it).
    if (files.length >= SYNCFS_FROM && (await syncFilesystem(this.path))) return;
    // Many fsyncs in flight let the filesystem commit them in a few journal transactions.
    const limit = pLimit(32);
    await Promise.all(files.map((f) => limit(() => syncFile(f))));
    await Promise.all(dirs.map((d) => limit(() => syncDir(d))));
  }

  // ---------------------------------------------------------------- partial commits

  #partialFile(commit: Checksum): string {
    return join(this.path, 'state', `${parseChecksum(commit, 'commit checksum')}.commitpartial`);
  }

  /** Marks `commit` as incomplete (`state/<commit>.commitpartial`, as ostree does during a pull). */
  async markPartial(commit: Checksum): Promise<void> {
    const file = this.#partialFile(commit);
    await mkdir(dirname(file), { recursive: true }).catch((err: unknown) => {
      throw fsError('mkdir', dirname(file), err);
    });
    const fsync = this.options.fsync !== 'none';
    await atomicWriteFile(file, [], { tmpDir: join(this.path, 'tmp'), fsync });
    if (fsync) await syncDir(dirname(file));
  }

  /** Removes the partial marker once every object of `commit` is written (flushes first). */
  async clearPartial(commit: Checksum): Promise<void> {
    const file = this.#partialFile(commit);
    await this.flush();
    try {
      await unlink(file);
    } catch (err) {
      if (errnoOf(err) === 'ENOENT') return;
      throw fsError('unlink', file, err);
    }
    if (this.options.fsync !== 'none') await syncDir(dirname(file));
  }

  async isPartial(commit: Checksum): Promise<boolean> {
    const file = this.#partialFile(commit);
    try {
      await stat(file);
      return true;
    } catch (err) {
      if (errnoOf(err) === 'ENOENT') return false;
      throw fsError('stat', file, err);
    }
  }

  // ---------------------------------------------------------------- refs

  /**
   * Points `ref` at `commit`: `refs/remotes/<remote>/<ref>` when `remote` is given, else
   * `refs/heads/<ref>`. Objects written before are flushed first; the ref file is replaced
   * atomically. Names are validated (ERR_INVALID_ARGUMENT; no `.`/`..` components).
   */
  async writeRef(ref: string, commit: Checksum, location: RefLocation = {}): Promise<void> {
    await this.flush();
    const c = await this.#refs.write(ref, commit, location);
    debug('ref %s%s -> %s', location.remote === undefined ? '' : `${location.remote}:`, ref, c);
  }

  /** The commit `ref` points at, or null when there is no such ref. */
  readRef(ref: string, location: RefLocation = {}): Promise<Checksum | null> {
    return this.#refs.read(ref, location);
  }

  /**
   * Like `ostree rev-parse`: a 64-hex commit is returned as is; `remote:ref` is looked up in
   * `refs/remotes/<remote>/`; a plain ref in `refs/heads/`, then in every remote
   * (ERR_INVALID_ARGUMENT when remotes disagree). ERR_NOT_FOUND when nothing matches.
   */
  resolveRef(refOrCommit: string): Promise<Checksum> {
    return this.#refs.resolve(refOrCommit);
  }

  /** Ref → commit for every ref under refs/heads (and refs/remotes/<r>/ as `r:ref`). */
  listRefs(): Promise<Map<string, Checksum>> {
    return this.#refs.list();
  }

  // ---------------------------------------------------------------- trees

  /** Materialises `commit` into the new directory `dest` (see `checkoutCommit`). */
  checkout(commit: Checksum, dest: string, options: CheckoutOptions = {}): Promise<CheckoutResult> {
    return checkoutCommit(this, commit, dest, options);
  }

  /** Checks that every object reachable from `commit` exists and verifies (see `verifyCommit`). */
  verifyCommit(commit: Checksum, options: VerifyCommitOptions = {}): Promise<VerifyCommitResult> {
    return verifyCommit(this, commit, options);
  }

  /**
   * Waits for the writes already started (so work done before an abort is kept), then
   * terminates the worker threads. The repository stays usable (workers are re-created on demand).
   */
  async close(): Promise<void> {
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending]);
    await this.#codec.close();
  }

  #track<T>(write: Promise<T>): Promise<T> {
    this.#pending.add(write);
    const done = () => void this.#pending.delete(write);
    write.then(done, done);
    return write;
  }
}

/** A decode failure of bytes claimed to be object `expected` → ERR_CHECKSUM_MISMATCH (policy limits and non-format errors pass through). */
function undecodable(what: string, expected: Checksum, err: unknown): unknown {
  if (!isFlathubFetchError(err)) return err;
  const policyLimit = err.code === ErrorCodes.SIZE_LIMIT && Number(err.data.size) > Number(err.data.limit);
  const corruption = (
    [
      ErrorCodes.FORMAT,
      ErrorCodes.DECOMPRESS,
      ErrorCodes.SIZE_LIMIT,
      ErrorCodes.GVARIANT_TRUNCATED,
      ErrorCodes.GVARIANT_MALFORMED,
    ] as string[]
  ).includes(err.code);
  if (policyLimit || !corruption) return err;
  const reason = err.message.startsWith(`${what}: `) ? err.message.slice(what.length + 2) : err.message;
  return new FlathubFetchError(
    ErrorCodes.CHECKSUM_MISMATCH,
    `${what}: bytes do not decode as this object (${reason})`,
    { object: expected, expected, actual: null, reason },
    { cause: err },
  );
}

/** ERR_FS for a file operation a content worker reported failing. */
function workerFsError(r: { syscall: string; path: string; code: string | undefined; message: string }): FlathubFetchError {
  return fsError(r.syscall, r.path, Object.assign(new Error(r.message), { code: r.code }));
}

function mismatch(what: string, expected: Checksum, actual: Checksum): FlathubFetchError {
  return new FlathubFetchError(ErrorCodes.CHECKSUM_MISMATCH, `${what}: content hashes to ${actual}`, {
    object: expected,
    expected,
    actual,
  });
}
