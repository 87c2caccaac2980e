/** OSTree dirtree objects: `(a(say)a(sayay))` — files (name, content checksum) and subdirectories (name, dirtree, dirmeta). */
import { FlathubFetchError } from '../errors/FlathubFetchError.js';
import { ErrorCodes } from '../errors/codes.js';
import { gv } from '../gvariant/schema.js';
import { type Checksum, checksumFromBytes, checksumToBytes } from './checksum.js';
import { withContext } from './formatError.js';

export const DIRTREE_TYPE = '(a(say)a(sayay))';
const schema = gv(DIRTREE_TYPE);

export interface DirTreeFile {
  name: string;
  checksum: Checksum;
}

export interface DirTreeDir {
  name: string;
  tree: Checksum;
  meta: Checksum;
}

export interface DirTree {
  files: DirTreeFile[];
  dirs: DirTreeDir[];
}

/**
 * Throws ERR_UNSAFE_NAME unless `name` is a single safe path component: not empty, not `.`
 * or `..`, no `/` and no NUL.
 */
export function assertSafeName(name: string, object = 'dirtree'): void {
  let reason: string | null = null;
  if (name.length === 0) reason = 'empty name';
  else if (name === '.' || name === '..') reason = `"${name}" is not allowed`;
  else if (name.includes('/')) reason = 'name contains "/"';
  else if (name.includes('\0')) reason = 'name contains NUL';
  if (reason !== null) {
    throw new FlathubFetchError(ErrorCodes.UNSAFE_NAME, `${object}: unsafe file name ${JSON.stringify(name)}: ${reason}`, {
      name,
      object,
      reason,
    });
  }
}

export function parseDirTree(bytes: Uint8Array, what = 'dirtree'): DirTree {
  return withContext(what, () => {
    const [files, dirs] = schema.decode(bytes);
    return {
      files: files.map(([name, c]) => {
        assertSafeName(name, what);
        return { name, checksum: checksumFromBytes(c, `checksum of file "${name}"`) };
      }),
      dirs: dirs.map(([name, t, m]) => {
        assertSafeName(name, what);
        return { name, tree: checksumFromBytes(t, `dirtree of "${name}"`), meta: checksumFromBytes(m, `dirmeta of "${name}"`) };
      }),
    };
  });
}

export function serializeDirTree(tree: DirTree): Uint8Array {
  return schema.encode([
    tree.files.map((f) => [f.name, checksumToBytes(f.checksum)] as [string, Uint8Array]),
    tree.dirs.map((d) => [d.name, checksumToBytes(d.tree), checksumToBytes(d.meta)] as [string, Uint8Array, Uint8Array]),
  ]);
}
