// Field benchmark: whole-process pulls, as a user runs them. The built CLI
// (`node packages/cli/dist/bin.js pull … --mode bare-user-only`) against `ostree pull` into a
// bare-user repository — the libostree built from public source (BENCH_FIELD_REF_OSTREE, default
// /work/ref/ostree/bin/ostree) and Debian's /usr/bin/ostree — on the real disk, through the link
// emulator (bench/linkProxy.mjs: RTT 20 ms, 400 Mbit/s per direction; BENCH_PULL_RTT /
// BENCH_PULL_MBIT), from a real nginx over plain HTTP/1.1 and over HTTPS with HTTP/2 offered.
//
// Repositories (both made by the real ostree from real files):
//   runtime  bench/make-runtime-repo.sh into BENCH_FIELD_DATA/runtime (default
//            /work/bench-data/runtime): ≥ 20,000 objects, two 100+ MB shared libraries
//   pull     bench/make-pull-repo.sh into bench/out/pull-repo: ~3,200 objects
// Cases:
//   delta    fresh pull via the from-scratch delta
//   update   the older commit is in the local repository (copied from a template made untimed,
//            straight from nginx), then the head is pulled via the from-revision delta
//   objects  fresh pull without deltas (ours --no-deltas, ostree --disable-static-deltas)
// Each run: wall (measured here), user + system CPU and peak RSS (GNU time, /usr/bin/time from
// Debian's `time`), requests / connections / bytes from nginx's access log of that run. Clients
// are interleaved (their order rotates every repetition); medians of BENCH_REPS (default 3).
//
// Selection (comma lists): BENCH_FIELD_REPOS=runtime,pull  BENCH_FIELD_PROTOCOLS=http1,h2
// BENCH_FIELD_CASES=delta,update,objects  BENCH_FIELD_CLIENTS=ours,ostree,debian (plus `before`:
// BENCH_FIELD_BEFORE=DIR, a checkout of an earlier commit built with its own `npm ci` and
// `npm run build`, run exactly as ours, for before/after figures from one run).
// BENCH_FIELD_TMP is where the pulled repositories go (default /work/bench-tmp: a real disk, not
// tmpfs; each removed after its run). Results: the table on stdout and in bench/out/field.md; every
// run is appended to bench/out/field-runs.jsonl (BENCH_FIELD_RUNS), and `--report` renders the
// medians of all runs recorded there without running anything.
import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnLinkProxy } from './linkProxy.mjs';
import { cpuBusy, ensureBuilt, fmtMs, loadClient, OUT, ROOT, reps, runStandalone, stats } from './lib/harness.mjs';
import { startNginx } from '../test/support/nginx.ts';
import { makeTestCertificates } from '../test/support/tls.ts';
import { repoFacts } from './pull.bench.mjs';

// The CLI as users run it: its bin entry (compile cache, V8 settings), then dist/.
const BIN = join(ROOT, 'packages', 'cli', 'bin', 'flathub-fetch.js');
const GNU_TIME = '/usr/bin/time';
const DATA = process.env.BENCH_FIELD_DATA ?? '/work/bench-data';
const TMP = process.env.BENCH_FIELD_TMP ?? '/work/bench-tmp';
const ALL = {
  repos: ['runtime', 'pull'],
  protocols: ['http1', 'h2'],
  cases: ['delta', 'update', 'objects'],
  clients: ['ours', 'before', 'ostree', 'debian'],
};
const pick = (name, all) => (process.env[name] ?? all.join(',')).split(',').filter((x) => all.includes(x));
const REPOS = pick('BENCH_FIELD_REPOS', ALL.repos);
const PROTOCOLS = pick('BENCH_FIELD_PROTOCOLS', ALL.protocols);
const CASES = pick('BENCH_FIELD_CASES', ALL.cases);
const CLIENTS = pick('BENCH_FIELD_CLIENTS', ALL.clients);
// Every run is appended here as one JSON line; `--report` renders the medians of all of them, so
// subsets run at different times add up (delete the file to start afresh).
const RUNS_FILE = process.env.BENCH_FIELD_RUNS ?? join(OUT, 'field-runs.jsonl');
const OSTREE = { ostree: process.env.BENCH_FIELD_REF_OSTREE ?? '/work/ref/ostree/bin/ostree', debian: '/usr/bin/ostree' };
const LABEL = {
  ours: 'flathub-fetch (CLI, bare-user-only)',
  before: 'flathub-fetch before (CLI, bare-user-only)',
  ostree: 'ostree (ref build)',
  debian: 'ostree (Debian)',
};
const BEFORE = process.env.BENCH_FIELD_BEFORE ?? null;
/** Our CLI, or the earlier build's (`before`), as one runs them. */
const ourBin = (who) => (who === 'before' ? join(BEFORE, 'packages', 'cli', 'dist', 'bin.js') : BIN);
const isOurs = (who) => who === 'ours' || who === 'before';
const sum = (a) => a.reduce((n, x) => n + x, 0);

