/**
 * What a repository's reader (`LocalRepo`) and its transactions (`RepoTransaction`) share:
 * where and in which mode objects live, the presence index, the content codec (worker threads),
 * the refs, and the repository-wide write bookkeeping — writes in flight by object (so two
 * writes of one object, from any transaction, store it once), the `objects/XX` directories
 * known to exist, and what the next flush must make durable. Internal to `repo/`.
 */
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import pLimit from 'p-limit';
import { FlathubFetchError } from '../errors/FlathubFetchError.js';
import { ErrorCodes } from '../errors/codes.js';
import { type Checksum, parseChecksum } from '../formats/checksum.js';
import type { KeyFile } from '../formats/KeyFile.js';
import type { ObjectType } from '../formats/ObjectType.js';
import { objectPath } from '../formats/paths.js';
import { ContentCodec } from './ContentCodec.js';
import type { WorkerWriteOptions } from './ContentWorkerPool.js';
import { errnoOf, fsError } from './fsError.js';
import { processUmask } from './processUmask.js';
import type { ResolvedLocalRepoOptions } from './LocalRepoOptions.js';
import { type RepoMode, repoModeOf, WRITABLE_REPO_MODES } from './repoMode.js';
import { HEX_PREFIXES, ObjectIndex } from './ObjectIndex.js';
import { RefStore } from './RefStore.js';
import { syncDir, syncFile } from './syncDir.js';
import { canSyncFilesystem, syncAllFilesystems, syncFilesystem } from './syncFilesystem.js';

/** From this many unsynced files on, `flush()` syncs the whole filesystem once instead. */
const SYNCFS_FROM = 64;

/** What `LocalRepo.close()` waits for: the writes a transaction has started. */
export interface WriteOwner {
  settled(): Promise<void>;
}

export class RepoCore {
  readonly path: string;
  readonly config: KeyFile;
  readonly mode: RepoMode;
  readonly options: ResolvedLocalRepoOptions;
  readonly index: ObjectIndex;
  /** Set by the first `LocalRepo.loadObjectIndex()` or `knowObjects()`: from then on `hasCached` answers. */
  indexInUse = false;
  readonly codec: ContentCodec;
  readonly refs: RefStore;
  /** Writes in progress by object key; a second write of the same object waits for the first. */
  readonly inflight = new Map<string, Promise<void>>();
  /** Open transactions. */
  readonly owners = new Set<WriteOwner>();
  /** `objects/XX` directories known to exist (or being created). */
  readonly #dirs = new Map<string, Promise<void>>();
  /**
   * Object files written but not yet fsynced (fsync policy 'commit'), up to SYNCFS_FROM of them:
   * past that (where syncfs can be run) `flush()` syncs the filesystem and needs no list, so none
   * is kept — the paths of a whole pull would grow with its object count.
   */
  #unsynced: string[] = [];
  /** More than SYNCFS_FROM files written since the last flush: `#unsynced` is not kept. */
  #manyUnsynced = false;
  /** Directories whose new entries are not yet fsynced. */
  readonly #dirtyDirs = new Set<string>();
  /** The umask the workers' writes assume (see `noteUmask`); null: unknown, permission bits always set. */
  #umask: number | null = null;

  constructor(path: string, config: KeyFile, options: ResolvedLocalRepoOptions) {
    this.path = path;
    this.config = config;
    this.options = options;
    this.mode = repoModeOf(config);
    this.codec = new ContentCodec(options);
    this.refs = new RefStore(path, options.fsync !== 'none');
    this.index = new ObjectIndex(join(path, 'objects'));
  }

  /** Content objects are stored as plain files (bare-user-only), not `.filez`. */
  get bare(): boolean {
    return this.mode === 'bare-user-only';
  }

  get tmpDir(): string {
    return join(this.path, 'tmp');
  }

  /** Where and how the worker threads write objects (`ContentCodec.store` / `storeFilez`). */
  workerWriteOptions(): WorkerWriteOptions {
    return {
      objectsDir: join(this.path, 'objects'),
      tmpDir: this.tmpDir,
      fsync: this.options.fsync === 'object',
      bare: this.bare,
      umask: this.#umask,
    };
  }

