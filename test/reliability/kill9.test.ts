/**
 * kill -9 of the CLI at random moments of a pull (loose objects or a static delta, alternately; into archive or bare-user-only repositories),
 * many times. After each kill the repository is consistent — every file under objects/ verifies
 * against its name, and `ostree fsck` passes or the commit is still marked partial — and the next
 * pull completes without requesting any object that was already written (the server's request
 * log says so). RELIABILITY_KILLS sets the count (default 6; RELIABILITY.md records 50).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { pull } from '../../packages/client/src/index.js';
import { type FaultPolicy, RepoServer, seededRandom } from '../../packages/client/src/testing/index.js';
import { REPO_ROOT } from '../support/fixtures.js';
import { makeRepo } from '../support/makeRepo.js';
import { checkoutManifest, fsck } from '../support/ostree.js';
import { corruptObjects, objectPaths } from '../support/repoChecks.js';
import { describeWithTools } from '../support/tools.js';

const KILLS = Number(process.env.RELIABILITY_KILLS ?? 6);
const BIN = join(REPO_ROOT, 'packages/cli/dist/bin.js');
/** Slow bodies spread the pull over a second or two, so kills land in every phase. */
const slow: FaultPolicy = (ctx) =>
  ctx.path.startsWith('/objects/') || ctx.path.startsWith('/deltas/') ? { kind: 'slow', bytesPerSecond: 60_000 } : null;

/** Waits until the child's pull has reached the server (its process has started and opened the remote). */
async function firstRequest(server: RepoServer, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (server.log.length === 0 && child.exitCode === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
}

describeWithTools(['ostree'], `kill -9 during pulls (${KILLS} times)`, () => {
  const tmp = mkdtempSync(join(tmpdir(), 'ffetch-kill9-'));
  const made = makeRepo({ files: 160, dirs: 4, delta: true });
  afterAll(() => {
    rmSync(tmp, { recursive: true, force: true });
    made.remove();
  });
  const expected = checkoutManifest(made.repo, made.ref);

  test('the repository stays consistent and the next pull re-fetches no verified object', {
    timeout: 60_000 + KILLS * 16_000,
  }, async () => {
    const rand = seededRandom(4242);
    // How long an uninterrupted CLI pull takes in each mode, from its first request to its exit:
    // kills land uniformly within that window.
    const duration: Record<string, number> = {};
    for (const mode of ['deltas', 'objects']) {
      const server = await RepoServer.start(made.repo, { faults: slow });
      const child = spawn(
        process.execPath,
        [BIN, 'pull', server.url, made.ref, '--repo', join(tmp, `full-${mode}`), ...(mode === 'objects' ? ['--no-deltas'] : [])],
        { stdio: 'ignore' },
      );
      const exited = new Promise((r) => child.once('exit', r));
      await firstRequest(server, child);
      const started = Date.now();
      expect(await exited).toBe(0);
      duration[mode] = Date.now() - started;
      await server.close();
    }
    const stats = { kills: 0, finishedFirst: 0, partialAfterKill: 0, objectsKept: 0, refetched: 0 };
    // Until KILLS kills have landed mid-pull (a pull that finished first does not count).
    for (let i = 0; stats.kills < KILLS && i < KILLS * 2; i++) {
      const server = await RepoServer.start(made.repo, { faults: slow });
      try {
        const repo = join(tmp, `repo-${i}`);
        const deltas = i % 2 === 0 ? [] : ['--no-deltas'];
        // Every other pair of iterations writes a bare-user-only repository (plain files, not .filez).
        const mode = Math.floor(i / 2) % 2 === 1 ? ['--mode', 'bare-user-only'] : [];
        const child = spawn(process.execPath, [BIN, 'pull', server.url, made.ref, '--repo', repo, ...deltas, ...mode], { stdio: 'ignore' });
        const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
        await firstRequest(server, child);
        await new Promise((r) => setTimeout(r, rand() * (duration[deltas.length > 0 ? 'objects' : 'deltas'] ?? 1000)));
        const killed = child.kill('SIGKILL');
        const code = await exited;
        if (killed && code === null) stats.kills++;
        else stats.finishedFirst++;

        // Consistent: every object verifies, nothing half-written in objects/.
        expect(corruptObjects(repo), `iteration ${i}`).toEqual([]);
        const partial = existsSync(join(repo, 'state', `${made.commit}.commitpartial`));
        if (partial) stats.partialAfterKill++;
        if (existsSync(join(repo, 'config'))) {
          let fsckOk = true;
          try {
            fsck(repo);
          } catch {
            fsckOk = false;
          }
          expect(fsckOk || partial, `iteration ${i}: fsck passes or the commit is marked partial`).toBe(true);
        }

        // Resume: nothing already written is requested again.
        const written = objectPaths(repo);
        stats.objectsKept += written.size;
        const n = server.log.length;
        server.faults = undefined;
        await pull({ url: server.url, ref: made.ref, repo, deltas: deltas.length > 0 ? 'never' : 'prefer' });
        const again = server.log.slice(n).filter((e) => written.has(e.path));
        stats.refetched += again.length;
        expect(
          again.map((e) => e.path),
          `iteration ${i}: re-fetched`,
        ).toEqual([]);
        fsck(repo);
        expect(existsSync(join(repo, 'state', `${made.commit}.commitpartial`))).toBe(false);
        expect(checkoutManifest(repo, made.ref)).toEqual(expected);
      } finally {
        await server.close();
      }
    }
    if (process.env.RELIABILITY_VERBOSE) console.log(JSON.stringify(stats));
    expect(stats.kills).toBe(KILLS);
  });
});
