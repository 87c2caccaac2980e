/**
 * An OSTree repository on disk: archive-z2 and bare-user-only (Flatpak's mode for per-user
 * installations) for reading and writing; bare and bare-user for reading metadata and refs.
 *
 * Reading: config, refs, loose objects (verified on request), the presence index, commit trees
 * (checkout, verification). Writing goes through a transaction (`beginTransaction()`, see
 * `RepoTransaction`): every object verified before it is stored, the commit marked partial
 * until the transaction commits. Content objects are compressed/inflated and hashed in worker
 * threads (see {@link LocalRepoOptions}).
 *
 * Call `close()` when done: it waits for writes already started, then terminates the workers.
 */
import { lstat, readFile, readlink, stat } from 'node:fs/promises';
import { join } from 'node:path';
import createDebug from 'debug';
import { FlathubFetchError } from '../errors/FlathubFetchError.js';
import { ErrorCodes } from '../errors/codes.js';
import { type Checksum, sha256Hex } from '../formats/checksum.js';
import { type Commit, parseCommit } from '../formats/Commit.js';
import { type DirMeta, parseDirMeta } from '../formats/DirMeta.js';
import { type DirTree, parseDirTree } from '../formats/DirTree.js';
import { type FileInfo, S_IFLNK, S_IFMT, S_IFREG } from '../formats/FileHeader.js';
import { formatError } from '../formats/formatError.js';
import { type KeyFile, parseKeyFile } from '../formats/KeyFile.js';
import { ObjectType, objectTypeName } from '../formats/ObjectType.js';
import { addRemoteToConfig } from './addRemoteToConfig.js';
import { type CheckoutOptions, type CheckoutResult, checkoutCommit } from './checkoutCommit.js';
import { type CreateRepoOptions, createRepoLayout } from './createRepoLayout.js';
import { errnoOf, fsError } from './fsError.js';
import { removeThreadTmpDirs } from './threadTmp.js';
import { type LocalRepoOptions, type ResolvedLocalRepoOptions, resolveLocalRepoOptions } from './LocalRepoOptions.js';
import { PREFIX_READ_FROM } from './ObjectIndex.js';
import type { ObjectSource } from './ObjectSource.js';
import { isPartial } from './partialMarker.js';
import { RepoCore } from './RepoCore.js';
import { type RepoMode, repoModeOf } from './repoMode.js';
import { type BeginTransactionOptions, RepoTransaction } from './RepoTransaction.js';
import type { RefLocation } from './refPath.js';
import { verifyCommit, type VerifyCommitOptions, type VerifyCommitResult } from './verifyCommit.js';

export { type RepoMode, WRITABLE_REPO_MODES, type WritableRepoMode } from './repoMode.js';

const debug = createDebug('flathub-fetch:repo');

export class LocalRepo implements ObjectSource {
  readonly path: string;
  readonly config: KeyFile;
  readonly mode: RepoMode;
  readonly options: ResolvedLocalRepoOptions;
  readonly #core: RepoCore;

  private constructor(path: string, config: KeyFile, options: ResolvedLocalRepoOptions) {
    this.#core = new RepoCore(path, config, options);
    this.path = path;
    this.config = config;
    this.options = options;
    this.mode = this.#core.mode;
  }

  /** Opens an existing repository (ERR_NOT_FOUND when `path/config` is missing). */
  static async open(path: string, options: LocalRepoOptions = {}): Promise<LocalRepo> {
    resolveLocalRepoOptions(options); // invalid options are refused before anything is read
    let text: string;
    try {
      text = await readFile(join(path, 'config'), 'utf8');
    } catch (err) {
      throw new FlathubFetchError(ErrorCodes.NOT_FOUND, `${path} is not an OSTree repository (no config: ${errnoOf(err)})`, {
        what: 'repository',
        path,
      });
    }
    const config = parseKeyFile(text, join(path, 'config'));
    return new LocalRepo(path, config, resolveLocalRepoOptions(options, repoModeOf(config)));
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
    return this.#core.codec.threads;
  }

  objectFile(type: ObjectType, checksum: Checksum): string {
    return this.#core.objectFile(type, checksum);
  }

  /** ERR_INVALID_ARGUMENT unless this library can write objects into this repository's mode ({@link WRITABLE_REPO_MODES}). */
  assertWritable(): void {
    this.#core.assertWritable();
  }