  /**
   * Reads the process's umask again (`processUmask`), for the writes that follow: each
   * transaction does as it begins, so a umask changed between transactions is followed (one
   * changed while a transaction writes is not).
   */
  noteUmask(): void {
    this.#umask = processUmask();
  }

  objectFile(type: ObjectType, checksum: Checksum): string {
    return join(this.path, objectPath(checksum, type, this.mode === 'archive' ? 'archive' : 'bare'));
  }

  key(type: ObjectType, checksum: Checksum): string {
    return ObjectIndex.key(type, checksum, this.mode === 'archive' ? 'archive' : 'bare');
  }

  partialFile(commit: Checksum): string {
    return join(this.path, 'state', `${parseChecksum(commit, 'commit checksum')}.commitpartial`);
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

  /** Reads every `objects/XX` not read yet into the index; the directories found need no mkdir before a write. */
  async loadIndex(): Promise<void> {
    this.indexInUse = true;
    await this.index.load();
    this.#noteObjectDirs(await this.index.subdirs());
  }

  /** The `objects/XX` directories found need no mkdir before a write. */
  #noteObjectDirs(subdirs: ReadonlySet<string>): void {
    for (const d of subdirs) {
      const dir = join(this.path, 'objects', d);
      if (!this.#dirs.has(dir)) this.#dirs.set(dir, Promise.resolve());
    }
  }

  /** Bookkeeping of an object now in place: the index, and what the next `flush()` must sync. */
  stored(key: string, dest: string): void {
    this.index.add(key);
    if (this.options.fsync === 'commit' && !this.#manyUnsynced) {
      this.#unsynced.push(dest);
      if (this.#unsynced.length >= SYNCFS_FROM && canSyncFilesystem) {
        this.#manyUnsynced = true;
        this.#unsynced = [];
      }
    }
    if (this.options.fsync !== 'none') this.#dirtyDirs.add(dirname(dest));
  }

  /** Creates every `objects/XX` directory that is not there yet, so that writes do not wait for a mkdir. */
  async prepareObjectDirs(): Promise<void> {
    const objects = join(this.path, 'objects');
    // One readdir of objects/ finds those already there (all of them, in a repository used before).
    this.#noteObjectDirs(await this.index.subdirs());
    await Promise.all(HEX_PREFIXES.map((x) => this.ensureObjectDir(join(objects, x))));
  }

  ensureObjectDirs(files: readonly string[]): Promise<unknown> {
    return Promise.all([...new Set(files.map((f) => dirname(f)))].map((d) => this.ensureObjectDir(d)));
  }

  /** Creates `objects/XX` once: concurrent writers of the same directory share one mkdir. */
  ensureObjectDir(dir: string): Promise<void> {
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

  /**
   * Makes every object written so far durable: fsync of the files not yet synced and of the
   * directories that received new entries, or — from SYNCFS_FROM files on — one syncfs of the
   * repository's filesystem (see `syncFilesystem`; sync(2) where that is refused). A no-op with
   * fsync policy 'none'.
   */
  async flush(): Promise<void> {
    if (this.options.fsync === 'none') return;
    const files = this.#unsynced;
    const many = this.#manyUnsynced;
    this.#unsynced = [];
    this.#manyUnsynced = false;
    const dirs = [...this.#dirtyDirs].sort((a, b) => b.length - a.length);
    this.#dirtyDirs.clear();
    // Many new files: one syncfs of the repository's filesystem, as libostree does at the end of
    // a transaction (the objects, tmp/ and state/ are all on it).
    if (many) {
      if (await syncFilesystem(this.path)) return;
      const err = await syncAllFilesystems();
      if (err !== null) throw fsError('sync', this.path, err);
      return;
    }
    // Many fsyncs in flight let the filesystem commit them in a few journal transactions.
    const limit = pLimit(32);
    await Promise.all(files.map((f) => limit(() => syncFile(f))));
    await Promise.all(dirs.map((d) => limit(() => syncDir(d))));
  }

  /** Waits for the writes every open transaction has started. */
  async settled(): Promise<void> {
    for (const owner of [...this.owners]) await owner.settled();
  }
}
