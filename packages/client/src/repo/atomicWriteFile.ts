/**
 * Writes a file so that `dest` is either absent/unchanged or complete: the bytes go to a new
 * file in `tmpDir` (same filesystem), optionally fsynced, then `rename()`d over `dest`. On any
 * failure the temporary file is removed. Concurrent writers of the same `dest` are safe: each
 * has its own temporary file and the last rename wins.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, renameSync, unlinkSync, writevSync } from 'node:fs';
import { type FileHandle, open, rename, unlink } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { fsError } from './fsError.js';

export interface AtomicWriteOptions {
  /** Directory for the temporary file; must be on the same filesystem as `dest`. */
  tmpDir: string;
  /** fsync the file before the rename. @default false */
  fsync?: boolean;
  /** Permission bits of the new file (before the umask). @default 0o644 */
  mode?: number;
}

/**
 * Below this size (and without fsync) the write is done with synchronous calls: for a small file
 * the four thread-pool round trips (open, write, close, rename) cost more than the calls
 * themselves, and they queue behind xz decoding and other I/O on libuv's four threads.
 */
export const SYNC_WRITE_BELOW = 256 * 1024;

function writeSmallSync(tmp: string, dest: string, chunks: readonly Uint8Array[], mode: number): void {
  let fd: number;
  try {
    fd = openSync(tmp, 'wx', mode);
  } catch (err) {
    throw fsError('create', tmp, err);
  }
  try {
    try {
      writevSync(fd, chunks as Uint8Array[]);
    } catch (err) {
      throw fsError('write', tmp, err);
    } finally {
      closeSync(fd);
    }
    try {
      renameSync(tmp, dest);
    } catch (err) {
      throw fsError('rename', `${tmp} -> ${dest}`, err);
    }
  } catch (err) {
    try {
      unlinkSync(tmp);
    } catch {
      // already gone
    }
    throw err;
  }
}

export async function atomicWriteFile(dest: string, chunks: readonly Uint8Array[], options: AtomicWriteOptions): Promise<void> {
  const tmp = join(options.tmpDir, `flathub-fetch-${randomBytes(8).toString('hex')}-${basename(dest).slice(0, 16)}.tmp`);
  if (options.fsync !== true && chunks.reduce((n, c) => n + c.length, 0) < SYNC_WRITE_BELOW) {
    writeSmallSync(tmp, dest, chunks, options.mode ?? 0o644);
    return;
  }
  let fh: FileHandle | null = null;
  try {
    try {
      fh = await open(tmp, 'wx', options.mode ?? 0o644);
    } catch (err) {
      throw fsError('create', tmp, err);
    }
    try {
      await writeAll(fh, chunks);
      if (options.fsync === true) await fh.sync();
    } catch (err) {
      throw fsError('write', tmp, err);
    }
    const h = fh;
    fh = null;
    await h.close().catch((err: unknown) => {
      throw fsError('close', tmp, err);
    });
    try {
      await rename(tmp, dest);
    } catch (err) {
      throw fsError('rename', `${tmp} -> ${dest}`, err);
    }
  } catch (err) {
    await fh?.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
}

/** Writes every chunk completely (looping over short writes). */
export async function writeAll(fh: FileHandle, chunks: readonly Uint8Array[]): Promise<void> {
  for (const chunk of chunks) {
    let off = 0;
    while (off < chunk.length) {
      const { bytesWritten } = await fh.write(chunk, off, chunk.length - off);
      if (bytesWritten <= 0) throw new Error('short write');
      off += bytesWritten;
    }
  }
}
