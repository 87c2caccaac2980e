/** Checks on a local repository after a hostile or interrupted pull. */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { contentChecksum, readFilez, sha256Hex } from '../../packages/client/src/index.js';

/** Server paths (`/objects/XX/…`) of every object file in the repository. */
export function objectPaths(repo: string): Set<string> {
  const out = new Set<string>();
  const dir = join(repo, 'objects');
  if (!existsSync(dir)) return out;
  for (const p of readdirSync(dir)) for (const f of readdirSync(join(dir, p))) out.add(`/objects/${p}/${f}`);
  return out;
}

/** Object files under objects/ that do not verify against their names (empty when all do). */
export function corruptObjects(repo: string): string[] {
  const bad: string[] = [];
  for (const path of objectPaths(repo)) {
    const [, , p, f] = path.split('/') as [string, string, string, string];
    const [rest, ext] = f.split('.') as [string, string];
    const bytes = new Uint8Array(readFileSync(join(repo, path)));
    try {
      const actual =
        ext === 'filez'
          ? (() => {
              const { info, content } = readFilez(bytes);
              return contentChecksum(info, content);
            })()
          : ext === 'commitmeta'
            ? p + rest
            : sha256Hex(bytes);
      if (actual !== p + rest) bad.push(path);
    } catch {
      bad.push(path);
    }
  }
  return bad;
}
