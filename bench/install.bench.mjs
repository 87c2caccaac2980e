#!/usr/bin/env node
// node bench/install.bench.mjs — `flathub-fetch install` / `update` vs `flatpak install` /
// `flatpak update` of the same runtime + .Locale + app, whole processes, through the emulated
// link (bench/linkProxy.mjs in front of nginx). Requests and bytes from nginx's log, wall time
// of each process. Knobs: BENCH_REPS (default 3), BENCH_PULL_RTT (ms, default 20),
// BENCH_PULL_MBIT (default 400). Needs flatpak, ostree, nginx and a built CLI (npm run build).
//
// Input (built once into bench/out/install-world, ~1 min): a repository made by flatpak
// build-export with runtime org.bench.Platform//1 (900 files in 30 directories, 5.4 MB, a third
// of the files incompressible), its Locale (de, en, es, fr: 60 files each, 1.2 MB in all), app
// org.bench.App//stable (300 files, 2.7 MB, a third incompressible); version 2 rewrites a tenth
// of the files of each; static deltas by build-update-repo (from scratch and from version 1). No signatures (the remote is added with --no-gpg-verify for
// both clients). The installation languages are "de;fr".
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cpuBusy, OUT, ROOT, stats } from './lib/harness.mjs';
import { isolatedFlatpakEnv } from '../test/support/flatpakInstall.ts';
import { startNginx } from '../test/support/nginx.ts';
import { spawnLinkProxy } from './linkProxy.mjs';

const REPS = Number(process.env.BENCH_REPS ?? 3);
const RTT = Number(process.env.BENCH_PULL_RTT ?? 20);
const MBIT = Number(process.env.BENCH_PULL_MBIT ?? 400);
const WORLD = join(OUT, 'install-world');
const WORK = join(OUT, 'install-work');
const CLI = join(ROOT, 'packages', 'cli', 'dist', 'bin.js');

function bytes(label, size, random) {
  if (random) {
    const out = Buffer.alloc(size);
    for (let i = 0, n = 0; i < size; i += 32, n++) createHash('sha256').update(`${label}/${n}`).digest().copy(out, i);
    return out;
  }
  return Buffer.from(`${label} ${'lorem ipsum dolor '.repeat(8)}\n`.repeat(Math.ceil(size / 160))).subarray(0, size);
}

function env(home) {
  return isolatedFlatpakEnv(home, { user: join(home, 'flatpak'), system: join(home, 'system'), config: join(home, 'etc') });
}

