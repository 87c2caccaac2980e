/** fsync of directories (makes renames and new entries in them durable) and of files already in place. */
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { errnoOf, fsError } from './fsError.js';

async function fsyncPath(path: string): Promise<void> {
  // O_NOFOLLOW: a symlink (a bare-user-only object) is not followed (ELOOP, see syncFile).
  const fh = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

export async function syncDir(dir: string): Promise<void> {
  try {
    await fsyncPath(dir);
  } catch (err) {
    // Some filesystems refuse fsync on directories; that is not worth failing a pull over.
    if (errnoOf(err) === 'EINVAL' || errnoOf(err) === 'ENOTSUP' || errnoOf(err) === 'EISDIR') return;
    throw fsError('fsync', dir, err);
  }
}

/** fsync of a file already written and renamed into place; a symlink has no data to sync (its directory's fsync covers it). */
export async function syncFile(file: string): Promise<void> {
  try {
    await fsyncPath(file);
  } catch (err) {
    if (errnoOf(err) === 'ELOOP') return;
    throw fsError('fsync', file, err);
  }
}
