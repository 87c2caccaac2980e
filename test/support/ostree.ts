/** Driving the real `ostree` CLI in tests, and comparing directory trees byte for byte. */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export function ostree(args: string[]): string {
  return execFileSync('ostree', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** A writable copy of a fixture repository with the empty directories git does not keep. */
export function copyRepo(src: string): string {
  const dest = join(mkdtempSync(join(tmpdir(), 'ffetch-repo-')), 'repo');
  cpSync(src, dest, { recursive: true });
  for (const d of ['refs/heads', 'refs/remotes', 'refs/mirrors', 'tmp', 'state', 'extensions', 'objects'])
    mkdirSync(join(dest, d), { recursive: true });
  return dest;
}

export function fsck(repo: string): string {
  return ostree(['fsck', `--repo=${repo}`]);
}

/** `ostree checkout -U` of a ref or commit into a new directory; returns the directory. */
export function checkout(repo: string, ref: string): string {
  const dest = join(mkdtempSync(join(tmpdir(), 'ffetch-co-')), 'tree');
  ostree(['checkout', `--repo=${repo}`, '-U', ref, dest]);
  return dest;
}

/** `treeManifest` of an `ostree checkout -U` of `ref`, the checkout removed afterwards. */
export function checkoutManifest(repo: string, ref: string): string[] {
  const dest = checkout(repo, ref);
  try {
    return treeManifest(dest);
  } finally {
    rmSync(dirname(dest), { recursive: true, force: true });
  }
}

/** Every path under `dir` with type, permission bits, size, content hash or symlink target. */
export function treeManifest(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    const abs = join(dir, rel);
    const st = lstatSync(abs);
    const perm = (st.mode & 0o7777).toString(8);
    if (st.isSymbolicLink()) out.push(`l ${rel} -> ${readlinkSync(abs)}`);
    else if (st.isDirectory()) {
      out.push(`d ${rel || '.'} ${perm}`);
      for (const e of readdirSync(abs).sort()) walk(rel ? `${rel}/${e}` : e);
    } else out.push(`f ${rel} ${perm} ${st.size} ${createHash('sha256').update(readFileSync(abs)).digest('hex')}`);
  };
  walk('');
  return out;
}
