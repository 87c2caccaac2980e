// pull(): our client vs Debian's `ostree pull`, side by side in one run, over an emulated link.
//
// Setup: bench/make-pull-repo.sh builds (once, cached) an archive repository with the real
// ostree: ref bench/pull, ~3,200 objects, a from-scratch delta of exactly 2 parts + 1 fallback
// (a 12 MB object) and an older commit with a small from-revision delta to the head. A real
// nginx (test/support/nginx.ts, JSON access log with $connection) serves it on loopback, behind
// bench/linkProxy.mjs (its own process): RTT 20 ms, 400 Mbit/s per direction, connection setup
// costs an RTT (BENCH_PULL_RTT / BENCH_PULL_MBIT change them).
//
// Cases, each run by both clients into a fresh directory, reps interleaved:
//   delta    fresh pull using the from-scratch delta (ours deltas: 'prefer'; ostree default)
//   objects  fresh pull without deltas (ours deltas: 'never'; ostree --disable-static-deltas)
//   update   from the older commit (pulled beforehand, outside the timed region: a template
//            repository is made once, straight from nginx, and copied before each run)
// plus, for the record, ours without deltas with opt-in HTTP/1.1 pipelining.
//
// Ours: `node bench/lib/pull-task.mjs` runs pull() from packages/client/dist (archive repo);
// the pull() call is timed inside, the whole process from outside (GNU time: peak RSS). Ostree:
// `ostree pull` into a fresh `bare-user` repo with `remote add --no-gpg-verify r PROXY`, timed
// as a process. Requests, bytes and connections come from nginx's access log of each run.
//
// The link limit of a case = the bytes the ideal plan must move ÷ bandwidth + the round trips
// its dependency chain cannot avoid × RTT (see limits() below for each chain).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { selfCheck, spawnLinkProxy } from './linkProxy.mjs';
import { makeTestCertificates } from '../test/support/tls.ts';
import { BENCH, ensureBuilt, fmtMs, fmtRss, loadClient, OUT, reps, row, runStandalone, stats } from './lib/harness.mjs';
import { startNginx } from '../test/support/nginx.ts';

const PULL_TASK = join(BENCH, 'lib', 'pull-task.mjs');
// Where the pulled repositories go (each removed after its run): on disk by default, like a real
// pull; BENCH_PULL_DIR=/dev/shm/… takes the disk out of the measurement (tmpfs: fsync is free).
// BENCH_PULL_CASES=delta,update (ids: delta, objects, update, objects-pipelined) runs a subset.
const WORK = process.env.BENCH_PULL_DIR ?? join(OUT, 'pull-work');
const REF = 'bench/pull';
const GNU_TIME = '/usr/bin/time';

/** Sizes and shapes of what each case must fetch, from the repository on disk. */
export function repoFacts(client, repoDir, info) {
  const size = (p) => statSync(join(repoDir, p)).size;
  const read = (p) => new Uint8Array(readFileSync(join(repoDir, p)));
  const delta = (from) => {
    const path = client.deltaSuperblockPath(from, info.head);
    const sb = client.parseDeltaSuperblock(read(path), path);
    return {
      superblock: size(path),
      parts: sb.parts.map((p) => p.size),
      partObjects: sb.parts.map((p) => p.objects.length),
      uncompressed: sb.parts.map((p) => p.uncompressedSize),
      fallbacks: sb.fallbacks.map((f) => f.size),
    };
  };
  // Every object reachable from the head commit, and the directory depth.
  const T = client.ObjectType;
  const objects = new Map();
  const add = (checksum, type) => {
    const p = client.objectPath(checksum, type);
    if (!objects.has(p)) objects.set(p, { type, size: size(p) });
  };
  add(info.head, T.COMMIT);
  const commit = client.parseCommit(read(client.objectPath(info.head, T.COMMIT)));
  let depth = 0;
  const seen = new Set();
  const walk = (tree, meta, level) => {
    add(meta, T.DIR_META);
    if (seen.has(tree)) return;
    seen.add(tree);
    add(tree, T.DIR_TREE);
    depth = Math.max(depth, level);
    const t = client.parseDirTree(read(client.objectPath(tree, T.DIR_TREE)));
    for (const f of t.files) add(f.checksum, T.FILE);
    for (const d of t.dirs) walk(d.tree, d.meta, level + 1);
  };
  walk(commit.rootTree, commit.rootMeta, 1);
  const count = (type) => [...objects.values()].filter((o) => o.type === type).length;
  return {
    metadata: { config: size('config'), summary: size('summary') },
    scratch: delta(null),
    from: delta(info.old),
    objects: {
      count: objects.size,
      bytes: [...objects.values()].reduce((n, o) => n + o.size, 0),
      commit: count(T.COMMIT),
      dirtree: count(T.DIR_TREE),
      dirmeta: count(T.DIR_META),
      file: count(T.FILE),
      depth,
    },
  };
}

