// Runtimes and decoders, as whole processes (issue: installs anywhere, compiles nothing):
//
// 1. `flathub-fetch --help`, `refs` and a fresh delta pull (the pull benchmark's 3k-object
//    repository, from-scratch delta, plain HTTP from nginx on loopback, into a new directory on
//    disk), each as a whole CLI process: the build of BENCH_BEFORE (a checkout of an earlier
//    commit, built with its own `npm ci`; rows skipped without it) on the system's Node.js, and
//    this build on Node.js 22, 24 and 26 with V8's compile cache on (warm) and off.
// 2. xz: decompressXz over the scratch delta's largest part with each backend (`xz` program,
//    WebAssembly) per runtime, against `xz -d` on the same bytes. zstd: node:zlib's decoder per
//    runtime against `zstd -d` on a 40 MB zstd file (the same part, decoded, compressed by `zstd -3`).
//
// Medians of BENCH_REPS (default 5) runs after one warm-up, interleaved per case. Writes
// bench/out/runtime.json and prints Markdown tables.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { OUT, ROOT, stats } from './lib/harness.mjs';
import { startNginx } from '../test/support/nginx.ts';

const REPS = Number(process.env.BENCH_REPS ?? 5);
const BEFORE = process.env.BENCH_BEFORE ?? null;
const DISK = process.env.BENCH_DISK ?? join(OUT, 'disk');
mkdirSync(DISK, { recursive: true });

function nodeFor(major) {
  if (Number(process.versions.node.split('.')[0]) === major) return process.execPath;
  const prefix = join(ROOT, 'test', 'fixtures', 'generated', `node-${major}`);
  const bin = join(prefix, 'node_modules', `node-linux-${process.arch}`, 'bin', 'node');
  if (!existsSync(bin)) {
    // npm's global config (the registry's CA bundle here) as the machine's own Node.js finds it.
    const globalconfig = execFileSync('sh', ['-c', 'npm config get globalconfig'], {
      encoding: 'utf8',
      env: { PATH: '/usr/local/bin:/usr/bin:/bin', HOME: OUT },
    }).trim();
    execFileSync('npm', ['install', '--no-save', '--no-package-lock', '--prefix', prefix, `node-linux-${process.arch}@${major}`], {
      stdio: 'ignore',
      env: { ...process.env, npm_config_globalconfig: globalconfig },
    });
  }
  return bin;
}

/** One run under GNU time: wall ms, CPU ms (user + sys), peak RSS (KiB). */
function timed(cmd, args, env = {}) {
  const r = spawnSync('/usr/bin/time', ['-f', '%e %U %S %M', cmd, ...args], {
    env: { ...process.env, ...env },
    encoding: 'utf8',
    maxBuffer: 1 << 26,
  });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr.slice(-2000)}`);
  const [e, u, s, m] = r.stderr.trim().split('\n').at(-1).split(' ').map(Number);
  return { wall: e * 1000, cpu: (u + s) * 1000, rssKb: m, stdout: r.stdout };
}

function summarize(runs) {
  // Decoder runs print {"ms": …}: the decoding alone, without the process start and file read.
  const ops = runs.map((r) => {
    try {
      return JSON.parse(r.stdout).ms;
    } catch {
      return undefined;
    }
  });
  return {
    wallMs: Math.round(stats(runs.map((r) => r.wall)).median),
    cpuMs: Math.round(stats(runs.map((r) => r.cpu)).median),
    rssMb: Math.round(stats(runs.map((r) => r.rssKb)).median / 1024),
    ...(ops.every((x) => typeof x === 'number') ? { opMs: Math.round(stats(ops).median) } : {}),
  };
}

/** Interleaved: every client once per round, BENCH_REPS rounds after a warm-up round. */
function interleave(clients, args, setup = () => {}) {
  const runs = new Map(clients.map((c) => [c.name, []]));
  for (let round = 0; round <= REPS; round++) {
    for (const c of clients) {
      setup(c);
      const r = timed(c.cmd, [...c.args, ...args(c)], c.env);
      if (round > 0) runs.get(c.name).push(r);
    }
  }
  return Object.fromEntries([...runs].map(([k, v]) => [k, summarize(v)]));
}

// The pull benchmark's repository (made by the real ostree).
const repoDir = join(OUT, 'pull-repo');
execFileSync('bash', [join(ROOT, 'bench', 'make-pull-repo.sh'), repoDir], { stdio: 'inherit' });
const info = JSON.parse(readFileSync(join(repoDir, 'info.json'), 'utf8'));
const nginx = await startNginx(repoDir);
const url = `${nginx.url}repo/`;
const ref = info.ref ?? 'bench/pull';

const cli = join(ROOT, 'packages', 'cli', 'bin', 'flathub-fetch.js');
const clients = [];
if (BEFORE !== null)
  clients.push({
    name: `before (${process.versions.node.split('.')[0] === '20' ? 'Node 20' : 'system Node'}, ${BEFORE})`,
    cmd: '/usr/bin/node',
    args: [join(BEFORE, 'packages', 'cli', 'bin', 'flathub-fetch.js')],
    env: {},
  });
for (const major of [22, 24, 26]) {
  const node = nodeFor(major);
  clients.push({ name: `Node ${major}, compile cache`, cmd: node, args: [cli], env: {} });
  clients.push({ name: `Node ${major}, no compile cache`, cmd: node, args: [cli], env: { NODE_DISABLE_COMPILE_CACHE: '1' } });
}

const results = {
  machine: { nproc: Number(execFileSync('nproc', { encoding: 'utf8' })), date: new Date().toISOString() },
  cli: {},
  xz: {},
  zstd: {},
};
try {
  results.cli.help = interleave(clients, () => ['--help']);
  results.cli.refs = interleave(clients, () => ['refs', url]);
  let n = 0;
  results.cli.freshDelta = interleave(
    clients,
    (c) => ['pull', url, ref, '--repo', c.repo, '--json'],
    (c) => {
      c.repo = join(DISK, `rt-${n++}`);
      rmSync(c.repo, { recursive: true, force: true });
    },
  );
} finally {
  await nginx.stop();
  for (const d of readdirSync(DISK)) if (d.startsWith('rt-')) rmSync(join(DISK, d), { recursive: true, force: true });
}

// Decoders: the scratch delta's largest part.
const partPath = (() => {
  let best = null;
  for (const f of readdirSync(join(repoDir, 'repo', 'deltas'), { recursive: true })) {
    const p = join(repoDir, 'repo', 'deltas', String(f));
    if (/\/\d+$/.test(p) && statSync(p).isFile() && (best === null || statSync(p).size > statSync(best).size)) best = p;
  }
  return best;
})();
const scratch = mkdtempSync(join(OUT, 'dec-'));
const xzFile = join(scratch, 'part.xz');
writeFileSync(xzFile, readFileSync(partPath).subarray(1));
const raw = join(scratch, 'part.raw');
execFileSync('sh', ['-c', `xz -dc ${xzFile} > ${raw}`]);
const zstFile = join(scratch, 'part.zst');
execFileSync('zstd', ['-q', '-3', '-f', raw, '-o', zstFile]);
const decodeScript = join(scratch, 'decode.mjs');
writeFileSync(
  decodeScript,
  `import { readFileSync } from 'node:fs';
