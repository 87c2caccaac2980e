/**
 * Larger archive repositories made by the real `ostree` for the field-fault suites: a
 * deterministic synthetic tree (`files` distinct files of 64 B … 3 KiB, part text, part
 * pseudo-random, spread over `dirs` directories two levels deep, plus symlinks), committed with
 * `ostree commit`, a from-scratch delta made by `ostree static-delta generate`, and a summary.
 *
 * Generating the 20,000-file one takes a while, so each is cached under
 * test/fixtures/generated/field/ (git-ignored) by a stamp of its parameters; suites running in
 * parallel race harmlessly (each builds in its own temporary directory and renames it in place;
 * the loser's copy is removed).
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { seededRandom } from '../../packages/client/src/testing/index.js';
import { GENERATED_FIXTURES } from './fixtures.js';
import { ostree } from './ostree.js';

export interface FieldRepo {
  repo: string;
  ref: string;
  commit: string;
  /** Objects in the commit (commit, dirtrees, dirmetas, files and symlinks). */
  objects: number;
  /** Name of the from-scratch delta (the commit checksum). */
  delta: string;
}

export interface FieldRepoOptions {
  files: number;
  dirs: number;
  seed?: number;
  /** Sizes in MiB of large pseudo-random files added under `lib/` (delta fallbacks, like a runtime's big libraries). @default [] */
  largeMiB?: readonly number[];
}

const VERSION = 1;
const REF = 'field/test';

/** The cached repository for these parameters, made first when missing. */
export function fieldRepo(o: FieldRepoOptions): FieldRepo {
  const seed = o.seed ?? 1;
  const root = join(GENERATED_FIXTURES, 'field');
  const large = o.largeMiB ?? [];
  const dir = join(root, `v${VERSION}-files${o.files}-dirs${o.dirs}-seed${seed}${large.length > 0 ? `-large${large.join('+')}` : ''}`);
  const info = join(dir, 'info.json');
  if (!existsSync(info)) {
    mkdirSync(root, { recursive: true });
    const tmp = mkdtempSync(join(root, '.build-'));
    try {
      build(tmp, o.files, o.dirs, seed, large);
      try {
        renameSync(tmp, dir);
      } catch (err) {
        // Another suite finished first: use its copy.
        if (!existsSync(info)) throw err;
      }
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }
  const meta = JSON.parse(readFileSync(info, 'utf8')) as Omit<FieldRepo, 'repo'>;
  return { ...meta, repo: join(dir, 'repo') };
}

function build(out: string, files: number, dirs: number, seed: number, largeMiB: readonly number[]): void {
  const tree = join(out, 'tree');
  const repo = join(out, 'repo');
  const rand = seededRandom(seed);
  const top = Math.max(1, Math.round(Math.sqrt(dirs)));
  const dirPath = (d: number) => join(tree, `t${d % top}`, `d${d}`);
  for (let d = 0; d < dirs; d++) mkdirSync(dirPath(d), { recursive: true });
  const hex = '0123456789abcdef';
  for (let i = 0; i < files; i++) {
    const size = 64 + Math.floor(rand() * rand() * 3072);
    // Half text that compresses, half noise that does not: every file distinct.
    let noise = '';
    for (let k = 0; k < size / 2; k++) noise += hex[Math.floor(rand() * 16)];
    const text = `file ${i} of ${files}, seed ${seed}: ${'lorem ipsum dolor sit amet '.repeat(Math.ceil(size / 54))}`;
    writeFileSync(join(dirPath(i % dirs), `f${i}.txt`), `${text.slice(0, size / 2)}${noise}`.slice(0, size));
  }
  for (let d = 0; d < Math.min(dirs, 16); d++) symlinkSync(`f${d}.txt`, join(dirPath(d), 'link'));
  if (largeMiB.length > 0) mkdirSync(join(tree, 'lib'));
  largeMiB.forEach((mib, i) => {
    // Half noise, half repeated text: compresses like a shared library, about 2:1.
    const bytes = Buffer.alloc(mib * 1024 * 1024);
    for (let k = 0; k < bytes.length; k += 4) bytes.writeUInt32LE(k % 8 < 4 ? Math.floor(rand() * 0x1_0000_0000) : 0x6f6c6c65, k);
    writeFileSync(join(tree, 'lib', `large${i}.so`), bytes);
  });
  ostree(['init', `--repo=${repo}`, '--mode=archive']);
  const commit = ostree([
    'commit',
    `--repo=${repo}`,
    `--branch=${REF}`,
    '--subject=field faults',
    '--owner-uid=0',
    '--owner-gid=0',
    '--no-xattrs',
    '--timestamp=2026-01-01 00:00:00 +0000',
    `--tree=dir=${tree}`,
  ]).trim();
  ostree(['static-delta', 'generate', `--repo=${repo}`, '--empty', `--to=${REF}`]);
  ostree(['summary', '-u', `--repo=${repo}`]);
  // The repository holds exactly this commit's objects (unsigned: no .commitmeta).
  let objects = 0;
  for (const d of readdirSync(join(repo, 'objects'))) objects += readdirSync(join(repo, 'objects', d)).length;
  rmSync(tree, { recursive: true, force: true });
  rmSync(join(repo, 'tmp'), { recursive: true, force: true });
  mkdirSync(join(repo, 'tmp'));
  writeFileSync(join(out, 'info.json'), `${JSON.stringify({ ref: REF, commit, objects, delta: commit }, null, 2)}\n`);
}
