// Shared benchmark machinery: in-process timing, timed child processes with peak RSS, the
// machine description, result tables. No dependencies beyond Node itself; `/usr/bin/time`
// (GNU time) is used for peak RSS when present.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const BENCH = dirname(dirname(fileURLToPath(import.meta.url)));
export const ROOT = dirname(BENCH);
export const OUT = join(BENCH, 'out');
export const DIST = join(ROOT, 'packages', 'client', 'dist', 'index.js');
export const TASK = join(BENCH, 'lib', 'task.mjs');
const TIMER = join(BENCH, 'lib', 'timer.mjs');
const GNU_TIME = '/usr/bin/time';

/** Repetitions: BENCH_REPS / BENCH_WARMUP override the per-benchmark defaults. */
export function reps(defaults) {
  return {
    warmup: process.env.BENCH_WARMUP !== undefined ? Number(process.env.BENCH_WARMUP) : defaults.warmup,
    reps: process.env.BENCH_REPS !== undefined ? Number(process.env.BENCH_REPS) : defaults.reps,
  };
}

export function stats(samples) {
  const s = [...samples].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  const median = s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
  return { median, min: s[0], max: s[s.length - 1], n: s.length, samples };
}

/** Times `fn` in this process: `warmup` untimed calls, then `reps` timed ones (ms). */
export async function measure(fn, { warmup = 2, reps: n = 7 } = {}) {
  for (let i = 0; i < warmup; i++) await fn();
  const samples = [];
  for (let i = 0; i < n; i++) {
    globalThis.gc?.();
    const t = process.hrtime.bigint();
    await fn();
    samples.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  return stats(samples);
}

let timeChecked = null;
function haveGnuTime() {
  if (timeChecked === null) timeChecked = existsSync(GNU_TIME) && spawnSync(GNU_TIME, ['-v', 'true']).status === 0;
  return timeChecked;
}

/**
 * Runs a command once: wall time (ms, measured here, process start and exit included), peak
 * RSS (KiB, from GNU time's "Maximum resident set size", null without it) and its stdout
 * when `capture` (else stdout goes to /dev/null).
 */
export function runOnce(cmd, args, { capture = false, cwd, stdin } = {}) {
  const rssFile = join(OUT, `.time-${process.pid}.txt`);
  const gnu = haveGnuTime();
  const [c, a] = gnu ? [GNU_TIME, ['-v', '-o', rssFile, cmd, ...args]] : [cmd, args];
  const t = process.hrtime.bigint();
  const r = spawnSync(c, a, {
    cwd,
    input: stdin,
    stdio: [stdin === undefined ? 'ignore' : 'pipe', capture ? 'pipe' : 'ignore', 'pipe'],
    maxBuffer: 256 * 1024 * 1024,
  });
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  if (r.status !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} exited with ${r.status ?? r.signal}: ${r.stderr?.toString().slice(0, 2000)}`);
  }
  let rssKb = null;
  if (gnu) {
    const m = /Maximum resident set size \(kbytes\): (\d+)/.exec(readFileSync(rssFile, 'utf8'));
    rssKb = m ? Number(m[1]) : null;
    rmSync(rssFile, { force: true });
  }
  return { ms, rssKb, stdout: capture ? r.stdout.toString() : null };
}

/**
 * Runs `cmd` `warmup` + `reps` times from bench/lib/timer.mjs, a small separate Node process:
 * forking from a process that holds hundreds of MB (a benchmark with its inputs loaded) costs
 * tens of milliseconds per spawn on Linux, which would be charged to the command. Returns the
 * runs `{ ms, rssKb, stdout? }`.
 */
export function timedRuns(cmd, args, { warmup = 1, reps: n = 5, cwd, capture = false } = {}) {
  const spec = JSON.stringify({ cmd, args, warmup, reps: n, cwd, capture });
  const r = spawnSync(process.execPath, [TIMER, spec], { stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 256 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: timing failed (${r.status ?? r.signal})`);
  return JSON.parse(r.stdout.toString());
}

/** Runs a command `warmup` + `reps` times; wall-time stats (ms) and median peak RSS (KiB). */
export function measureCmd(cmd, args, opts = {}) {
  const runs = timedRuns(cmd, args, opts);
  return { ...stats(runs.map((r) => r.ms)), rssKb: medianOrNull(runs.map((r) => r.rssKb)) };
}

/**
 * Runs `node bench/lib/task.mjs TASK ...args` in fresh processes. Each prints JSON
 * `{ ms, rssKb, ... }`: `ms` is the operation alone (a cold, first call), `rssKb` the
 * process's own maxRSS. Returns the process wall time stats, operation-time stats, peak RSS.
 */
export function measureTask(task, args, { warmup = 1, reps: n = 5 } = {}) {
  const runs = timedRuns(process.execPath, [TASK, task, ...args], { warmup, reps: n, capture: true }).map((r) => ({
    ...r,
    report: JSON.parse(r.stdout),
  }));
  const wall = stats(runs.map((r) => r.ms));
  return {
    ...wall,
    op: stats(runs.map((r) => r.report.ms)),
    rssKb: medianOrNull(runs.map((r) => r.rssKb ?? r.report.rssKb)),
    report: runs[0].report,
  };
}

function medianOrNull(values) {
  const v = values.filter((x) => typeof x === 'number');
  return v.length === 0 ? null : stats(v).median;
}

function firstLine(cmd, args) {
  try {
    return execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .split('\n')
      .find((l) => l.trim() !== '')
      ?.trim();
  } catch {
    return null;
  }
}

