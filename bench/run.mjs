#!/usr/bin/env node
// node bench/run.mjs [summary|objects|sha256|pull|recording|requests|cli|mirrors|adaptive|field …]
//
// node bench/run.mjs --report   re-renders bench/out/results.md from results.json
//
// Runs each benchmark file (bench/NAME.bench.mjs) in its own Node process, side by side with
// its reference tool, prints the tables and a recap, and writes bench/out/results.json
// (merged with earlier results of benchmarks not run this time) and bench/out/results.md
// (the tables in the shape BENCHMARKS.md uses). `npm run bench` builds first.
//
// (The runtimes and xz/zstd decoders, and the whole-process field pulls, are their own scripts:
// node bench/runtime.bench.mjs; field also runs from here, when named.)
//
// Knobs: BENCH_REPS / BENCH_WARMUP override repetitions; BENCH_PULL_RTT / BENCH_PULL_MBIT set the pull
// benchmark's emulated link (default 20 ms, 400 Mbit/s); BENCH_QUIET_WAIT=SECONDS waits (up to that
// long) before each benchmark until other processes use under 15 % of the CPUs. The CPU share
// other processes used just before each benchmark is recorded either way (`otherCpuBefore`).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BENCH, cpuBusy, DIST, fmtMs, fmtRatio, machine, measureCmd, OUT } from './lib/harness.mjs';
import { markdown } from './lib/report.mjs';

const ALL = ['summary', 'objects', 'sha256', 'pull', 'recording', 'requests', 'cli', 'mirrors', 'adaptive'];
// Run only when named: `field` pulls a ~1 GB repository many times (tens of minutes).
const OPT_IN = ['field'];
if (process.argv.includes('--report')) {
  // Re-render bench/out/results.md from results.json without running anything.
  const saved = JSON.parse(readFileSync(join(OUT, 'results.json'), 'utf8'));
  writeFileSync(join(OUT, 'results.md'), markdown(saved.machine, saved.benchmarks));
  console.log(`wrote ${join(OUT, 'results.md')}`);
  process.exit(0);
}
const chosen = process.argv.slice(2).filter((a) => !a.startsWith('-'));
for (const c of chosen) {
  if (!ALL.includes(c) && !OPT_IN.includes(c)) {
    console.error(`unknown benchmark "${c}"; choose from: ${[...ALL, ...OPT_IN].join(', ')}`);
    process.exit(2);
  }
}
const names = chosen.length > 0 ? chosen : ALL;
if (!existsSync(DIST)) {
  console.error(`${DIST} is missing: run \`npm run build\` (or \`npm run bench\`, which builds first)`);
  process.exit(1);
}
mkdirSync(OUT, { recursive: true });

const info = machine();
const floor = measureCmd('true', [], { warmup: 3, reps: 11 });
info.spawnFloorMs = Number(floor.median.toFixed(2));
console.log(
  `machine: ${info.cores} cores, ${info.cpu}, ${info.memoryGiB} GiB, ${info.os}; Node ${info.node}; ostree ${info.tools.ostree}; ${info.tools.xz}; ${info.tools.sha256sum}`,
);
console.log(`process spawn floor (\`true\` via GNU time, from this Node process): ${fmtMs(floor.median)}`);

const resultsFile = join(OUT, 'results.json');
let previous = {};
try {
  previous = JSON.parse(readFileSync(resultsFile, 'utf8')).benchmarks ?? {};
} catch {}

const results = {};
const failed = [];
const started = Date.now();
for (const name of names) {
  const json = join(OUT, `${name}.result.json`);
  rmSync(json, { force: true });
  const quietWait = Number(process.env.BENCH_QUIET_WAIT ?? 0) * 1000;
  let busy = await cpuBusy(1000);
  const waitStart = Date.now();
  while (busy !== null && busy > 0.15 && Date.now() - waitStart < quietWait) {
    console.log(`(${name}: other processes use ${(busy * 100).toFixed(0)} % of the CPUs; waiting)`);
    busy = await cpuBusy(5000);
  }
  if (busy !== null && busy > 0.15) console.log(`(${name}: other processes use ${(busy * 100).toFixed(0)} % of the CPUs: expect noise)`);
  const t = Date.now();
  const r = spawnSync(process.execPath, ['--expose-gc', join(BENCH, `${name}.bench.mjs`), '--json', json], { stdio: 'inherit' });
  if (r.status !== 0 || !existsSync(json)) {
    console.error(`\nbenchmark ${name} failed (${r.status ?? r.signal})`);
    failed.push(name);
    continue;
  }
  results[name] = { ...JSON.parse(readFileSync(json, 'utf8')), date: new Date().toISOString(), otherCpuBefore: busy };
  rmSync(json, { force: true });
  console.log(`(${name}: ${((Date.now() - t) / 1000).toFixed(0)} s)`);
}

const merged = { ...previous, ...results };
writeFileSync(resultsFile, `${JSON.stringify({ machine: info, updated: new Date().toISOString(), benchmarks: merged }, null, 2)}\n`);
writeFileSync(join(OUT, 'results.md'), markdown(info, merged));

console.log(`\n## recap (speed ratio = reference time / our time; > 1: ours is faster)`);
for (const [name, res] of Object.entries(results)) {
  for (const r of res.rows) {
    if (!r.ref || !r.ours) continue;
    const t = r.target ? `  [${r.target.met ? 'met' : 'MISSED'}: ${r.target.text}]` : '';
    console.log(
      `${name.padEnd(8)} ${r.case.slice(0, 70).padEnd(70)} ${fmtMs(r.ours.median).padStart(9)} vs ${fmtMs(r.ref.median).padStart(9)}  ${fmtRatio(r.ratio).padStart(7)}${t}`,
    );
  }
}
console.log(`\ntotal ${((Date.now() - started) / 1000).toFixed(0)} s; wrote ${resultsFile} and results.md`);
if (failed.length > 0) {
  console.error(`failed: ${failed.join(', ')}`);
  process.exit(1);
}
