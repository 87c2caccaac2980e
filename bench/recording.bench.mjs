// Cost of full request recording (per-attempt wire tracing + RequestRecords + progress events)
// against recording off (`http: { recording: false }`), on the no-delta pull of the ~3,200-object
// repository of the pull benchmark, served by nginx on loopback. Runs alternate on/off so drift
// hits both sides; wall time and this process's CPU time (user + system; nginx runs apart).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startNginx } from '../test/support/nginx.ts';
import { ensureBuilt, loadClient, OUT, reps, row, runStandalone, stats } from './lib/harness.mjs';

export default async function bench() {
  const client = await loadClient();
  const info = ensureBuilt('make-pull-repo.sh', join(OUT, 'pull-repo'));
  const nginx = await startNginx(join(OUT, 'pull-repo', 'repo'));
  const { warmup, reps: n } = reps({ warmup: 1, reps: 5 });
  const wall = { on: [], off: [] };
  const cpu = { on: [], off: [] };
  let requests = 0;
  try {
    for (let i = 0; i < warmup + n; i++) {
      for (const mode of i % 2 === 0 ? ['on', 'off'] : ['off', 'on']) {
        const dir = mkdtempSync(join(tmpdir(), 'ffetch-rec-'));
        globalThis.gc?.();
        const c0 = process.cpuUsage();
        const t0 = process.hrtime.bigint();
        let events = 0;
        const result = await client.pull({
          url: nginx.url,
          ref: info.ref,
          repo: join(dir, 'repo'),
          deltas: 'never',
          http: { recording: mode === 'on' },
          onEvent: () => {
            events++;
          },
        });
        const ms = Number(process.hrtime.bigint() - t0) / 1e6;
        const c = process.cpuUsage(c0);
        rmSync(dir, { recursive: true, force: true });
        if (mode === 'on') {
          requests = result.requests.length;
          if (requests < 3000) throw new Error(`recording on: only ${requests} records`);
        } else if (result.requests.length !== 0) {
          throw new Error('recording off still produced records');
        }
        if (i >= warmup) {
          wall[mode].push(ms);
          cpu[mode].push((c.user + c.system) / 1000);
        }
        void events;
      }
    }
  } finally {
    await nginx.stop();
  }
  const w = { on: stats(wall.on), off: stats(wall.off) };
  const c = { on: stats(cpu.on), off: stats(cpu.off) };
  const pct = (a, b) => `${(((a - b) / b) * 100).toFixed(1)} %`;
  /** One row: recording on vs off, met when the overhead is at most `bound` (a fraction). */
  const overheadRow = (what, s, bound, unit) => {
    const over = pct(s.on.median, s.off.median);
    return row(
      what,
      { label: 'recording on', median: s.on.median, min: s.on.min },
      { label: 'recording off', median: s.off.median, min: s.off.min },
      `overhead ${over}`,
      { met: (s.on.median - s.off.median) / s.off.median <= bound, text: `≤ ${bound * 100} % ${unit}: ${over}` },
    );
  };
  return {
    name: 'recording',
    title: 'full request recording vs recording off, no-delta pull (nginx, loopback)',
    input: { ref: info.ref, requests },
    rows: [overheadRow('wall time', w, 0.05, 'wall'), overheadRow('CPU time (this process)', c, 0.1, 'CPU')],
    notes: [
      `${requests} requests per pull; runs alternate on/off; wall samples on ${wall.on.map((x) => x.toFixed(0)).join(', ')}, off ${wall.off.map((x) => x.toFixed(0)).join(', ')}`,
    ],
  };
}

await runStandalone(import.meta.url, bench);
