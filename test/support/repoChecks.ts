/** Checks on a local repository after a hostile or interrupted pull. */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import * as library from '../../packages/client/src/index.js';
import { checkObjects, listObjects } from './looseObjects.ts';

/**
 * Server paths (`/objects/XX/…`) of every object in the repository: a bare-user-only `.file`
 * is the `.filez` an archive server holds.
 */
export function objectPaths(repo: string): Set<string> {
  return new Set(listObjects(repo).map((o) => o.serverPath));
}

/** Object files under objects/ that do not verify against their names (empty when all do). */
export function corruptObjects(repo: string): string[] {
  return checkObjects(repo, library).corrupt;
}

/** How many objects the repository holds, every one verified against its name (a test failure naming those that are not). */
export function verifiedObjectCount(repo: string): number {
  const { counts, corrupt } = checkObjects(repo, library);
  if (corrupt.length > 0) throw new Error(`objects that do not verify: ${corrupt.join(', ')}`);
  return counts.commit + counts.dirtree + counts.dirmeta + counts.filez + counts.file + counts.skipped;
}

/**
 * What a finished (or aborted) write left in a repository's `tmp/`: every file or directory in it,
 * at any depth (the writers' own directories included), but `cache/` (libostree's, and ours
 * for summaries).
 */
export function tmpLeftovers(repo: string): string[] {
  return readdirSync(join(repo, 'tmp'), { recursive: true, encoding: 'utf8' }).filter((f) => f !== 'cache' && !f.startsWith('cache/'));
}
