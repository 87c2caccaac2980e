// node bench/lib/pull-task.mjs '{"url":…,"ref":…,"repo":…,"deltas":…,…}' — one `pull()` of
// @flathub-fetch/client (packages/client/dist) in a fresh process, for the pull benchmark.
//
// Prints JSON: `ms` (the pull() call alone, measured here), `durationMs` (the library's own),
// `rssKb` (this process's peak RSS), `cpuMs` (user and system CPU of the whole process, all
// threads, start and import included), the strategy, object counts, the plan's reason, the
// progress phases' start times, the progress samples ([ms, phase, objects done, bytes done],
// throttled by the library to ~10 per second), and every request record condensed (times relative to the
// start of the pull() call).
import { pathToFileURL } from 'node:url';
import { DIST } from './harness.mjs';

const spec = JSON.parse(process.argv[2]);
const { pull } = await import(pathToFileURL(DIST).href);

const phases = [];
const progress = [];
let lastPhase = null;
const t0 = performance.now();
const result = await pull({
  ...spec,
  onEvent: (e) => {
    if (e.type !== 'progress') return;
    const at = Number((performance.now() - t0).toFixed(1));
    const p = e.progress;
    progress.push([at, p.phase, p.objects.done, p.bytes.done]);
    if (p.phase !== lastPhase) {
      lastPhase = p.phase;
      phases.push({ phase: lastPhase, at });
    }
  },
});
const ms = performance.now() - t0;
// Record times are ms from performance.timeOrigin, like t0.
const rel = (v) => (v === null || v === undefined ? null : Number((v - t0).toFixed(2)));
const requests = result.requests.map((r) => ({
  id: r.id,
  purpose: r.purpose,
  path: new URL(r.url).pathname,
  status: r.status,
  attempt: r.attempt,
  wireBytes: r.wireBytes,
  connectionId: r.connectionId,
  reused: r.connectionReused,
  error: r.error?.class ?? null,
  t: Object.fromEntries(Object.entries(r.timings).map(([k, v]) => [k, rel(v)])),
}));
process.stdout.write(
  JSON.stringify({
    ms,
    durationMs: result.durationMs,
    rssKb: process.resourceUsage().maxRSS,
    cpuMs: (({ user, system }) => ({ user: user / 1000, system: system / 1000 }))(process.cpuUsage()),
    commit: result.commit,
    strategy: result.strategy,
    reason: result.plan.reason,
    objects: result.objects,
    partsSkipped: result.partsSkipped,
    phases,
    progress,
    requests,
  }),
);
