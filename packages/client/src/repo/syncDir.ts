/** fsync of a directory (makes renames and new entries in it durable). */
import { open } from 'node:fs/promises';
import { errnoOf, fsError } from './fsError.js';

export async function syncDir(dir: string): Promise<void> {
  try {
    const fh = await open(dir, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch (err) {
    // Some filesystems refuse fsync on directories; that is not worth failing a pull over.
    if (errnoOf(err) === 'EINVAL' || errnoOf(err) === 'ENOTSUP' || errnoOf(err) === 'EISDIR') return;
    throw fsError('fsync', dir, err);
  }
}

/** fsync of a file already written and renamed into place. */
export async function syncFile(file: string): Promise<void> {
  try {
    const fh = await open(file, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch (err) {
    throw fsError('fsync', file, err);
  }
}
