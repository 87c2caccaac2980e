// The file-creation floor of an update: N files of B bytes each created on one thread as a pull
// writes objects (a new file in tmp/, one write, close, rename into objects/XX/), then one
// syncfs (`sync -f`), timed from inside the process (see BENCHMARKS.md, "Floors"):
//
//   node bench/files-floor.mjs DIR N B      # e.g. /work/bench-tmp/ff 1367 6000 (DIR is removed)
import { mkdirSync, openSync, writeSync, closeSync, renameSync, rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
const [dir, n, b] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4])];
if (dir === undefined || !(Number.isInteger(n) && n > 0) || !(Number.isInteger(b) && b >= 0)) {
  console.error('usage: node bench/files-floor.mjs DIR N B');
  process.exit(2);
}
rmSync(dir, { recursive: true, force: true });
mkdirSync(`${dir}/tmp`, { recursive: true });
for (let i = 0; i < 256; i++) mkdirSync(`${dir}/objects/${i.toString(16).padStart(2, '0')}`, { recursive: true });
execFileSync('sync');
const buf = randomBytes(b);
const t0 = performance.now();
for (let i = 0; i < n; i++) {
  const name = randomBytes(32).toString('hex');
  const tmp = `${dir}/tmp/${name}.tmp`;
  const fd = openSync(tmp, 'wx', 0o644);
  writeSync(fd, buf);
  closeSync(fd);
  renameSync(tmp, `${dir}/objects/${name.slice(0, 2)}/${name.slice(2)}.file`);
}
const t1 = performance.now();
execFileSync('sync', ['-f', dir]);
const t2 = performance.now();
console.log(`${n} files of ${b} B: ${(t1 - t0).toFixed(0)} ms, syncfs ${(t2 - t1).toFixed(0)} ms`);
rmSync(dir, { recursive: true, force: true });
