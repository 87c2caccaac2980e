/**
 * The writer threads' directories under a repository's `tmp/` (see contentStore.ts): named
 * `THREAD_TMP_PREFIX` + pid + random, so a process can find and remove its own.
 */
import { readdirSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';

export const THREAD_TMP_PREFIX = 'flathub-fetch-thread-';

/**
 * Removes this process's writer directories under `tmpDir` that are empty (a thread mid-write
 * keeps its own: it holds a file). For LocalRepo.close(), after the workers have stopped.
 */
export function removeThreadTmpDirs(tmpDir: string): void {
  let names: string[];
  try {
    names = readdirSync(tmpDir);
  } catch {
    return;
  }
  const mine = `${THREAD_TMP_PREFIX}${process.pid}-`;
  for (const n of names) {
    if (!n.startsWith(mine)) continue;
    try {
      rmdirSync(join(tmpDir, n));
    } catch {
      // not empty (another handle's writer is mid-write), or gone already
    }
  }
}