function build() {
  if (existsSync(join(WORLD, 'v2', 'summary'))) return;
  rmSync(WORLD, { recursive: true, force: true });
  const e = env(join(WORLD, 'home'));
  const fp = (args) => execFileSync('flatpak', args, { env: e, stdio: ['ignore', 'ignore', 'inherit'] });
  const repo = join(WORLD, 'repo');
  const publish = (v) => {
    const b = join(WORLD, `build-${v}`);
    const ver = (i) => (i % 10 === 0 ? v : 1);
    const rt = join(b, 'rt');
    mkdirSync(join(rt, 'files'), { recursive: true });
    for (let d = 0; d < 30; d++) mkdirSync(join(rt, 'usr', 'lib', `d${d}`), { recursive: true });
    for (let i = 0; i < 900; i++)
      writeFileSync(join(rt, 'usr', 'lib', `d${i % 30}`, `f${i}.so`), bytes(`rt ${i} v${ver(i)}`, 1000 + ((i * 7919) % 9000), i % 3 === 0));
    writeFileSync(
      join(rt, 'metadata'),
      '[Runtime]\nname=org.bench.Platform\nruntime=org.bench.Platform/x86_64/1\nsdk=org.bench.Platform/x86_64/1\n\n[Extension org.bench.Platform.Locale]\ndirectory=share/runtime/locale\nautodelete=true\nlocale-subset=true\n',
    );
    fp(['build-export', '--runtime', '--no-update-summary', '--disable-sandbox', repo, rt, '1']);
    const loc = join(b, 'loc');
    for (const l of ['de', 'en', 'es', 'fr']) {
      mkdirSync(join(loc, 'files', l, 'share', l, 'LC_MESSAGES'), { recursive: true });
      for (let i = 0; i < 60; i++)
        writeFileSync(join(loc, 'files', l, 'share', l, 'LC_MESSAGES', `m${i}.mo`), bytes(`${l} ${i} v${ver(i)}`, 3000 + i * 50, false));
    }
    writeFileSync(
      join(loc, 'metadata'),
      '[Runtime]\nname=org.bench.Platform.Locale\n\n[ExtensionOf]\nref=runtime/org.bench.Platform/x86_64/1\n',
    );
    fp(['build-export', '--runtime', '--no-update-summary', '--disable-sandbox', repo, loc, '1']);
    const app = join(b, 'app');
    for (let d = 0; d < 10; d++) mkdirSync(join(app, 'files', 'share', `d${d}`), { recursive: true });
    mkdirSync(join(app, 'files', 'bin'), { recursive: true });
    writeFileSync(join(app, 'files', 'bin', 'app'), `#!/bin/sh\necho v${v}\n`, { mode: 0o755 });
    for (let i = 0; i < 300; i++)
      writeFileSync(
        join(app, 'files', 'share', `d${i % 10}`, `a${i}`),
        bytes(`app ${i} v${ver(i)}`, 2000 + ((i * 104729) % 14000), i % 3 === 0),
      );
    writeFileSync(
      join(app, 'metadata'),
      '[Application]\nname=org.bench.App\nruntime=org.bench.Platform/x86_64/1\nsdk=org.bench.Platform/x86_64/1\n',
    );
    fp(['build-finish', '--command=app', app]);
    fp(['build-export', '--no-update-summary', '--disable-sandbox', repo, app, 'stable']);
    fp(['build-update-repo', '--generate-static-deltas', '--static-delta-jobs=2', repo]);
  };
  publish(1);
  cpSync(repo, join(WORLD, 'v1'), { recursive: true });
  publish(2);
  cpSync(repo, join(WORLD, 'v2'), { recursive: true });
}

/** A fresh installation with remote `bench` at `url`, languages de;fr. */
function installation(dir, url) {
  rmSync(dir, { recursive: true, force: true });
  const e = env(dir);
  for (const d of [dir, e.FLATPAK_USER_DIR]) mkdirSync(d, { recursive: true });
  execFileSync('flatpak', ['remote-add', '--user', '--no-gpg-verify', 'bench', url], { env: e });
  execFileSync('flatpak', ['config', '--user', '--set', 'languages', 'de;fr'], { env: e });
  return e;
}

