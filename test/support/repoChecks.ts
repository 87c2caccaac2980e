/** Checks on a local repository after a hostile or interrupted pull. */
import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { contentChecksum, readFilez, sha256Hex } from '../../packages/client/src/index.js';

/** Object files under `objects/`, as paths relative to the repository (`objects/XX/…`). */
function objectFiles(repo: string): string[] {
  const out: string[] = [];
  const dir = join(repo, 'objects');
  if (!existsSync(dir)) return out;
  for (const p of readdirSync(dir)) for (const f of readdirSync(join(dir, p))) out.push(`objects/${p}/${f}`);
  return out;
}

/**
 * Server paths (`/objects/XX/…`) of every object in the repository: a bare-user-only `.file`
 * is the `.filez` an archive server holds.
 */
export function objectPaths(repo: string): Set<string> {
  return new Set(objectFiles(repo).map((f) => `/${f.replace(/\.file$/, '.filez')}`));
}

/** The checksum a bare-user-only `.file` verifies as: owner 0:0, no xattrs, as libostree reads it. */
function bareFileChecksum(path: string): string {
  const st = lstatSync(path);
  const symlink = st.isSymbolicLink();
  const content = symlink ? new Uint8Array(0) : new Uint8Array(readFileSync(path));
  const target = symlink ? readlinkSync(path) : '';
  return contentChecksum({ uid: 0, gid: 0, mode: st.mode, rdev: 0, symlinkTarget: target, xattrs: [], size: content.length }, content);
}

/** Object files under objects/ that do not verify against their names (empty when all do). */
export function corruptObjects(repo: string): string[] {
  const bad: string[] = [];
  for (const rel of objectFiles(repo)) {
    const [, p, f] = rel.split('/') as [string, string, string];
    const [rest, ext] = f.split('.') as [string, string];
    const path = join(repo, rel);
    try {
      let actual: string;
      if (ext === 'filez') {
        const { info, content } = readFilez(new Uint8Array(readFileSync(path)));
        actual = contentChecksum(info, content);
      } else if (ext === 'file') actual = bareFileChecksum(path);
      else if (ext === 'commitmeta') actual = p + rest;
      else actual = sha256Hex(new Uint8Array(readFileSync(path)));
      if (actual !== p + rest) bad.push(`/${rel}`);
    } catch {
      bad.push(`/${rel}`);
    }
  }
  return bad;
}
