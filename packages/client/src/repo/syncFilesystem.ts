/**
 * syncfs(2) of the filesystem holding `path`, the way libostree makes a transaction's objects
 * durable (one call instead of an fsync per object). Node.js has no binding for it, so this runs
 * coreutils' `sync --file-system` (which is syncfs) on Linux. Resolves false when that is not
 * available or fails — the caller then fsyncs file by file, or (having kept no list of files)
 * runs `syncAllFilesystems`.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import createDebug from 'debug';

const debug = createDebug('flathub-fetch:repo');
const SYNC = ['/usr/bin/sync', '/bin/sync'].find((p) => process.platform === 'linux' && existsSync(p)) ?? null;

/** Whether `syncFilesystem` can run at all here (a caller may then keep no list of files to fsync). */
export const canSyncFilesystem = SYNC !== null;

function runSync(args: string[]): Promise<Error | null> {
  if (SYNC === null) return Promise.resolve(new Error('no sync program'));
  return new Promise((resolve) => {
    execFile(SYNC, args, { timeout: 600_000 }, (err) => resolve(err));
  });
}

export async function syncFilesystem(path: string): Promise<boolean> {
  const err = await runSync(['--file-system', path]);
  if (err !== null) debug('sync --file-system %s failed (%s)', path, err.message);
  return err === null;
}

/** sync(2): every filesystem (where `sync --file-system` is refused, an older coreutils). Null, or why it failed. */
export function syncAllFilesystems(): Promise<Error | null> {
  return runSync([]);
}