function timed(cmd, args, e) {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { env: e, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return { ms, stdout: r.stdout };
}

/** Our CLI's --json: the download's own duration (the rest is Node start-up, planning and flatpak's deploy). */
function downloadMs(stdout) {
  try {
    const doc = JSON.parse(stdout);
    return (Array.isArray(doc) ? doc : [doc]).reduce((n, d) => n + (d.durationMs ?? 0), 0);
  } catch {
    return null;
  }
}

function deployed(e, ref) {
  return /Commit: ([0-9a-f]{64})/.exec(execFileSync('flatpak', ['info', '--user', ref], { env: e, encoding: 'utf8' }))?.[1];
}

build();
mkdirSync(WORK, { recursive: true });
const served = join(WORK, 'served');
const point = (v) => {
  rmSync(served, { force: true });
  symlinkSync(join(WORLD, `v${v}`), served);
};
point(1);
const nginx = await startNginx(served, { nice: -10 });
const proxy = await spawnLinkProxy({ upstreamPort: Number(new URL(nginx.url).port), rttMs: RTT, mbit: MBIT, nice: -10 });
const clients = {
  flatpak: (kind) =>
    kind === 'install'
      ? ['flatpak', ['install', '--user', '-y', '--noninteractive', 'bench', 'org.bench.App']]
      : ['flatpak', ['update', '--user', '-y', '--noninteractive']],
  ours: (kind) => [process.execPath, [CLI, kind, '--user', '-y', '--json', ...(kind === 'install' ? ['bench', 'org.bench.App'] : [])]],
};
const results = [];
try {
  for (let rep = 0; rep < REPS; rep++) {
    for (const client of Object.keys(clients)) {
      for (const kind of ['install', 'update']) {
        point(1);
        const dir = join(WORK, `${client}-${kind}`);
        const e = installation(dir, proxy.url);
        if (kind === 'update') {
          // Start from version 1, installed by flatpak (outside the timing), then serve version 2.
          execFileSync('flatpak', ['install', '--user', '-y', '--noninteractive', 'bench', 'org.bench.App'], { env: e, stdio: 'ignore' });
          point(2);
        }
        const mark = nginx.mark();
        const [cmd, args] = clients[client](kind);
        const busy = await cpuBusy(500);
        const { ms, stdout } = timed(cmd, args, e);
        const transaction = client === 'ours' ? downloadMs(stdout) : null;
        await new Promise((r) => setTimeout(r, 200)); // nginx logs after responding
        const log = nginx.entriesSince(mark);
        const want = kind === 'install' ? 'v1' : 'v2';
        const head = execFileSync('ostree', ['rev-parse', `--repo=${join(WORLD, want)}`, 'app/org.bench.App/x86_64/stable'], {
          encoding: 'utf8',
        }).trim();
        if (deployed(e, 'app/org.bench.App/x86_64/stable') !== head) throw new Error(`${client} ${kind}: wrong commit deployed`);
        results.push({
          client,
          kind,
          rep,
          ms,
          transactionMs: transaction,
          otherCpuBefore: busy,
          requests: log.length,
          objectRequests: log.filter((x) => x.uri.includes('/objects/')).length,
          deltaRequests: log.filter((x) => x.uri.includes('/deltas/')).length,
          bytes: log.reduce((n, x) => n + x.bytesSent, 0),
          connections: new Set(log.map((x) => x.connection)).size,
        });
        console.log(
          `${client.padEnd(8)} ${kind.padEnd(8)} rep ${rep}: ${ms.toFixed(0)} ms${transaction === null ? '' : ` (priced + downloaded: ${transaction} ms)`}, ${log.length} requests (${results.at(-1).objectRequests} objects, ${results.at(-1).deltaRequests} deltas), ${(results.at(-1).bytes / 1e6).toFixed(2)} MB; other processes ${Math.round((busy ?? 0) * 100)} % CPU before`,
        );
      }
    }
  }
} finally {
  await proxy.close();
  await nginx.stop();
}
console.log(
  `\n| case | client | wall median (min) | ours: priced + downloaded | requests median (range) | bytes median, MB | connections |\n| --- | --- | --- | --- | --- | --- | --- |`,
);
for (const kind of ['install', 'update']) {
  for (const client of Object.keys(clients)) {
    const rs = results.filter((r) => r.kind === kind && r.client === client);
    const s = stats(rs.map((r) => r.ms));
    const q = stats(rs.map((r) => r.requests));
    const b = stats(rs.map((r) => r.bytes));
    const c = stats(rs.map((r) => r.connections));
    const t = client === 'ours' ? `${stats(rs.map((r) => r.transactionMs ?? 0)).median.toFixed(0)} ms` : '';
    console.log(
      `| ${kind} | ${client} | ${s.median.toFixed(0)} ms (${s.min.toFixed(0)}) | ${t} | ${q.median} (${q.min}–${q.max}) | ${(b.median / 1e6).toFixed(2)} | ${c.median} |`,
    );
  }
}
writeFileSync(join(OUT, 'install-results.json'), JSON.stringify({ rtt: RTT, mbit: MBIT, results }, null, 2));
