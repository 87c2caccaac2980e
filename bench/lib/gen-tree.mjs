// node bench/lib/gen-tree.mjs DIR [SMALL_FILES] [LARGE_FILES]
//
// Writes a deterministic application-like tree into DIR (which must not exist): SMALL_FILES
// (default 2800) files of 64 B–24 KiB spread over ~150 directories, LARGE_FILES (default 12)
// files of 1–3 MiB, 60 symlinks, a few modes. Contents come from bench/lib/gen.mjs (text,
// code-like, random, sparse), so every file is a distinct object.
import { chmodSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { content, prng } from './gen.mjs';

const [dir, smallArg, largeArg] = process.argv.slice(2);
if (!dir) {
  console.error('usage: gen-tree.mjs DIR [SMALL_FILES] [LARGE_FILES]');
  process.exit(2);
}
const SMALL = Number(smallArg ?? 2800);
const LARGE = Number(largeArg ?? 12);
const rand = prng(20240101);
const pick = (list) => list[Math.floor(rand() * list.length)];

const top = ['bin', 'lib', 'lib/plugins', 'share/doc', 'share/locale', 'share/icons/hicolor', 'share/app/data', 'etc/app'];
const dirs = [];
for (const t of top) {
  dirs.push(t);
  const n = 4 + Math.floor(rand() * 18);
  for (let i = 0; i < n; i++) {
    const sub = `${t}/${pick(['core', 'ui', 'net', 'img', 'l10n', 'res', 'x'])}${i}`;
    dirs.push(sub);
    if (rand() < 0.25) dirs.push(`${sub}/${pick(['a', 'b', 'c'])}${i}`);
  }
}
for (const d of dirs) mkdirSync(join(dir, d), { recursive: true });

let bytes = 0;
const files = [];
for (let i = 0; i < SMALL; i++) {
  const d = pick(dirs);
  // log-uniform 64 B – 24 KiB
  const size = Math.round(64 * Math.exp(rand() * Math.log(384)));
  const r = rand();
  const kind = d.startsWith('bin') || d.startsWith('lib') ? (r < 0.8 ? 'code' : 'random') : r < 0.75 ? 'text' : r < 0.9 ? 'code' : 'random';
  const ext = kind === 'text' ? '.txt' : kind === 'random' ? '.png' : '.so';
  const path = join(d, `f${i}${ext}`);
  writeFileSync(join(dir, path), content(kind, size, 1000 + i));
  if (d.startsWith('bin')) chmodSync(join(dir, path), 0o755);
  files.push(path);
  bytes += size;
}
for (let i = 0; i < LARGE; i++) {
  const size = (1 + Math.floor(rand() * 3)) * 1024 * 1024 + Math.floor(rand() * 65536);
  const kind = ['code', 'text', 'code', 'random', 'sparse', 'code'][i % 6];
  const path = join(pick(['lib', 'share/app/data', 'lib/plugins']), `large${i}.${kind}`);
  writeFileSync(join(dir, path), content(kind, size, 500000 + i));
  bytes += size;
}
for (let i = 0; i < 60; i++) {
  const target = pick(files);
  symlinkSync(`/app/${target}`, join(dir, pick(dirs), `link${i}`));
}
mkdirSync(join(dir, 'private'), { mode: 0o700 });
writeFileSync(join(dir, 'private', 'secret.conf'), 'secret=1\n', { mode: 0o600 });
console.log(JSON.stringify({ dirs: dirs.length + 1, files: SMALL + LARGE + 1, symlinks: 60, bytes }));