const sum = (a) => a.reduce((n, x) => n + x, 0);

/**
 * The ideal plan of each case (requests, bytes) and its unavoidable round trips. Chains:
 * - delta:   TCP handshake → config ∥ summary → scratch superblock → parts ∥ fallback = 4 RTT
 * - update:  handshake → config ∥ summary → from-superblock → its part = 4 RTT
 * - objects: handshake → config ∥ summary → commit → one level of dirtrees per directory depth
 *            → the deepest directory's files = 4 + depth RTT; with at most 8 connections and one
 *            request per connection per round trip (no pipelining) also ⌈requests / 8⌉ RTT.
 */
function limits(f, link) {
  const bytesPerMs = (link.mbit * 1e6) / 8 / 1000;
  const meta = f.metadata.config + f.metadata.summary;
  const mk = (requests, bytes, rtts, chain) => ({ requests, bytes, rtts, chain, ms: bytes / bytesPerMs + rtts * link.rttMs });
  const delta = mk(
    2 + 1 + f.scratch.parts.length + f.scratch.fallbacks.length,
    meta + f.scratch.superblock + sum(f.scratch.parts) + sum(f.scratch.fallbacks),
    4,
    'handshake → config ∥ summary → superblock → 2 parts ∥ fallback',
  );
  const update = mk(
    2 + 1 + f.from.parts.length + f.from.fallbacks.length,
    meta + f.from.superblock + sum(f.from.parts) + sum(f.from.fallbacks),
    4,
    'handshake → config ∥ summary → superblock → part',
  );
  const objects = mk(
    2 + f.objects.count,
    meta + f.objects.bytes,
    4 + f.objects.depth,
    `handshake → config ∥ summary → commit → ${f.objects.depth} dirtree levels → files`,
  );
  objects.eightConnMs = objects.bytes / bytesPerMs + (1 + Math.ceil(objects.requests / 8)) * link.rttMs;
  return { delta, update, objects };
}

/** Classifies an nginx log entry by what was requested. */
function kind(uri) {
  if (uri === '/config') return 'config';
  if (uri === '/summary' || uri === '/summary.sig' || uri === '/summary.idx') return uri.slice(1);
  if (uri.startsWith('/delta-indexes/')) return 'delta-index';
  if (uri.startsWith('/deltas/')) return uri.endsWith('/superblock') ? 'superblock' : 'delta-part';
  const m = /^\/objects\/..\/.+\.(\w+)$/.exec(uri);
  return m ? m[1] : 'other';
}

function summarizeLog(entries) {
  const kinds = {};
  for (const e of entries) kinds[kind(e.uri)] = (kinds[kind(e.uri)] ?? 0) + 1;
  return {
    requests: entries.length,
    bytesSent: sum(entries.map((e) => e.bytesSent)),
    bodyBytes: sum(entries.map((e) => e.bodyBytes)),
    connections: new Set(entries.map((e) => e.connection)).size,
    protocols: [...new Set(entries.map((e) => e.protocol))].join(' '),
    notFound: entries.filter((e) => e.status === 404).map((e) => e.uri),
    otherStatus: entries.filter((e) => e.status !== 200 && e.status !== 404).length,
    kinds,
  };
}

