// Mirror checks: wall time for 1, 3 and 6 mirrors (concurrency: many mirrors should take about
// as long as one), requests per mirror against --sample N, and the cost of one OpenPGP signature
// verification (OpenPGP.js, in process) against `gpgv` (spawned).
//
// The Flatpak fixture repository (test/fixtures/generated, else the committed set) is served by
// RepoServer instances in this process, each answering every request after 20 ms (an emulated
// round trip), with the default cap of 4 connections per mirror.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadClient, measure, measureCmd, OUT, reps, ROOT, row, runStandalone, stats } from './lib/harness.mjs';

const RTT_MS = 20;

export default async function bench() {
  const client = await loadClient();
  mkdirSync(OUT, { recursive: true });
  const { RepoServer } = await import(pathToFileURL(join(ROOT, 'packages', 'client', 'dist', 'testing', 'index.js')).href);
  const generated = join(ROOT, 'test', 'fixtures', 'generated');
  const fixtures = existsSync(join(generated, 'manifest.json')) ? generated : join(ROOT, 'test', 'fixtures', 'data');
  const repo = join(fixtures, 'repos', 'flatpak');
  const delayed = () => RepoServer.start(repo, { faults: () => ({ kind: 'first-byte-delay', ms: RTT_MS }) });
  const servers = await Promise.all(Array.from({ length: 7 }, delayed));
  const [primary, ...mirrors] = servers.map((s) => s.url);
  const { warmup, reps: n } = reps({ warmup: 1, reps: 5 });
  const rows = [];
  const notes = [];
  try {
    // Wall time against the number of mirrors.
    const wall = {};
    for (const count of [1, 3, 6]) {
      const samples = [];
      for (let i = 0; i < warmup + n; i++) {
        const t0 = performance.now();
        const r = await client.checkMirrors({ primary, mirrors: mirrors.slice(0, count), sample: 20 });
        const ms = performance.now() - t0;
        if (r.status !== 'pass') throw new Error(`expected pass, got ${r.status}`);
        if (i >= warmup) samples.push(ms);
      }
      wall[count] = stats(samples);
    }
    for (const count of [3, 6]) {
      const seq = { label: `${count} × one mirror (sequential)`, median: wall[1].median * count, min: wall[1].min * count };
      rows.push(
        row(
          `${count} mirrors, sample 20`,
          { label: `${count} concurrently`, median: wall[count].median, min: wall[count].min },
          seq,
          `one mirror: ${wall[1].median.toFixed(0)} ms`,
          {
            met: wall[count].median <= wall[1].median * 2,
            text: `≤ 2 × one mirror's wall time: ${(wall[count].median / wall[1].median).toFixed(2)}×`,
          },
        ),
      );
    }

    // Requests per mirror against --sample N.
    const counts = [];
    for (const sample of [0, 5, 10, 20, 40]) {
      const r = await client.checkMirrors({ primary, mirrors: mirrors.slice(0, 1), sample });
      const m = r.mirrors[0];
      const objects = m.checks
        .find((c) => c.name === 'completeness')
        .evidence.filter((e) => /^(file|dirtree|dirmeta) /.test(e.what)).length;
      counts.push({ sample, requests: m.performance.requests, objects, refs: r.primary.refs.selected.length });
    }
    const base = counts[0].requests;
    notes.push(
      `requests per mirror (sample N → requests, of which sampled objects): ${counts.map((c) => `${c.sample} → ${c.requests} (${c.objects})`).join(', ')}; ` +
        `fixed part ${base} requests for ${counts[0].refs} refs (summary files, subsummaries, commit, commitmeta, delta index, superblocks, part and fallback HEADs, 2 probes); ` +
        `the pool of distinct objects caps the sample at ${Math.max(...counts.map((c) => c.objects))}`,
    );

    // One signature: OpenPGP.js in process vs gpgv spawned.
    const dir = mkdtempSync(join(tmpdir(), 'ffetch-sigbench-'));
    try {
      const data = readFileSync(join(repo, 'summary.idx'));
      const sig = client.parseDetachedMetadata(readFileSync(join(repo, 'summary.idx.sig'))).gpgSignatures[0];
      const keyring = await client.GpgKeyring.from([readFileSync(join(fixtures, 'gpg', 'pubkey.gpg'))]);
      const ours = await measure(
        async () => {
          const c = await client.verifyGpgSignatures(data, [sig], keyring);
          if (c.verdict !== 'good') throw new Error(c.verdict);
        },
        { warmup: 3, reps: 31 },
      );
      writeFileSync(join(dir, 'data'), data);
      writeFileSync(join(dir, 'data.sig'), sig);
      const gpgv = spawnSync('gpgv', ['--version']).status === 0;
      const ref = gpgv
        ? measureCmd('gpgv', ['--keyring', join(fixtures, 'gpg', 'pubkey.gpg'), join(dir, 'data.sig'), join(dir, 'data')], {
            warmup: 2,
            reps: 11,
          })
        : null;
      rows.push(
        row(
          `verify one RSA-2048 signature over summary.idx (${data.length} bytes)`,
          { label: 'verifyGpgSignatures', median: ours.median, min: ours.min },
          ref === null ? null : { label: 'gpgv (spawned)', median: ref.median, min: ref.min },
          'ours in process (warm); gpgv includes its process start',
        ),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  } finally {
    await Promise.all(servers.map((s) => s.close()));
  }
  return {
    name: 'mirrors',
    title: `mirror checks: 1 vs 3 vs 6 mirrors, requests vs --sample, signature verification (RepoServer, ${RTT_MS} ms per request)`,
    input: { repo: repo.replace(`${ROOT}/`, ''), rttMs: RTT_MS, connectionsPerMirror: 4 },
    rows,
    notes,
  };
}

await runStandalone(import.meta.url, bench);
