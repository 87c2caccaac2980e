/** Checks on a local repository after a hostile or interrupted pull. */
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
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
 * What is left in a repository's `tmp/`, at any depth, but `cache/` (libostree's, and ours for
 * summaries): with `files`, only files (a writer thread's own directory stays, empty, while the
 * repository is open: none after any write, finished or failed); without, directories too (none
 * once the repository is closed).
 */
export function tmpLeftovers(repo: string, { files = false }: { files?: boolean } = {}): string[] {
  return readdirSync(join(repo, 'tmp'), { recursive: true, withFileTypes: true })
    .filter((d) => !(files && d.isDirectory()))
    .map((d) => relative(join(repo, 'tmp'), join(d.parentPath, d.name)))
    .filter((f) => f !== 'cache' && !f.startsWith('cache/'));
}