function sh(cmd, args) {
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.status ?? r.signal} ${r.stderr}`);
}

function ostreeRepo(dest, remoteUrl, caPath = null) {
  sh('ostree', ['init', `--repo=${dest}`, '--mode=bare-user']);
  const tls = caPath === null ? [] : [`--set=tls-ca-path=${caPath}`];
  sh('ostree', ['remote', 'add', `--repo=${dest}`, '--no-gpg-verify', ...tls, 'r', remoteUrl]);
}

/**
 * Runs a command under GNU time: wall ms (measured here), user + system CPU ms and peak RSS (KiB)
 * from GNU time, stdout when `capture`.
 */
function timed(cmd, args, { capture = false } = {}) {
  const file = join(OUT, `.pull-time-${process.pid}.txt`);
  const gnu = existsSync(GNU_TIME);
  const t = process.hrtime.bigint();
  const r = spawnSync(gnu ? GNU_TIME : cmd, gnu ? ['-f', '%U %S %M', '-o', file, cmd, ...args] : args, {
    stdio: ['ignore', capture ? 'pipe' : 'ignore', 'pipe'],
    maxBuffer: 512 * 1024 * 1024,
  });
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited with ${r.status ?? r.signal}: ${String(r.stderr).slice(0, 2000)}`);
  if (!gnu) return { ms, cpuMs: null, rssKb: null, stdout: capture ? r.stdout.toString() : null };
  const [user, system, rss] = readFileSync(file, 'utf8').trim().split('\n').at(-1).split(' ').map(Number);
  rmSync(file, { force: true });
  return { ms, cpuMs: (user + system) * 1000, rssKb: rss, stdout: capture ? r.stdout.toString() : null };
}

function runOurs(spec) {
  const r = timed(process.execPath, [PULL_TASK, JSON.stringify(spec)], { capture: true });
  const report = JSON.parse(r.stdout);
  return { wallMs: r.ms, pullMs: report.ms, rssKb: r.rssKb, cpuMs: r.cpuMs, report };
}

// ---- diagnosis from our request records ---------------------------------------------------

const median = (a) => (a.length === 0 ? null : stats(a).median);
const r1 = (x) => (x === null || x === undefined ? null : Math.round(x * 10) / 10);

/** Where the time of a delta pull goes: the metadata chain, the transfer, the local work after it. */
function deltaTimeline(report, rttMs) {
  const reqs = [...report.requests].sort((a, b) => a.t.queued - b.t.queued);
  const bulk = reqs.filter((r) => r.purpose === 'delta-part' || r.purpose === 'fallback');
  const before = reqs.filter((r) => r.t.queued < Math.min(...bulk.map((b) => b.t.queued)));
  const firstBulkSent = Math.min(...bulk.map((b) => b.t.requestSent));
  const lastByte = Math.max(...reqs.map((r) => r.t.lastByte ?? 0));
  const lastDone = Math.max(...reqs.map((r) => r.t.done ?? 0));
  // Objects written (progress samples, ~10 a second): the first from a part, and when all were.
  const verify = report.phases.find((p) => p.phase === 'verify')?.at ?? null;
  const total = report.progress.at(-1)?.[2] ?? 0;
  const firstObjects = report.progress.find((p) => p[2] > 1)?.[0] ?? null;
  const allObjects = report.progress.find((p) => p[2] >= total)?.[0] ?? null;
  return {
    chain: before.map((r) => ({
      purpose: r.purpose,
      status: r.status,
      newConnection: r.reused === false,
      queued: r1(r.t.queued),
      requestSent: r1(r.t.requestSent),
      firstByte: r1(r.t.firstByte),
      done: r1(r.t.done),
      rtts: r1((r.t.firstByte - r.t.requestSent) / rttMs),
    })),
    bulk: bulk.map((r) => ({
      purpose: r.purpose,
      path: r.path.split('/').pop(),
      bytes: r.wireBytes,
      newConnection: r.reused === false,
      requestSent: r1(r.t.requestSent),
      firstByte: r1(r.t.firstByte),
      lastByte: r1(r.t.lastByte),
      done: r1(r.t.done),
    })),
    firstBulkSent: r1(firstBulkSent),
    lastByte: r1(lastByte),
    lastDone: r1(lastDone),
    verifyPhase: r1(verify),
    objectsWritten: total,
    firstObjectsWrittenBy: r1(firstObjects),
    allObjectsWrittenBy: r1(allObjects),
    cpuMs: report.cpuMs,
    end: r1(report.ms),
    afterLastByte: r1(report.ms - lastByte),
    phases: report.phases,
  };
}

