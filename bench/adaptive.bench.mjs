// Adaptive concurrency (AIMD) vs a fixed-concurrency client during a 50%-503 episode at a slow
// origin. The origin is the library's RepoServer serving an archive repository of 400 small
// files made by the real `ostree`: every request spends 20 ms before it answers (an origin
// whose disks are busy), and half the requests (seeded) answer 503, at most 12 times per path.
// Both clients: maxInFlight 16, 16 connections, backoff 1–4 ms, 15 retries; runs interleaved.
//
// Measured at the origin (its request log): requests per second during the episode (the span of
// the file fetches: the metadata before them goes one request at a time for both), requests in
// total, the pull's wall time; and the client's lowest in-flight limit. A second case ends the
// episode after 2 s (healthy afterwards) and reports where the limit is at the end (recovery).
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DIST, loadClient, reps, row, runStandalone, stats } from './lib/harness.mjs';

const FILES = 400;
const SERVICE_MS = 20;

function makeRepo() {
  const base = mkdtempSync(join(tmpdir(), 'ffetch-adaptive-bench-'));
  const tree = join(base, 'tree');
  for (let d = 0; d < 4; d++) mkdirSync(join(tree, `d${d}`), { recursive: true });
  for (let i = 0; i < FILES; i++) writeFileSync(join(tree, `d${i % 4}`, `f${i}.txt`), `file ${i}\n`.repeat(1 + (i % 50)));
  const repo = join(base, 'repo');
  execFileSync('ostree', ['init', `--repo=${repo}`, '--mode=archive']);
  execFileSync('ostree', ['commit', `--repo=${repo}`, '--branch=bench/adaptive', `--tree=dir=${tree}`], { stdio: 'ignore' });
  execFileSync('ostree', ['summary', '-u', `--repo=${repo}`]);
  return { base, repo, ref: 'bench/adaptive' };
}

async function run(client, testing, made, concurrency, episodeMs) {
  const started = performance.now();
  const policy = testing.randomFaults({ seed: 11, p503: 0.5, maxFaultsPerPath: 12 });
  const server = await testing.RepoServer.start(made.repo, {
    onRequest: async () => {
      await new Promise((r) => setTimeout(r, SERVICE_MS));
      return false;
    },
    faults: (ctx) => (performance.now() - started < episodeMs ? policy(ctx) : null),
  });
  const dir = mkdtempSync(join(tmpdir(), 'ffetch-adaptive-run-'));
  try {
    const t0 = performance.now();
    const result = await client.pull({
      url: server.url,
      ref: made.ref,
      repo: join(dir, 'repo'),
      deltas: 'never',
      http: { maxInFlight: 16, connections: 16, concurrency, retry: { retries: 15, minDelay: 1, maxDelay: 4 } },
    });
    const ms = performance.now() - t0;
    const files = server.log.filter((e) => e.path.endsWith('.filez'));
    const span = ((files.at(-1)?.at ?? 0) - (files[0]?.at ?? 0)) / 1000;
    const report = client.buildReport(result);
    return {
      ms,
      rate: files.length / span,
      requests: server.log.length,
      served503: server.log.filter((e) => e.status === 503).length,
      minLimit: report.concurrency.minLimit,
      lastLimit: report.concurrency.lastLimit,
    };
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export default async function bench() {
  const client = await loadClient();
  const testing = await import(pathToFileURL(join(DIST, '..', 'testing', 'index.js')).href);
  const made = makeRepo();
  const { warmup, reps: n } = reps({ warmup: 0, reps: 3 });
  const samples = { fixed: [], adaptive: [], recovery: [] };
  try {
    for (let i = 0; i < warmup + n; i++) {
      for (const mode of i % 2 === 0 ? ['fixed', 'adaptive'] : ['adaptive', 'fixed']) {
        const r = await run(client, testing, made, mode, Number.POSITIVE_INFINITY);
        if (i >= warmup) samples[mode].push(r);
      }
      const r = await run(client, testing, made, 'adaptive', 2000);
      if (i >= warmup) samples.recovery.push(r);
    }
  } finally {
    rmSync(made.base, { recursive: true, force: true });
  }
  const med = (xs, k) => stats(xs.map((x) => x[k])).median;
  const s = (xs, k) => stats(xs.map((x) => x[k]));
  const rate = { fixed: med(samples.fixed, 'rate'), adaptive: med(samples.adaptive, 'rate') };
  const interval = (xs) => {
    const st = stats(xs.map((x) => 1000 / x.rate));
    return { median: st.median, min: st.min };
  };
  const share = rate.adaptive / rate.fixed;
  return {
    name: 'adaptive',
    title: 'adaptive concurrency vs fixed, 50%-503 episode at a 20 ms origin (RepoServer, loopback)',
    input: { files: FILES, serviceMs: SERVICE_MS, p503: 0.5, maxInFlight: 16 },
    rows: [
      row(
        'origin request interval during the episode',
        { label: 'adaptive', ...interval(samples.adaptive) },
        { label: 'fixed 16', ...interval(samples.fixed) },
        `origin req/s: adaptive ${rate.adaptive.toFixed(0)}, fixed ${rate.fixed.toFixed(0)} (adaptive sends ${(share * 100).toFixed(0)} %); ` +
          `lowest limit ${med(samples.adaptive, 'minLimit')}; requests adaptive ${med(samples.adaptive, 'requests')}, fixed ${med(samples.fixed, 'requests')}; ` +
          `503s served adaptive ${med(samples.adaptive, 'served503')}, fixed ${med(samples.fixed, 'served503')}`,
        { met: share <= 0.5, text: `≤ 0.5× the fixed client's req/s: ${share.toFixed(2)}×` },
      ),
      row(
        'pull wall time during the episode',
        { label: 'adaptive', median: s(samples.adaptive, 'ms').median, min: s(samples.adaptive, 'ms').min },
        { label: 'fixed 16', median: s(samples.fixed, 'ms').median, min: s(samples.fixed, 'ms').min },
        'the price of backing off: the adaptive pull completes, more slowly, while the origin gets fewer requests',
      ),
      row(
        'episode of 2 s, then healthy',
        { label: 'adaptive', median: s(samples.recovery, 'ms').median, min: s(samples.recovery, 'ms').min },
        null,
        `lowest limit ${med(samples.recovery, 'minLimit')}, limit at the end ${med(samples.recovery, 'lastLimit')} (ceiling 16)`,
      ),
    ],
    notes: [`${n} runs per case, interleaved; each pull is a fresh repository`],
  };
}

await runStandalone(import.meta.url, bench);
