/**
 * Memory bounded by design, not by repository size (issue #15): the CLI, as a user runs it,
 * pulls a repository of more than 20,000 objects made by the real ostree — with large files
 * that travel as the from-scratch delta's fallbacks, like a runtime's big libraries — from
 * nginx into a bare-user-only repository, fresh via the delta and fresh without deltas. Its
 * peak RSS (measured by the kernel, not timed) must stay under a measured ceiling per case, and
 * the pull must be complete (ref written, every object present, `ostree fsck` clean).
 *
 * The ceilings are what this code reaches with a margin, so that a change that makes memory
 * grow again fails here. The goal for every pull is 160 MB: the delta pull is under it,
 * here and in the field over the emulated link; the no-delta pull is not (see BENCHMARKS.md,
 * "Where our peak RSS goes").
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { CLI_BIN } from '../support/cli.js';
import { type FieldRepo, fieldRepo } from '../support/fieldRepo.js';
import { type NginxServer, startNginx } from '../support/nginx.js';
import { fsck } from '../support/ostree.js';
import { runWithPeakRss } from '../support/peakRss.js';
import { describeWithTools } from '../support/tools.js';

/** Measured ceilings, bytes (libostree: 24–114 MB on repositories of this size). */
const CEILING = { delta: 175_000_000, 'no-delta': 230_000_000 } as const;

describeWithTools(['nginx', 'ostree', 'python3'], 'peak memory of a 20,000-object pull stays under its measured ceiling', () => {
  let made: FieldRepo;
  let nginx: NginxServer;
  let tmp: string;

  beforeAll(async () => {
    // 20,000 small files over 400 directories plus two 48 MiB and one 24 MiB libraries.
    made = fieldRepo({ files: 20_000, dirs: 400, largeMiB: [48, 48, 24] });
    expect(made.objects).toBeGreaterThan(20_000);
    nginx = await startNginx(made.repo);
    tmp = mkdtempSync(join(tmpdir(), 'ffetch-scale-'));
  }, 900_000);

  afterAll(async () => {
    await nginx?.stop();
    if (tmp !== undefined) rmSync(tmp, { recursive: true, force: true });
  });

  for (const how of ['delta', 'no-delta'] as const) {
    test(`fresh pull, ${how}: peak RSS under ${CEILING[how] / 1e6} MB, and complete`, async () => {
      const dest = join(tmp, how);
      const run = await runWithPeakRss(process.execPath, [
        CLI_BIN,
        'pull',
        nginx.url,
        made.ref,
        '--repo',
        dest,
        '--mode',
        'bare-user-only',
        ...(how === 'no-delta' ? ['--no-deltas'] : []),
      ]);
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      expect(readFileSync(join(dest, 'refs', 'remotes', 'origin', made.ref), 'utf8').trim()).toBe(made.commit);
      let objects = 0;
      for (const d of readdirSync(join(dest, 'objects'))) objects += readdirSync(join(dest, 'objects', d)).length;
      expect(objects).toBe(made.objects);
      expect(fsck(dest)).toContain('Verifying content integrity');
      console.log(`[scale] ${how}: ${made.objects} objects, peak RSS ${(run.peakRss / 1e6).toFixed(1)} MB`);
      expect(run.peakRss).toBeLessThan(CEILING[how]);
    }, 600_000);
  }
});