/** Where the time of a per-object pull goes: medians of each request phase, connection use. */
function objectsBreakdown(report) {
  const files = report.requests.filter((r) => r.purpose === 'file');
  const d = (a, b) => median(files.map((r) => r.t[b] - r.t[a]).filter(Number.isFinite));
  const byConn = new Map();
  for (const r of report.requests) {
    if (!byConn.has(r.connectionId)) byConn.set(r.connectionId, []);
    byConn.get(r.connectionId).push(r);
  }
  const gaps = [];
  let busy = 0;
  let span = 0;
  let overlapped = 0;
  for (const list of byConn.values()) {
    list.sort((a, b) => a.t.requestSent - b.t.requestSent);
    for (let i = 1; i < list.length; i++) {
      const g = list[i].t.requestSent - list[i - 1].t.lastByte;
      if (g < 0) overlapped++;
      else gaps.push(g);
    }
    busy += sum(list.map((r) => r.t.lastByte - r.t.requestSent));
    span += list.at(-1).t.lastByte - list[0].t.requestSent;
  }
  const start = Math.min(...report.requests.map((r) => r.t.requestSent));
  const end = Math.max(...report.requests.map((r) => r.t.lastByte));
  return {
    requests: report.requests.length,
    connections: byConn.size,
    waitForSlot: r1(d('queued', 'dispatched')),
    waitForConnection: r1(d('dispatched', 'requestSent')),
    requestToFirstByte: r1(d('requestSent', 'firstByte')),
    body: r1(d('firstByte', 'lastByte')),
    verifyAndWrite: r1(d('lastByte', 'done')),
    idleGapOnConnection: r1(median(gaps)),
    pipelinedRequests: overlapped,
    connectionBusyShare: Math.round((busy / span) * 1000) / 1000,
    requestsPerSecond: Math.round(report.requests.length / ((end - start) / 1000)),
    firstRequest: r1(start),
    lastByte: r1(end),
    end: r1(report.ms),
  };
}

/** One-line summaries of the diagnosis, for the notes. */
function diagnosisNotes(dg, limit, link) {
  const d = dg.delta;
  const u = dg.update;
  const o = dg.objects;
  const p = dg.objectsPipelined;
  const chain = (t) =>
    t.chain
      .map(
        (c) =>
          `${c.purpose}${c.status === 404 ? ' (404)' : ''}${c.newConnection ? ' [new conn]' : ''} sent ${c.requestSent} → first byte ${c.firstByte}`,
      )
      .join(', ');
  return [
    `ours, delta (last run, ms from the pull() call): ${chain(d)}; parts + fallback sent at ${d.firstBulkSent} (ideal ${3 * link.rttMs}); last byte ${d.lastByte} (${(d.lastByte / limit.delta.ms).toFixed(2)}× the limit: the network part); first objects written ${d.firstObjectsWrittenBy}, all ${d.objectsWritten} by ${d.allObjectsWrittenBy}; returned at ${d.end}: ${d.afterLastByte} ms after the last byte; process CPU ${Math.round(d.cpuMs.user)} ms user + ${Math.round(d.cpuMs.system)} ms system`,
    `ours, update: ${chain(u)}; part sent at ${u.firstBulkSent}, last byte ${u.lastByte}; ${u.objectsWritten} objects written by ${u.allObjectsWrittenBy}; returned at ${u.end}`,
    `ours, no deltas: ${o.requests} requests on ${o.connections} connections, ${o.requestsPerSecond} requests/s; per request (median): waits ${o.waitForConnection} ms for a free connection, ${o.requestToFirstByte} ms request → first byte, ${o.verifyAndWrite} ms verify + write after the last byte; ${o.idleGapOnConnection} ms idle between responses on a connection; connections busy ${Math.round(o.connectionBusyShare * 100)} % of the time`,
    `ours, no deltas, pipelined: ${p.requestsPerSecond} requests/s, ${p.pipelinedRequests} requests sent before the previous response on their connection ended; ${p.verifyAndWrite} ms median verify + write after the last byte (requests now wait for local CPU and disk work, not for the network)`,
  ];
}

