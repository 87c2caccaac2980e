/**
 * Walks a commit's tree in a repository, depth-first in `ostree ls -R` order (each directory's
 * files, then its subdirectories), yielding one entry per path.
 */
import type { Checksum } from '../formats/checksum.js';
import { isSymlink } from '../formats/FileHeader.js';
import type { LocalRepo } from './LocalRepo.js';

export type TreeEntry =
  | {
      kind: 'dir';
      path: string;
      mode: number;
      uid: number;
      gid: number;
      tree: Checksum;
      meta: Checksum;
      xattrs: Array<[Uint8Array, Uint8Array]>;
    }
  | {
      kind: 'file' | 'symlink';
      path: string;
      mode: number;
      uid: number;
      gid: number;
      checksum: Checksum;
      size: number;
      target: string;
      xattrs: Array<[Uint8Array, Uint8Array]>;
    };

export async function* listTree(repo: LocalRepo, commit: Checksum): AsyncGenerator<TreeEntry> {
  const c = await repo.readCommit(commit);
  yield* walk(repo, '/', c.rootTree, c.rootMeta);
}

async function* walk(repo: LocalRepo, path: string, tree: Checksum, meta: Checksum): AsyncGenerator<TreeEntry> {
  const m = await repo.readDirMeta(meta);
  yield { kind: 'dir', path, mode: m.mode, uid: m.uid, gid: m.gid, tree, meta, xattrs: m.xattrs };
  const t = await repo.readDirTree(tree);
  // ostree ls order: the dirtree's files, then its subdirectories (each list sorted by name).
  const children: Array<{ name: string; file?: Checksum; dir?: { tree: Checksum; meta: Checksum } }> = [
    ...t.files.map((f) => ({ name: f.name, file: f.checksum })),
    ...t.dirs.map((d) => ({ name: d.name, dir: { tree: d.tree, meta: d.meta } })),
  ];
  const prefix = path === '/' ? '/' : `${path}/`;
  for (const child of children) {
    const p = prefix + child.name;
    if (child.dir !== undefined) {
      yield* walk(repo, p, child.dir.tree, child.dir.meta);
    } else {
      const info = await repo.verifyContent(child.file as Checksum);
      yield {
        kind: isSymlink(info) ? 'symlink' : 'file',
        path: p,
        mode: info.mode,
        uid: info.uid,
        gid: info.gid,
        checksum: child.file as Checksum,
        size: info.size,
        target: info.symlinkTarget,
        xattrs: info.xattrs,
      };
    }
  }
}
