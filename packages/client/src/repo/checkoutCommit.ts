/**
 * Materialises a commit into a new directory, like `ostree checkout -U` (user mode):
 * regular files with their permission bits (set-uid/set-gid dropped, as ostree does in user
 * mode), symlinks with their targets, directories with their dirmeta modes; ownership and
 * xattrs are not applied. Directory mtimes are set to 0, as ostree 2022.7 leaves them.
 *
 * Safety against hostile trees:
 * - the whole tree is read and checked first (names via `assertSafeName`, a name used twice in
 *   one directory → ERR_PATH_CONFLICT, nesting ≤ 256) before anything is written;
 * - everything is created in a fresh staging directory next to `dest` with exclusive
 *   creation (`mkdir`, `symlink`, `open(O_CREAT|O_EXCL|O_NOFOLLOW)`), so an existing entry
 *   — in particular a symlink the tree planted — is never followed or overwritten; the
 *   parents of every path are directories this checkout created;
 * - modes are applied through `O_NOFOLLOW` descriptors, deepest directories first;
 * - the staging directory is renamed to `dest` at the end (dest appears complete or not at
 *   all) and removed on failure or abort.
 */
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { lstat, mkdir, open, rename, symlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import createDebug from 'debug';
import { FlathubFetchError } from '../errors/FlathubFetchError.js';
import { ErrorCodes } from '../errors/codes.js';
import { type Checksum, parseChecksum } from '../formats/checksum.js';
import type { DirMeta } from '../formats/DirMeta.js';
import { assertSafeName, type DirTree } from '../formats/DirTree.js';
import { isSymlink, S_IFDIR, S_IFMT } from '../formats/FileHeader.js';
import { formatError } from '../formats/formatError.js';
import { writeAll } from './atomicWriteFile.js';
import { errnoOf, fsError } from './fsError.js';
import type { ObjectSource } from './ObjectSource.js';
import { mapLimit } from './mapLimit.js';
import { removeTree } from './removeTree.js';
import { throwIfAborted } from '../errors/abortError.js';

const debug = createDebug('flathub-fetch:repo');

/** Deepest directory nesting accepted (ostree's OSTREE_MAX_RECURSION). */
export const MAX_CHECKOUT_DEPTH = 256;

export interface CheckoutProgress {
  phase: 'checkout';
  /** Files and symlinks written so far. */
  loaded: number;
  /** Files and symlinks in the commit. */
  total: number;
  /** Path (inside the tree, starting with `/`) of the entry just written. */
  path: string;
}

export interface CheckoutOptions {
  signal?: AbortSignal | undefined;
  onProgress?: (progress: CheckoutProgress) => void;
  /** Files read, inflated and written at once. @default 4 */
  concurrency?: number;
}

export interface CheckoutResult {
  commit: Checksum;
  dest: string;
  directories: number;
  files: number;
  symlinks: number;
  /** Bytes of regular-file content written. */
  bytes: number;
}

interface PlannedDir {
  rel: string;
  mode: number;
}

interface PlannedFile {
  rel: string;
  checksum: Checksum;
}

const FILE_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
const DIR_FLAGS = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;
/** S_ISUID | S_ISGID. */
const S_ISUID_ISGID = 0o6000;

export async function checkoutCommit(
  repo: ObjectSource,
  commit: Checksum,
  dest: string,
  options: CheckoutOptions = {},
): Promise<CheckoutResult> {
  const c = parseChecksum(commit, 'commit to check out');
  const what = `checkout of ${c} into ${dest}`;
  const { signal, onProgress } = options;
  throwIfAborted(signal, what);
  if (await pathExists(dest)) {
    throw new FlathubFetchError(ErrorCodes.PATH_CONFLICT, `${what}: ${dest} already exists`, { path: dest, reason: 'destination exists' });
  }
  const { dirs, files } = await planTree(repo, c, { what, signal });
  const parent = dirname(dest);
  try {
    await mkdir(parent, { recursive: true });
  } catch (err) {
    throw fsError('mkdir', parent, err);
  }
  const staging = join(parent, `.${basename(dest)}.checkout-${randomBytes(6).toString('hex')}`);
  try {
    await mkdir(staging, 0o700);
  } catch (err) {
    throw fsError('mkdir', staging, err);
  }
  const result: CheckoutResult = { commit: c, dest, directories: dirs.length, files: 0, symlinks: 0, bytes: 0 };
  const outside = (rel: string) => join(dest, rel);
  try {
    for (const d of dirs) {
      if (d.rel === '') continue;
      await create(() => mkdir(join(staging, d.rel), 0o700), 'mkdir', outside(d.rel), what);
    }
    let loaded = 0;
    await mapLimit(files, options.concurrency ?? 4, async (f) => {
      throwIfAborted(signal, what);
      const { info, content } = await repo.readContent(f.checksum);
      const target = join(staging, f.rel);
      if (isSymlink(info)) {
        await create(() => symlink(info.symlinkTarget, target), 'symlink', outside(f.rel), what);
        result.symlinks++;
      } else {
        const fh = await create(() => open(target, FILE_FLAGS, 0o600), 'create', outside(f.rel), what);
        try {
          await writeAll(fh, [content]);
          // User mode: never create set-uid/set-gid files (ostree checkout -U does the same).
          await fh.chmod(info.mode & 0o7777 & ~S_ISUID_ISGID);
        } catch (err) {
          throw fsError('write', outside(f.rel), err);
        } finally {
          await fh.close();
        }
        result.files++;
        result.bytes += content.length;
      }
      loaded++;
      onProgress?.({ phase: 'checkout', loaded, total: files.length, path: `/${f.rel}` });
    });
    throwIfAborted(signal, what);
    for (let i = dirs.length - 1; i >= 0; i--) {
      const d = dirs[i] as PlannedDir;
      const path = join(staging, d.rel);
      try {
        const fh = await open(path, DIR_FLAGS);
        try {
          await fh.chmod(d.mode & 0o7777);
          await fh.utimes(0, 0);
        } finally {
          await fh.close();
        }
      } catch (err) {
        throw fsError('chmod', outside(d.rel), err);
      }
    }
    if (await pathExists(dest)) {
      throw new FlathubFetchError(ErrorCodes.PATH_CONFLICT, `${what}: ${dest} appeared during the checkout`, {
        path: dest,
        reason: 'destination exists',
      });
    }
    try {
      await rename(staging, dest);
    } catch (err) {
      throw fsError('rename', `${staging} -> ${dest}`, err);
    }
  } catch (err) {
    await removeTree(staging);
    throw err;
  }
  debug('checked out %s into %s: %d dirs, %d files, %d symlinks', c, dest, result.directories, result.files, result.symlinks);
  return result;
}

/** Reads every dirtree/dirmeta of the commit and lays out what to create, refusing unsafe trees. */
async function planTree(
  repo: ObjectSource,
  commit: Checksum,
  options: { what: string; signal: AbortSignal | undefined },
): Promise<{ dirs: PlannedDir[]; files: PlannedFile[] }> {
  const { what, signal } = options;
  const root = await repo.readCommit(commit);
  const dirs: PlannedDir[] = [];
  const files: PlannedFile[] = [];
  const trees = new Map<Checksum, DirTree>();
  const metas = new Map<Checksum, DirMeta>();
  const walk = async (rel: string, tree: Checksum, meta: Checksum, depth: number): Promise<void> => {
    throwIfAborted(signal, what);
    if (depth > MAX_CHECKOUT_DEPTH) throw formatError(what, `/${rel} is nested deeper than ${MAX_CHECKOUT_DEPTH} directories`);
    let m = metas.get(meta);
    if (m === undefined) {
      m = await repo.readDirMeta(meta);
      metas.set(meta, m);
    }
    if ((m.mode & S_IFMT) !== S_IFDIR)
      throw formatError(what, `dirmeta ${meta} of /${rel} is not a directory (mode 0${m.mode.toString(8)})`);
    dirs.push({ rel, mode: m.mode });
    let t = trees.get(tree);
    if (t === undefined) {
      t = await repo.readDirTree(tree);
      trees.set(tree, t);
    }
    const names = new Set<string>();
    const claim = (name: string): string => {
      assertSafeName(name, `dirtree ${tree}`);
      const path = rel === '' ? name : `${rel}/${name}`;
      if (names.has(name)) {
        throw new FlathubFetchError(ErrorCodes.PATH_CONFLICT, `${what}: dirtree ${tree} names /${path} twice`, {
          path: `/${path}`,
          reason: 'duplicate name in dirtree',
        });
      }
      names.add(name);
      return path;
    };
    for (const f of t.files) files.push({ rel: claim(f.name), checksum: f.checksum });
    for (const d of t.dirs) await walk(claim(d.name), d.tree, d.meta, depth + 1);
  };
  await walk('', root.rootTree, root.rootMeta, 0);
  return { dirs, files };
}

/** Runs an exclusive create; EEXIST (a name the tree uses twice, or a planted entry) is ERR_PATH_CONFLICT. */
async function create<T>(fn: () => Promise<T>, op: string, path: string, what: string): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (errnoOf(err) === 'EEXIST') {
      throw new FlathubFetchError(
        ErrorCodes.PATH_CONFLICT,
        `${what}: ${path} already exists`,
        { path, reason: 'entry exists' },
        { cause: err },
      );
    }
    throw fsError(op, path, err);
  }
}

async function pathExists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (err) {
    if (errnoOf(err) === 'ENOENT') return false;
    throw fsError('lstat', path, err);
  }
}