export function machine() {
  let cpu = cpus()[0]?.model ?? 'unknown';
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) cpu = m[1];
  } catch {}
  let os = null;
  try {
    os = /^PRETTY_NAME="?([^"\n]+)/m.exec(readFileSync('/etc/os-release', 'utf8'))?.[1] ?? null;
  } catch {}
  const ostree = firstLine('ostree', ['--version']) === null ? null : /Version: '([^']+)'/.exec(execFileSync('ostree', ['--version']))?.[1];
  const head = firstLine('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD']);
  let dirty = null;
  try {
    dirty = execFileSync('git', ['-C', ROOT, 'status', '--porcelain', '--', 'packages/client/src'])
      .toString()
      .split('\n')
      .filter(Boolean).length;
  } catch {}
  return {
    source: { head, uncommittedClientSrcFiles: dirty },
    cores: cpus().length,
    cpu,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    os,
    node: process.version,
    tools: {
      ostree: ostree ?? null,
      flatpak: firstLine('flatpak', ['--version']),
      xz: firstLine('xz', ['--version']),
      sha256sum: firstLine('sha256sum', ['--version']),
      openssl: firstLine('openssl', ['version']),
      gnuTime: haveGnuTime(),
    },
  };
}

function cpuTimes() {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0];
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const idle = v[3] + (v[4] ?? 0);
  return { idle, total: v.reduce((a, b) => a + b, 0) };
}

/**
 * Fraction (0–1) of all CPUs busy during `ms` while this process sleeps: the load other
 * processes put on the machine. null where /proc/stat is unreadable.
 */
export async function cpuBusy(ms = 1000) {
  try {
    const a = cpuTimes();
    await new Promise((r) => setTimeout(r, ms));
    const b = cpuTimes();
    const total = b.total - a.total;
    return total > 0 ? 1 - (b.idle - a.idle) / total : null;
  } catch {
    return null;
  }
}

/** Runs a generator script (bash) that caches its output under bench/out. */
export function ensureBuilt(script, outDir) {
  mkdirSync(OUT, { recursive: true });
  const r = spawnSync('bash', [join(BENCH, script), outDir], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) throw new Error(`${script} failed (${r.status ?? r.signal})`);
  return JSON.parse(readFileSync(join(outDir, 'info.json'), 'utf8'));
}

export async function loadClient() {
  if (!existsSync(DIST)) throw new Error(`${DIST} is missing: run \`npm run build\` first`);
  return import(pathToFileURL(DIST).href);
}

// ---- formatting ----------------------------------------------------------------------------

export function fmtMs(ms) {
  if (ms === null || ms === undefined) return '–';
  if (ms >= 1000) return `${(ms / 1000).toFixed(2)} s`;
  if (ms >= 100) return `${ms.toFixed(0)} ms`;
  if (ms >= 10) return `${ms.toFixed(1)} ms`;
  return `${ms.toFixed(2)} ms`;
}

export function fmtRss(kb) {
  return kb === null || kb === undefined ? '–' : `${(kb / 1024).toFixed(0)} MiB`;
}

export function fmtRatio(r) {
  return r === null || r === undefined || !Number.isFinite(r) ? '–' : `${r.toFixed(2)}×`;
}

/** MB/s (10^6 bytes) for `bytes` processed in `ms`. */
export function throughput(bytes, ms) {
  return bytes / 1e6 / (ms / 1000);
}

/**
 * A row: `ours` and `ref` are `{ label, median, min, rssKb?, extra? }` (ms); ratio is
 * ref.median / ours.median, i.e. our speed relative to the reference (> 1: ours is faster).
 */
export function row(name, ours, ref, notes = '', target = null) {
  return { case: name, ours, ref, ratio: ref && ours ? ref.median / ours.median : null, target, notes };
}

export function printResult(result) {
  const lines = [`\n## ${result.name}: ${result.title}`];
  if (result.input) lines.push(`input: ${JSON.stringify(result.input)}`);
  const header = ['case', 'ours (median / min)', 'ours RSS', 'reference (median / min)', 'ref RSS', 'speed ratio', 'target'];
  const body = result.rows.map((r) => [
    r.case,
    r.ours ? `${r.ours.label}: ${fmtMs(r.ours.median)} / ${fmtMs(r.ours.min)}` : '–',
    fmtRss(r.ours?.rssKb),
    r.ref ? `${r.ref.label}: ${fmtMs(r.ref.median)} / ${fmtMs(r.ref.min)}` : '–',
    fmtRss(r.ref?.rssKb),
    fmtRatio(r.ratio),
    r.target ? `${r.target.met ? 'met' : 'MISSED'} (${r.target.text})` : '',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => String(b[i]).length)));
  const fmt = (cells) => cells.map((c, i) => String(c).padEnd(widths[i])).join(' | ');
  lines.push(fmt(header), widths.map((w) => '-'.repeat(w)).join('-|-'), ...body.map(fmt));
  for (const r of result.rows) if (r.notes) lines.push(`  ${r.case}: ${r.notes}`);
  for (const n of result.notes ?? []) lines.push(`  note: ${n}`);
  console.log(lines.join('\n'));
}

/**
 * Entry point of a `*.bench.mjs` file run directly: runs it, prints its table and, with
 * `--json FILE`, writes the result there (bench/run.mjs uses that).
 */
export async function runStandalone(metaUrl, bench) {
  if (process.argv[1] !== fileURLToPath(metaUrl)) return;
  const i = process.argv.indexOf('--json');
  const started = Date.now();
  const before = loadavg()[0];
  const result = await bench();
  result.seconds = (Date.now() - started) / 1000;
  result.loadavg1 = { before, after: loadavg()[0] };
  printResult(result);
  if (i !== -1)
    writeFileSync(
      process.argv[i + 1],
      JSON.stringify(result, (_k, v) => (typeof v === 'bigint' ? v.toString() : v), 2),
    );
}