function sh(cmd, args) {
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.status ?? r.signal} ${r.stderr}`);
}

function version(bin) {
  const r = spawnSync(bin, ['--version'], { encoding: 'utf8' });
  return /Version: '([^']+)'/.exec(r.stdout ?? '')?.[1] ?? null;
}

/** A command under GNU time: wall ms (here), user + system CPU ms, peak RSS KiB. */
function timed(cmd, args, env = process.env) {
  const file = join(TMP, `.time-${process.pid}.txt`);
  const t = process.hrtime.bigint();
  const r = spawnSync(GNU_TIME, ['-f', '%U %S %M', '-o', file, cmd, ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env,
    timeout: 20 * 60_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited with ${r.status ?? r.signal}: ${String(r.stderr).slice(0, 2000)}`);
  const [user, system, rss] = readFileSync(file, 'utf8').trim().split('\n').at(-1).split(' ').map(Number);
  rmSync(file, { force: true });
  return { wallMs: ms, cpuMs: (user + system) * 1000, userMs: user * 1000, sysMs: system * 1000, rssKb: rss };
}

function ostreeInit(bin, dest, url, caPath) {
  sh(bin, ['init', `--repo=${dest}`, '--mode=bare-user']);
  const tls = caPath === null ? [] : [`--set=tls-ca-path=${caPath}`];
  sh(bin, ['remote', 'add', `--repo=${dest}`, '--no-gpg-verify', ...tls, 'r', url]);
}

/** Repository facts and the link limit of each case (bytes ÷ bandwidth + unavoidable RTTs). */
async function limitsOf(client, repoDir, info, link) {
  const f = repoFacts(client, repoDir, info);
  const bytesPerMs = (link.mbit * 1e6) / 8 / 1000;
  const meta = f.metadata.config + f.metadata.summary;
  const mk = (requests, bytes, rtts, chain) => ({ requests, bytes, rtts, chain, ms: bytes / bytesPerMs + rtts * link.rttMs });
  const d = (x) => [x.superblock, ...x.parts, ...x.fallbacks];
  return {
    facts: f,
    delta: mk(
      3 + f.scratch.parts.length + f.scratch.fallbacks.length,
      meta + sum(d(f.scratch)),
      4,
      'handshake → config ∥ summary → superblock → parts ∥ fallbacks',
    ),
    update: mk(
      3 + f.from.parts.length + f.from.fallbacks.length,
      meta + sum(d(f.from)),
      4,
      'handshake → config ∥ summary → superblock → parts',
    ),
    objects: mk(
      2 + f.objects.count,
      meta + f.objects.bytes,
      4 + f.objects.depth,
      `handshake → config ∥ summary → commit → ${f.objects.depth} dirtree levels → files`,
    ),
  };
}

/** What a request was for, from its path. */
function kind(uri) {
  if (uri.startsWith('/deltas/')) return uri.endsWith('/superblock') ? 'superblock' : 'delta-part';
  const m = /^\/objects\/..\/.+\.(\w+)$/.exec(uri);
  return m ? m[1] : uri.slice(1).split('/')[0];
}

function wire(entries) {
  const kinds = {};
  for (const e of entries) kinds[kind(e.uri)] = (kinds[kind(e.uri)] ?? 0) + 1;
  return {
    kinds,
    requests: entries.length,
    connections: new Set(entries.map((e) => e.connection)).size,
    bytes: sum(entries.map((e) => e.bytesSent)),
    protocols: [...new Set(entries.map((e) => e.protocol))].join(' '),
    notFound: entries.filter((e) => e.status === 404).length,
  };
}