import * as zlib from 'node:zlib';
const [what, file, backend] = process.argv.slice(2);
const data = readFileSync(file);
const { decompressXz } = await import(${JSON.stringify(join(ROOT, 'packages', 'client', 'dist', 'formats', 'index.js'))});
const t0 = performance.now();
const n = what === 'xz' ? (await decompressXz(data, 2 ** 32, 'part', { xzDecoder: backend })).length : zlib.zstdDecompressSync(data).length;
process.stdout.write(JSON.stringify({ n, ms: performance.now() - t0 }));
`,
);
const xzClients = [{ name: 'xz -d', cmd: 'sh', args: ['-c', `xz -dc ${xzFile} > /dev/null`], env: {} }];
const zstdClients = [{ name: 'zstd -d', cmd: 'sh', args: ['-c', `zstd -dc ${zstFile} > /dev/null`], env: {} }];
for (const major of [22, 24, 26]) {
  const node = nodeFor(major);
  for (const b of ['xz', 'wasm'])
    xzClients.push({ name: `Node ${major}, ${b}`, cmd: node, args: [decodeScript, 'xz', xzFile, b], env: {} });
  zstdClients.push({ name: `Node ${major}, node:zlib`, cmd: node, args: [decodeScript, 'zstd', zstFile], env: {} });
}
results.xz = { input: { compressed: statSync(xzFile).size, decoded: statSync(raw).size }, runs: interleave(xzClients, () => []) };
results.zstd = { input: { compressed: statSync(zstFile).size, decoded: statSync(raw).size }, runs: interleave(zstdClients, () => []) };
rmSync(scratch, { recursive: true, force: true });

writeFileSync(join(OUT, 'runtime.json'), `${JSON.stringify(results, null, 2)}\n`);
const table = (title, rows) => {
  const op = Object.values(rows).some((v) => v.opMs !== undefined);
  console.log(
    `\n### ${title}\n\n| client | wall | CPU | peak RSS |${op ? ' decoding alone |' : ''}\n|---|---:|---:|---:|${op ? '---:|' : ''}`,
  );
  for (const [k, v] of Object.entries(rows))
    console.log(`| ${k} | ${v.wallMs} ms | ${v.cpuMs} ms | ${v.rssMb} MB |${op ? ` ${v.opMs ?? v.wallMs} ms |` : ''}`);
};
table('flathub-fetch --help', results.cli.help);
table(`flathub-fetch refs ${url}`, results.cli.refs);
table(
  `flathub-fetch pull (fresh, from-scratch delta, ${Object.values(info.objects).reduce((a, b) => a + b, 0)} objects, HTTP on loopback, disk)`,
  results.cli.freshDelta,
);
table(`xz: ${results.xz.input.compressed} → ${results.xz.input.decoded} bytes (whole process)`, results.xz.runs);
table(`zstd: ${results.zstd.input.compressed} → ${results.zstd.input.decoded} bytes (whole process)`, results.zstd.runs);