  /**
   * Begins a write transaction (see `RepoTransaction`): with `commit`, that commit is marked
   * partial until the transaction commits. ERR_INVALID_ARGUMENT for a repository this library
   * cannot write ({@link WRITABLE_REPO_MODES}).
   */
  beginTransaction(options: BeginTransactionOptions = {}): RepoTransaction {
    return new RepoTransaction(this.#core, options);
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
   * `verify: false` skips hashing a bare-user-only file, for a caller whose output is verified
   * anyway (a delta's read sources: what is built from a damaged source fails its own checksum,
   * as in libostree, which does not verify them either).
   */
  async readContent(checksum: Checksum, options: { verify?: boolean } = {}): Promise<{ info: FileInfo; content: Uint8Array }> {
    const file = this.objectFile(ObjectType.FILE, checksum);
    if (this.mode === 'bare-user-only') return this.#readBareContent(checksum, file, options.verify ?? true);
    const r = await this.#core.codec.decode(await this.#requiredContent(checksum), file);
    this.#assertContentChecksum(file, checksum, r.checksum);
    return { info: r.info, content: r.content };
  }

  /** Verifies a content object (inflate or read, and hash; nothing kept) and returns its file info. */
  async verifyContent(checksum: Checksum): Promise<FileInfo> {
    const file = this.objectFile(ObjectType.FILE, checksum);
    if (this.mode === 'bare-user-only') return (await this.#readBareContent(checksum, file, true)).info;
    const r = await this.#core.codec.verify(await this.#requiredContent(checksum), file);
    this.#assertContentChecksum(file, checksum, r.checksum);
    return r.info;
  }

  async #readBareContent(checksum: Checksum, file: string, verify: boolean): Promise<{ info: FileInfo; content: Uint8Array }> {
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
    if (!verify) return { info, content };
    const { checksum: actual } = await this.#core.codec.encode(info, content, { expected: checksum, compress: false });
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

  /** Whether a loose object exists (one `stat`; updates the index when it does). */
  async has(type: ObjectType, checksum: Checksum): Promise<boolean> {
    try {
      await stat(this.objectFile(type, checksum));
    } catch (err) {
      if (errnoOf(err) === 'ENOENT') return false;
      throw fsError('stat', this.objectFile(type, checksum), err);
    }
    this.#core.index.add(this.#core.key(type, checksum));
    return true;
  }

  /**
   * Reads all of `objects/` into memory (one readdir per `objects/XX`, those not read yet) and
   * returns the set of `<checksum>.<ext>` names (a live view: later writes appear in it). A pull
   * does not need it: `hasCached` reads the directory of the object it is asked about.
   */
  async loadObjectIndex(): Promise<ReadonlySet<string>> {
    const t = Date.now();
    await this.#core.loadIndex();
    const keys = this.#core.index.keys;
    debug('object index of %s: %d objects in %d ms', this.path, keys.size, Date.now() - t);
    return keys;
  }

  /**
   * Makes `hasCached` answer for these objects without touching the disk again: the
   * `objects/XX` directories with PREFIX_READ_FROM or more of them are read (concurrently), the
   * others looked up one by one. What this costs grows with the objects, not the repository.
   */
  async knowObjects(objects: Iterable<{ type: ObjectType; checksum: Checksum }>): Promise<void> {
    const core = this.#core;
    const index = core.index;
    core.indexInUse = true;
    const unknown = new Map<string, string[]>();
    for (const o of objects) {
      const p = o.checksum.slice(0, 2);
      if (index.knows(p)) continue;
      const key = core.key(o.type, o.checksum);
      if (index.knowsKey(key)) continue;
      const keys = unknown.get(p);
      if (keys === undefined) unknown.set(p, [key]);
      else keys.push(key);
    }
    const read: string[] = [];
    for (const [p, keys] of unknown) {
      if (keys.length >= PREFIX_READ_FROM) read.push(p);
      else for (const k of keys) index.checkSync(k);
    }
    if (read.length > 0) await index.loadPrefixes(read);
  }

  /**
   * Synchronous presence check against the index: objects found in `objects/` (an object not
   * asked about before is looked up now, one `lstat`, unless `knowObjects` or `loadObjectIndex`
   * did already) or written through this repository since. ERR_INVALID_ARGUMENT until one of those
   * two has been called (the index is then in use).
   */
  hasCached(type: ObjectType, checksum: Checksum): boolean {
    const index = this.#core.index;
    if (!this.#core.indexInUse) {
      throw new FlathubFetchError(ErrorCodes.INVALID_ARGUMENT, `${this.path}: hasCached() before loadObjectIndex() or knowObjects()`, {
        argument: 'hasCached',
        reason: 'object index not in use',
      });
    }
    // An empty repository (a fresh pull asks thousands of times) needs no key.
    if (index.knows(checksum.slice(0, 2))) return index.keys.size > 0 && index.has(this.#core.key(type, checksum));
    const key = this.#core.key(type, checksum);
    index.checkSync(key);
    return index.has(key);
  }

  // ---------------------------------------------------------------- partial commits

  /** Whether `commit` is marked partial (`state/<commit>.commitpartial`: an interrupted or subpath pull). */
  isPartial(commit: Checksum): Promise<boolean> {
    return isPartial(this.#core, commit);
  }

  // ---------------------------------------------------------------- refs

  /**
   * Points `ref` at `commit` now, outside a transaction (libostree's `set_ref_immediate`):
   * `refs/remotes/<remote>/<ref>` when `remote` is given, else `refs/heads/<ref>`. Objects
   * written before (by any transaction) are flushed first; the ref file is replaced atomically.
   * Names are validated (ERR_INVALID_ARGUMENT; no `.`/`..` components).
   */
  async writeRef(ref: string, commit: Checksum, location: RefLocation = {}): Promise<void> {
    await this.#core.flush();
    const c = await this.#core.refs.write(ref, commit, location);
    debug('ref %s%s -> %s', location.remote === undefined ? '' : `${location.remote}:`, ref, c);
  }

  /** The commit `ref` points at, or null when there is no such ref. */
  readRef(ref: string, location: RefLocation = {}): Promise<Checksum | null> {
    return this.#core.refs.read(ref, location);
  }

  /**
   * Like `ostree rev-parse`: a 64-hex commit is returned as is; `remote:ref` is looked up in
   * `refs/remotes/<remote>/`; a plain ref in `refs/heads/`, then in every remote
   * (ERR_INVALID_ARGUMENT when remotes disagree). ERR_NOT_FOUND when nothing matches.
   */
  resolveRef(refOrCommit: string): Promise<Checksum> {
    return this.#core.refs.resolve(refOrCommit);
  }

  /** Ref → commit for every ref under refs/heads (and refs/remotes/<r>/ as `r:ref`). */
  listRefs(): Promise<Map<string, Checksum>> {
    return this.#core.refs.list();
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
    await this.#core.settled();
    await this.#core.codec.close();
    removeThreadTmpDirs(this.#core.tmpDir);
  }
}