// ---- the benchmark ----------------------------------------------------------------------------

export default async function bench() {
  const info = ensureBuilt('make-pull-repo.sh', join(OUT, 'pull-repo'));
  const repoDir = join(OUT, 'pull-repo', 'repo');
  const client = await loadClient();
  const facts = repoFacts(client, repoDir, info);
  const link = { rttMs: Number(process.env.BENCH_PULL_RTT ?? 20), mbit: Number(process.env.BENCH_PULL_MBIT ?? 400) };
  const limit = limits(facts, link);
  const r = reps({ warmup: 0, reps: 3 });
  const n = Math.max(1, r.reps);

  console.log(`link self-check (RTT ${link.rttMs} ms, ${link.mbit} Mbit/s)…`);
  const calibration = await selfCheck({ ...link, mb: 50, quick: true });
  for (const x of calibration.rows) {
    console.log(`  ${x.ok ? 'ok  ' : 'FAIL'} ${x.what}: expected ${x.expectedMs.toFixed(1)} ms, measured ${x.measuredMs.toFixed(1)} ms`);
  }

  rmSync(WORK, { recursive: true, force: true });
  mkdirSync(WORK, { recursive: true });
  // Server and link get a higher CPU priority (nice -10, when root): on this 2-core machine they
  // stand in for other machines and must not slow down when the client saturates the cores.
  // HTTPS with HTTP/2 offered (what Flathub's CDN serves) on a second port, behind its own proxy
  // with the same link model (only one of the two carries traffic at a time).
  const cert = makeTestCertificates();
  const nginx = await startNginx(repoDir, { nice: -10, tls: { cert: cert.serverCert, key: cert.serverKey, http2: true } });
  const proxy = await spawnLinkProxy({ upstreamPort: nginx.port, ...link, nice: -10 });
  const tlsProxy = await spawnLinkProxy({ upstreamPort: nginx.tlsPort, ...link, nice: -10 });
  const tlsUrl = `https://127.0.0.1:${tlsProxy.port}/`;
  const oursTls = { url: tlsUrl, http: { http: { tls: { ca: cert.caPem } } } };
  // BENCH_PULL_MAX_IN_FLIGHT sets our http.maxInFlight in every case (default: the library's).
  const inFlight = process.env.BENCH_PULL_MAX_IN_FLIGHT === undefined ? {} : { maxInFlight: Number(process.env.BENCH_PULL_MAX_IN_FLIGHT) };
  const runs = {};
  const record = (key, run) => {
    runs[key] ??= [];
    runs[key].push(run);
  };
  try {
    // Templates for the update case: the older commit, fetched straight from nginx (untimed).
    const oursOld = join(WORK, 'template-ours');
    runOurs({ url: nginx.url, ref: `${REF}@${info.old}`, repo: oursOld, http: { maxInFlight: 64, pipelining: 8 } });
    const ostreeOld = join(WORK, 'template-ostree');
    ostreeRepo(ostreeOld, proxy.url);
    sh('ostree', ['pull', `--repo=${ostreeOld}`, `--url=${nginx.url}`, 'r', `${REF}@${info.old}`]);
    rmSync(join(ostreeOld, 'tmp', 'cache'), { recursive: true, force: true });

    const cases = [
      { id: 'delta', ours: { deltas: 'prefer' }, ostree: [] },
      // Ours into bare-user-only (uncompressed, Flatpak's per-user mode), like ostree's bare-user.
      { id: 'delta-bare', ours: { deltas: 'prefer', repoMode: 'bare-user-only' }, ostree: [] },
      { id: 'objects', ours: { deltas: 'never' }, ostree: ['--disable-static-deltas'] },
      { id: 'update', ours: { deltas: 'prefer' }, ostree: [], from: true },
      { id: 'objects-pipelined', ours: { deltas: 'never', http: { pipelining: 8 } }, ostree: null },
      { id: 'delta-h2', ours: { deltas: 'prefer', ...oursTls }, ostree: [], tls: true },
      { id: 'objects-h2', ours: { deltas: 'never', ...oursTls }, ostree: ['--disable-static-deltas'], tls: true },
    ].filter((c) => process.env.BENCH_PULL_CASES === undefined || process.env.BENCH_PULL_CASES.split(',').includes(c.id));
    let seq = 0;
    for (let rep = 0; rep < n; rep++) {
      for (const c of cases) {
        // The pipelined variant is for the record: one run (BENCH_REPS ≥ 5 gives it more).
        if (c.ostree === null && rep >= Math.max(1, n - 4)) continue;
        const order = c.ostree === null ? ['ours'] : rep % 2 === 0 ? ['ours', 'ostree'] : ['ostree', 'ours'];
        for (const who of order) {
          const dest = join(WORK, `${c.id}-${who}-${seq++}`);
          if (c.from) sh('cp', ['-a', who === 'ours' ? oursOld : ostreeOld, dest]);
          else if (who === 'ostree') ostreeRepo(dest, c.tls ? tlsUrl : proxy.url, c.tls ? cert.caCert : null);
          sh('sync', []);
          const mark = nginx.mark();
          let run;
          if (who === 'ours') {
            run = runOurs({ url: proxy.url, ref: REF, repo: dest, ...c.ours, http: { ...inFlight, ...c.ours.http } });
          } else {
            const o = timed('ostree', ['pull', `--repo=${dest}`, ...c.ostree, 'r', REF]);
            run = { wallMs: o.ms, pullMs: null, rssKb: o.rssKb, cpuMs: o.cpuMs, report: null };
          }
          run.wire = summarizeLog(nginx.entriesSince(mark));
          // Untimed: the pull must have brought the head commit.
          const got =
            who === 'ours'
              ? run.report.commit
              : spawnSync('ostree', ['rev-parse', `--repo=${dest}`, `r:${REF}`], { encoding: 'utf8' }).stdout.trim();
          if (got !== info.head) throw new Error(`${c.id}/${who}: pulled ${got}, expected ${info.head}`);
          const extra = who === 'ours' ? ` (pull() ${fmtMs(run.pullMs)}, ${run.report.strategy})` : '';
          const cpu = run.cpuMs === null ? '' : `, CPU ${fmtMs(run.cpuMs)}`;
          console.log(
            `  ${c.id.padEnd(17)} ${who.padEnd(6)} ${fmtMs(run.wallMs).padStart(8)}${extra}: ${run.wire.requests} requests, ${(run.wire.bytesSent / 1e6).toFixed(1)} MB, ${run.wire.connections} connections (${run.wire.protocols})${cpu}`,
          );
          record(`${c.id}/${who}`, run);
          rmSync(dest, { recursive: true, force: true });
        }
      }
    }
  } finally {
    await proxy.close();
    await tlsProxy.close();
    await nginx.stop();
    cert.remove();
    rmSync(WORK, { recursive: true, force: true });
  }

  // ---- summarize ----
  const summary = {};
  for (const [key, list] of Object.entries(runs)) {
    const wall = stats(list.map((x) => x.wallMs));
    const pullMs = list[0].pullMs === null ? null : stats(list.map((x) => x.pullMs));
    const last = list.at(-1);
    const vary = (f) => {
      const v = list.map(f);
      return Math.min(...v) === Math.max(...v) ? v[0] : `${Math.min(...v)}–${Math.max(...v)}`;
    };
    summary[key] = {
      wall,
      pull: pullMs,
      rssKb: median(list.map((x) => x.rssKb).filter((x) => typeof x === 'number')),
      cpuMs: median(list.map((x) => x.cpuMs).filter((x) => typeof x === 'number')),
      requests: vary((x) => x.wire.requests),
      bytesSent: median(list.map((x) => x.wire.bytesSent)),
      connections: vary((x) => x.wire.connections),
      notFound: last.wire.notFound,
      kinds: last.wire.kinds,
      strategy: last.report?.strategy ?? null,
      objects: last.report?.objects ?? null,
    };
  }
  // The HTTPS cases share the plain-HTTP limits (the TLS handshake's extra round trip aside).
  const base = (key) => key.split('/')[0].replace('-pipelined', '').replace('-h2', '').replace('-bare', '');
  for (const [key, s] of Object.entries(summary)) {
    const l = limit[base(key)];
    s.limitMs = l.ms;
    s.wallPerLimit = s.wall.median / l.ms;
    s.pullPerLimit = s.pull === null ? null : s.pull.median / l.ms;
  }

  // Diagnosis from our last run of each case.
  const lastReport = (key) => runs[key].at(-1).report;
  if (process.env.BENCH_PULL_CASES !== undefined) {
    // A subset: print what was measured, no targets or results file.
    for (const [key, s] of Object.entries(summary))
      console.log(
        key,
        JSON.stringify({ wall: s.wall, pull: s.pull, cpuMs: s.cpuMs, rssKb: s.rssKb, requests: s.requests, limitMs: s.limitMs }),
      );
    for (const key of Object.keys(runs).filter((k) => k.endsWith('/ours'))) {
      const f = key.startsWith('objects') ? objectsBreakdown : (r) => deltaTimeline(r, link.rttMs);
      console.log(key, JSON.stringify(f(lastReport(key))));
    }
    return { name: 'pull', title: 'pull() subset', rows: [], notes: [] };
  }
  const diagnosis = {
    delta: deltaTimeline(lastReport('delta/ours'), link.rttMs),
    update: deltaTimeline(lastReport('update/ours'), link.rttMs),
    objects: objectsBreakdown(lastReport('objects/ours')),
    objectsPipelined: objectsBreakdown(lastReport('objects-pipelined/ours')),
  };

  // ---- targets ----
  const d = summary['delta/ours'];
  const dReq = typeof d.requests === 'number' ? d.requests : Number(String(d.requests).split('–')[1]);
  const t1 = {
    met: d.pull.median <= 1.25 * limit.delta.ms && dReq <= limit.delta.requests,
    text: `fresh delta pull ≤ 1.25× the link limit (${fmtMs(limit.delta.ms)}) with ≤ ${limit.delta.requests} requests: pull() ${(d.pull.median / limit.delta.ms).toFixed(2)}×, ${d.requests} requests`,
  };
  const db = summary['delta-bare/ours'];
  const dbReq = typeof db.requests === 'number' ? db.requests : Number(String(db.requests).split('–')[1]);
  const t1b = {
    met: db.pull.median <= 1.25 * limit.delta.ms && dbReq <= limit.delta.requests,
    text: `the same into bare-user-only: pull() ${(db.pull.median / limit.delta.ms).toFixed(2)}×, ${db.requests} requests`,
  };
  const o = summary['objects/ours'];
  const oRef = summary['objects/ostree'];
  const oConns = typeof o.connections === 'number' ? o.connections : Number(String(o.connections).split('–')[1]);
  const t2 = {
    met: oRef.wall.median / o.wall.median >= 4 && oConns <= 8,
    text: `no-delta pull ≥ 4× faster than ostree with ≤ 8 connections: ${(oRef.wall.median / o.wall.median).toFixed(2)}×, ${o.connections} connections`,
  };
  const u = summary['update/ours'];
  const uReq = typeof u.requests === 'number' ? u.requests : Number(String(u.requests).split('–')[1]);
  const t3 = { met: uReq <= 7, text: `update ≤ 7 requests: ${u.requests}` };

  const cell = (s, label) => ({ label, median: s.wall.median, min: s.wall.min, rssKb: s.rssKb });
  const wireNote = (s) =>
    `${s.requests} requests, ${(s.bytesSent / 1e6).toFixed(2)} MB, ${s.connections} connections${s.notFound.length ? `, ${s.notFound.length} × 404` : ''}`;
  const caseNote = (key) => {
    const ours = summary[`${key}/ours`];
    const ref = summary[`${key}/ostree`];
    const l = limit[base(key)];
    return (
      `limit ${fmtMs(l.ms)} (${(l.bytes / 1e6).toFixed(2)} MB, ${l.requests} requests, ${l.rtts} RTT: ${l.chain}); ` +
      `ours: pull() ${fmtMs(ours.pull.median)} = ${ours.pullPerLimit.toFixed(2)}× limit, process ${ours.wallPerLimit.toFixed(2)}×, ${wireNote(ours)}, strategy ${ours.strategy}; ` +
      `ostree: ${ref.wallPerLimit.toFixed(2)}× limit, ${wireNote(ref)}`
    );
  };
  const rows = [
    row(
      '(a) fresh pull, from-scratch delta',
      cell(d, 'ours (process)'),
      cell(summary['delta/ostree'], 'ostree pull'),
      caseNote('delta'),
      t1,
    ),
    row(
      '(a″) fresh pull, from-scratch delta, ours into bare-user-only',
      cell(db, 'ours repoMode bare-user-only (process)'),
      cell(summary['delta-bare/ostree'], 'ostree pull (bare-user)'),
      caseNote('delta-bare'),
      t1b,
    ),
    row(
      '(b) fresh pull, no deltas',
      cell(o, 'ours deltas:never (process)'),
      cell(oRef, 'ostree pull --disable-static-deltas'),
      `${caseNote('objects')}; with 8 connections and one request per connection per RTT the floor is ${fmtMs(limit.objects.eightConnMs)}`,
      t2,
    ),
    row(
      '(c) update from the older commit',
      cell(u, 'ours (process)'),
      cell(summary['update/ostree'], 'ostree pull'),
      caseNote('update'),
      t3,
    ),
  ];
  const p = summary['objects-pipelined/ours'];
  rows.push(
    row(
      '(b′) no deltas, ours with opt-in pipelining 8 (default maxInFlight)',
      cell(p, 'ours pipelined (process)'),
      cell(oRef, 'ostree pull --disable-static-deltas'),
      `pull() ${fmtMs(p.pull.median)} = ${p.pullPerLimit.toFixed(2)}× limit; ${wireNote(p)} (not the default configuration)`,
    ),
  );

  return {
    name: 'pull',
    title: 'pull() vs ostree pull over an emulated link (nginx behind a delay/bandwidth proxy)',
    input: { repo: info, facts, link, workDir: WORK },
    link: { ...link, calibration: calibration.rows },
    limits: limit,
    summary,
    diagnosis,
    runs: Object.fromEntries(
      Object.entries(runs).map(([k, list]) => [
        k,
        list.map((x) => ({
          wallMs: x.wallMs,
          pullMs: x.pullMs,
          rssKb: x.rssKb,
          cpuMs: x.cpuMs,
          wire: x.wire,
          phases: x.report?.phases ?? null,
        })),
      ]),
    ),
    rows,
    targets: { t1, t1b, t2, t3 },
    notes: [
      ...diagnosisNotes(diagnosis, limit, link),
      `link: RTT ${link.rttMs} ms, ${link.mbit} Mbit/s per direction (bench/linkProxy.mjs); self-check: ${calibration.rows.map((x) => `${x.what} ${x.measuredMs.toFixed(1)} ms (expected ${x.expectedMs.toFixed(1)})`).join('; ')}`,
      'ratio = ostree time / our time, both whole processes; the limit multiples of ours use the pull() call alone (Node start + import ≈ 0.2 s more)',
      `peak RSS: ours ${fmtRss(d.rssKb)} (delta) / ${fmtRss(o.rssKb)} (objects); ostree ${fmtRss(summary['delta/ostree'].rssKb)} / ${fmtRss(oRef.rssKb)}`,
    ],
  };
}

await runStandalone(import.meta.url, bench);