async function prepareRepo(name) {
  if (name === 'runtime') {
    const dir = join(DATA, 'runtime');
    return { dir, info: ensureBuilt('make-runtime-repo.sh', dir) };
  }
  const dir = join(OUT, 'pull-repo');
  const info = ensureBuilt('make-pull-repo.sh', dir);
  return { dir, info: { ...info, ref: info.ref ?? 'bench/pull' } };
}

export default async function bench() {
  if (!existsSync(GNU_TIME)) throw new Error('/usr/bin/time (Debian package `time`) is needed for CPU and peak RSS');
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run \`npm run build\``);
  for (const c of CLIENTS)
    if (!isOurs(c) && !existsSync(OSTREE[c])) throw new Error(`${OSTREE[c]} is missing (BENCH_FIELD_CLIENTS selects clients)`);
  if (CLIENTS.includes('before') && (BEFORE === null || !existsSync(ourBin('before'))))
    throw new Error('the `before` client needs BENCH_FIELD_BEFORE=DIR, a built checkout');
  const link = { rttMs: Number(process.env.BENCH_PULL_RTT ?? 20), mbit: Number(process.env.BENCH_PULL_MBIT ?? 400) };
  const n = Math.max(1, reps({ warmup: 0, reps: 3 }).reps);
  const client = await loadClient();
  mkdirSync(TMP, { recursive: true });
  const versions = Object.fromEntries(CLIENTS.filter((c) => !isOurs(c)).map((c) => [c, version(OSTREE[c])]));
  if (CLIENTS.includes('before'))
    versions.before = spawnSync('git', ['-C', BEFORE, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).stdout?.trim() ?? null;
  const cert = makeTestCertificates();
  const runs = [];
  const head = spawnSync('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).stdout?.trim() ?? null;
  const meta = { link, reps: n, versions, source: head, tmp: TMP, load: { before: loadavg() }, repos: {} };
  try {
    for (const repoName of REPOS) {
      const { dir, info } = await prepareRepo(repoName);
      const repoDir = join(dir, 'repo');
      const limit = await limitsOf(client, repoDir, info, link);
      meta.repos[repoName] = {
        info,
        limits: { delta: limit.delta, update: limit.update, objects: limit.objects },
        objects: limit.facts.objects,
      };
      const nginx = await startNginx(repoDir, { nice: -10, tls: { cert: cert.serverCert, key: cert.serverKey, http2: true } });
      const proxies = {
        http1: await spawnLinkProxy({ upstreamPort: nginx.port, ...link, nice: -10 }),
        h2: await spawnLinkProxy({ upstreamPort: nginx.tlsPort, ...link, nice: -10 }),
      };
      const url = (p) => (p === 'h2' ? `https://127.0.0.1:${proxies.h2.port}/` : proxies.http1.url);
      const oursEnv = (p) => (p === 'h2' ? { ...process.env, NODE_EXTRA_CA_CERTS: cert.caCert } : process.env);
      const work = join(TMP, `field-${process.pid}`);
      rmSync(work, { recursive: true, force: true });
      mkdirSync(work, { recursive: true });
      try {
        // Update templates: the older commit, pulled untimed straight from nginx.
        const templates = {};
        if (CASES.includes('update')) {
          if (CLIENTS.some(isOurs)) {
            templates.ours = join(work, 'template-ours');
            sh(process.execPath, [BIN, 'pull', nginx.url, `${info.ref}@${info.old}`, '--repo', templates.ours, '--mode', 'bare-user-only']);
          }
          const o = CLIENTS.find((c) => !isOurs(c));
          if (o !== undefined) {
            templates.ostree = join(work, 'template-ostree');
            ostreeInit(OSTREE[o], templates.ostree, proxies.http1.url, null);
            sh(OSTREE[o], ['pull', `--repo=${templates.ostree}`, `--url=${nginx.url}`, 'r', `${info.ref}@${info.old}`]);
            rmSync(join(templates.ostree, 'tmp', 'cache'), { recursive: true, force: true });
          }
        }
        let seq = 0;
        for (let rep = 0; rep < n; rep++) {
          for (const proto of PROTOCOLS) {
            const busy = await cpuBusy(1000);
            for (const c of CASES) {
              const order = CLIENTS.map((_, i) => CLIENTS[(i + rep) % CLIENTS.length]);
              for (const who of order) {
                const dest = join(work, `${c}-${who}-${seq++}`);
                const ca = proto === 'h2' ? cert.caCert : null;
                if (c === 'update') {
                  // cp -a: bare-user keeps each file's uid/gid/mode in the user.ostreemeta xattr.
                  sh('cp', ['-a', templates[isOurs(who) ? 'ours' : 'ostree'], dest]);
                  if (!isOurs(who)) {
                    // Point the template's remote (and its ref, the older commit) at this link.
                    sh(OSTREE[who], ['config', `--repo=${dest}`, 'set', 'remote "r".url', url(proto)]);
                    if (ca !== null) sh(OSTREE[who], ['config', `--repo=${dest}`, 'set', 'remote "r".tls-ca-path', ca]);
                  }
                } else if (!isOurs(who)) ostreeInit(OSTREE[who], dest, url(proto), ca);
                sh('sync', []);
                const mark = nginx.mark();
                const run = isOurs(who)
                  ? timed(
                      process.execPath,
                      [
                        ourBin(who),
                        'pull',
                        url(proto),
                        info.ref,
                        '--repo',
                        dest,
                        '--mode',
                        'bare-user-only',
                        ...(c === 'objects' ? ['--no-deltas'] : []),
                      ],
                      oursEnv(proto),
                    )
                  : timed(OSTREE[who], ['pull', `--repo=${dest}`, ...(c === 'objects' ? ['--disable-static-deltas'] : []), 'r', info.ref]);
                run.wire = wire(nginx.entriesSince(mark));
                run.otherCpu = busy;
                // Untimed: the pull must have brought the head commit.
                const refFile = isOurs(who)
                  ? join(dest, 'refs', 'remotes', 'origin', info.ref)
                  : join(dest, 'refs', 'remotes', 'r', info.ref);
                const got = existsSync(refFile) ? readFileSync(refFile, 'utf8').trim() : null;
                if (got !== info.head) throw new Error(`${repoName}/${proto}/${c}/${who}: ref is ${got}, expected ${info.head}`);
                const key = `${repoName}/${proto}/${c}/${who}`;
                const line = {
                  at: new Date().toISOString(),
                  repo: repoName,
                  proto,
                  case: c,
                  who,
                  version: who === 'ours' ? meta.source : versions[who],
                  link,
                  limit: meta.repos[repoName].limits[c],
                  load1: loadavg()[0],
                  ...run,
                };
                appendFileSync(RUNS_FILE, `${JSON.stringify(line)}\n`);
                runs.push(line);
                console.log(
                  `  ${key.padEnd(30)} ${fmtMs(run.wallMs).padStart(8)}  CPU ${fmtMs(run.cpuMs).padStart(8)} (sys ${fmtMs(run.sysMs)})  RSS ${(run.rssKb / 1024).toFixed(0).padStart(4)} MiB  ${run.wire.requests} req, ${run.wire.connections} conn, ${(run.wire.bytes / 1e6).toFixed(1)} MB (${run.wire.protocols}) ${JSON.stringify(run.wire.kinds)}`,
                );
                rmSync(dest, { recursive: true, force: true });
              }
            }
          }
        }
      } finally {
        await proxies.http1.close();
        await proxies.h2.close();
        await nginx.stop();
        rmSync(work, { recursive: true, force: true });
      }
    }
  } finally {
    cert.remove();
  }
  meta.load.after = loadavg();
  return { ...report(runs), meta };
}

function summarize(list) {
  const med = (f) => stats(list.map(f)).median;
  const vary = (f) => {
    const v = list.map(f);
    return Math.min(...v) === Math.max(...v) ? String(v[0]) : `${Math.min(...v)}–${Math.max(...v)}`;
  };
  return {
    wall: stats(list.map((r) => r.wallMs)),
    cpuMs: med((r) => r.cpuMs),
    sysMs: med((r) => r.sysMs),
    rssKb: med((r) => r.rssKb),
    requests: vary((r) => r.wire.requests),
    connections: vary((r) => r.wire.connections),
    mb: med((r) => r.wire.bytes) / 1e6,
    protocols: list.at(-1).wire.protocols,
    otherCpu: Math.max(...list.map((r) => r.otherCpu ?? 0)),
  };
}

const CASE_TEXT = { delta: 'fresh, from-scratch delta', update: 'update, from-revision delta', objects: 'fresh, no deltas' };
const PROTO_TEXT = { http1: 'HTTP/1.1', h2: 'HTTPS + HTTP/2' };

/** Medians per repository × protocol × case × client of `lines` (run records), as markdown. */
function report(lines) {
  const groups = new Map();
  for (const l of lines) {
    const key = `${l.repo}/${l.proto}/${l.case}/${l.who}`;
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(l);
  }
  const summary = Object.fromEntries([...groups].map(([k, l]) => [k, summarize(l)]));
  const rows = [
    '| repository | protocol | case | link limit | client | wall (median, min–max) | × limit | CPU user+sys (sys) | peak RSS | requests | connections | MB on the wire | runs |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  const limits = new Map();
  for (const repo of ALL.repos)
    for (const proto of ALL.protocols)
      for (const c of ALL.cases)
        for (const who of ALL.clients) {
          const list = groups.get(`${repo}/${proto}/${c}/${who}`);
          if (list === undefined) continue;
          const s = summary[`${repo}/${proto}/${c}/${who}`];
          const l = list.at(-1).limit;
          const link = list.at(-1).link;
          limits.set(`${repo}/${c}`, { l, link, repo, c });
          const ver = who === 'ours' ? '' : ` ${[...new Set(list.map((x) => x.version))].join(', ')}`;
          rows.push(
            `| ${repo} | ${PROTO_TEXT[proto]} | ${CASE_TEXT[c]} | ${fmtMs(l.ms)} | ${LABEL[who]}${ver} | ${fmtMs(s.wall.median)} (${fmtMs(s.wall.min)}–${fmtMs(s.wall.max)}) | ${(s.wall.median / l.ms).toFixed(2)} | ${fmtMs(s.cpuMs)} (${fmtMs(s.sysMs)}) | ${(s.rssKb / 1024).toFixed(0)} MiB | ${s.requests} | ${s.connections} | ${s.mb.toFixed(1)} | ${list.length} |`,
          );
        }
  const limitLines = [...limits.values()].map(
    ({ l, link, repo, c }) =>
      `- ${repo}, ${CASE_TEXT[c]}: ${(l.bytes / 1e6).toFixed(1)} MB ÷ ${link.mbit} Mbit/s = ${fmtMs(l.bytes / ((link.mbit * 1e6) / 8 / 1000))} + ${l.rtts} RTT × ${link.rttMs} ms (${l.chain}) = ${fmtMs(l.ms)}; ideal requests ${l.requests}`,
  );
  const load = lines.map((l) => l.load1).filter((x) => typeof x === 'number');
  const md = `${rows.join('\n')}\n\nLink limits (plain HTTP; HTTPS adds the TLS handshake's round trip):\n${limitLines.join('\n')}\n\nRuns ${lines[0]?.at ?? '?'} – ${lines.at(-1)?.at ?? '?'}; 1-minute load average after each run ${load.length ? `${Math.min(...load).toFixed(1)}–${Math.max(...load).toFixed(1)}` : '?'} (2 cores).\n`;
  writeFileSync(join(OUT, 'field.md'), md);
  console.log(`\n${md}`);
  return {
    name: 'field',
    title: 'whole-process pulls: the CLI vs ostree pull, on disk, through the link emulator',
    summary,
    rows: [],
    notes: [`table: ${join(OUT, 'field.md')}; every run: ${RUNS_FILE}`],
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv.includes('--report')) {
  // Medians of every run recorded in RUNS_FILE, without running anything.
  const lines = readFileSync(RUNS_FILE, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
  report(lines);
} else await runStandalone(import.meta.url, bench);
