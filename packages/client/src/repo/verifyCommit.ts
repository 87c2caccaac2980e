/**
 * `ostree fsck` for one commit: every object reachable from it (commit, dirtrees, dirmetas,
 * content) must exist and verify — metadata by SHA-256 and normal-form decoding, content by
 * bounded inflation and its content checksum. A `.commitmeta`, when present, must decode.
 * Reports what is missing and what is corrupt instead of stopping at the first problem (a
 * corrupt or missing dirtree hides its subtree, which is then not listed). Filesystem errors
 * other than "absent" are thrown.
 */
import createDebug from 'debug';
import { isFlathubFetchError } from '../errors/FlathubFetchError.js';
import { ErrorCodes } from '../errors/codes.js';
import { type Checksum, parseChecksum } from '../formats/checksum.js';
import type { Commit } from '../formats/Commit.js';
import type { DirTree } from '../formats/DirTree.js';
import { S_IFDIR, S_IFMT } from '../formats/FileHeader.js';
import { formatError } from '../formats/formatError.js';
import { ObjectType } from '../formats/ObjectType.js';
import type { ObjectSource } from './ObjectSource.js';
import { mapLimit } from './mapLimit.js';
import { throwIfAborted } from '../errors/abortError.js';
import { verifyCommitMeta } from './verifyMetadataObject.js';

const debug = createDebug('flathub-fetch:repo');

export interface ObjectRef {
  type: ObjectType;
  checksum: Checksum;
}

export interface CorruptObject extends ObjectRef {
  /** Error code of the failed check (ERR_CHECKSUM_MISMATCH, ERR_GVARIANT_MALFORMED, …). */
  code: string;
  message: string;
}

export interface VerifyCommitResult {
  commit: Checksum;
  /** No object missing or corrupt. */
  ok: boolean;
  /** `state/<commit>.commitpartial` exists. */
  partial: boolean;
  /** Distinct objects checked (present or not). */
  objects: number;
  missing: ObjectRef[];
  corrupt: CorruptObject[];
}

export interface VerifyCommitProgress {
  phase: 'verify';
  /** Content objects verified so far. */
  loaded: number;
  /** Content objects reachable from the commit. */
  total: number;
}

export interface VerifyCommitOptions {
  signal?: AbortSignal | undefined;
  onProgress?: (progress: VerifyCommitProgress) => void;
  /** Content objects verified at once. @default 4 */
  concurrency?: number;
}

export async function verifyCommit(repo: ObjectSource, commit: Checksum, options: VerifyCommitOptions = {}): Promise<VerifyCommitResult> {
  const c = parseChecksum(commit, 'commit to verify');
  const what = `verify commit ${c}`;
  const { signal } = options;
  const result: VerifyCommitResult = { commit: c, ok: false, partial: await repo.isPartial(c), objects: 0, missing: [], corrupt: [] };
  const seen = new Set<string>();

  /** Runs a check; absent → missing, verification failure → corrupt (both return null). */
  const check = async <T>(type: ObjectType, checksum: Checksum, fn: () => Promise<T>): Promise<T | null> => {
    const key = `${checksum}.${type}`;
    if (seen.has(key)) return null;
    seen.add(key);
    result.objects++;
    try {
      return await fn();
    } catch (err) {
      if (isFlathubFetchError(err, ErrorCodes.NOT_FOUND)) result.missing.push({ type, checksum });
      else if (isFlathubFetchError(err) && err.code !== ErrorCodes.FS && err.code !== ErrorCodes.ABORTED) {
        result.corrupt.push({ type, checksum, code: err.code, message: err.message });
      } else throw err;
      return null;
    }
  };

  throwIfAborted(signal, what);
  const root = await check<Commit>(ObjectType.COMMIT, c, () => repo.readCommit(c));
  const meta = await repo.readObjectBytes(ObjectType.COMMIT_META, c);
  if (meta !== null) await check(ObjectType.COMMIT_META, c, async () => verifyCommitMeta(c, meta));
  const files = new Set<Checksum>();
  const walk = async (tree: Checksum, dirmeta: Checksum): Promise<void> => {
    throwIfAborted(signal, what);
    await check(ObjectType.DIR_META, dirmeta, async () => {
      const m = await repo.readDirMeta(dirmeta);
      if ((m.mode & S_IFMT) !== S_IFDIR) throw formatError(`dirmeta ${dirmeta}`, `mode 0${m.mode.toString(8)} is not a directory`);
    });
    const t = await check<DirTree>(ObjectType.DIR_TREE, tree, () => repo.readDirTree(tree));
    if (t === null) return;
    for (const f of t.files) files.add(f.checksum);
    for (const d of t.dirs) await walk(d.tree, d.meta);
  };
  if (root !== null) await walk(root.rootTree, root.rootMeta);
  let loaded = 0;
  await mapLimit(files, options.concurrency ?? 4, async (f) => {
    throwIfAborted(signal, what);
    await check(ObjectType.FILE, f, () => repo.verifyContent(f));
    loaded++;
    options.onProgress?.({ phase: 'verify', loaded, total: files.size });
  });
  result.ok = result.missing.length === 0 && result.corrupt.length === 0;
  debug('%s: %d objects, %d missing, %d corrupt', what, result.objects, result.missing.length, result.corrupt.length);
  return result;
}
