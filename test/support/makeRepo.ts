/**
 * Small archive repositories made by the real `ostree` for reliability tests: a deterministic
 * tree of `files` small files spread over `dirs` directories (plus a symlink), committed to
 * `ref`, with `ostree summary -u`; optionally a second commit and a from-scratch static delta.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ostree } from './ostree.js';

export interface MadeRepo {
  repo: string;
  ref: string;
  commit: string;
  /** Deletes the repository and its source tree. */
  remove(): void;
}

export function makeRepo(o: { files: number; dirs?: number; ref?: string; delta?: boolean; seed?: number }): MadeRepo {
  const base = mkdtempSync(join(tmpdir(), 'ffetch-made-'));
  const repo = join(base, 'repo');
  const tree = join(base, 'tree');
  const ref = o.ref ?? 'test/reliability';
  const dirs = o.dirs ?? 4;
  for (let d = 0; d < dirs; d++) mkdirSync(join(tree, `d${d}`), { recursive: true });
  for (let i = 0; i < o.files; i++) {
    // Distinct, mildly compressible contents of 200 B … 6 KiB.
    const line = `file ${i} seed ${o.seed ?? 0} ${'x'.repeat(i % 37)}\n`;
    writeFileSync(join(tree, `d${i % dirs}`, `f${i}.txt`), line.repeat(1 + ((i * 7919) % 120)));
  }
  symlinkSync('d0/f0.txt', join(tree, 'link'));
  ostree(['init', `--repo=${repo}`, '--mode=archive']);
  const commit = ostree(['commit', `--repo=${repo}`, `--branch=${ref}`, '--subject=reliability', `--tree=dir=${tree}`]).trim();
  if (o.delta === true) ostree(['static-delta', 'generate', `--repo=${repo}`, '--empty', `--to=${ref}`]);
  ostree(['summary', '-u', `--repo=${repo}`]);
  return { repo, ref, commit, remove: () => rmSync(base, { recursive: true, force: true }) };
}
