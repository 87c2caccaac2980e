/**
 * syncfs(2) of the filesystem holding `path`, the way libostree makes a transaction's objects
 * durable (one call instead of an fsync per object). Node.js has no binding for it, so this runs
 * coreutils' `sync --file-system` (which is syncfs) on Linux. Resolves false when that is not
 * available or fails — the caller then fsyncs file by file.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import createDebug from 'debug';

const debug = createDebug('flathub-fetch:repo');
const SYNC = ['/usr/bin/sync', '/bin/sync'].find((p) => process.platform === 'linux' && existsSync(p)) ?? null;

export function syncFilesystem(path: string): Promise<boolean> {
  if (SYNC === null) return Promise.resolve(false);
  return new Promise((resolve) => {
    execFile(SYNC, ['--file-system', path], { timeout: 600_000 }, (err) => {
      if (err !== null) debug('sync --file-system %s failed (%s): fsync per file instead', path, err.message);
      resolve(err === null);
    });
  });
}
