/**
 * Total outages in the middle of a pull (every request answered 503, as a CDN or origin that is
 * down for everyone), default retry policy:
 * - one of RELIABILITY_OUTAGE_MS (default 30 s): the pull waits it out and completes, fsck-clean
 *   and equal to the source, and the retry budget keeps what it sends meanwhile to roughly its
 *   refill rate (10 a second) plus the reserve;
 * - one that never ends: the pull fails with ERR_STALLED within the stall window
 *   (RELIABILITY_STALL_MS, default 5 s here; 120 s is the library's default) + 10 s, in one line;
 *   the repository stays consistent (every object in it verifies, the commit marked partial) and
 *   a rerun once the server is back fetches none of the objects already there;
 * - the CLI's `--stall-timeout`: one error line, exit 1.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, expect, test } from 'vitest';
import { FlathubFetchError, pull } from '../../packages/client/src/index.js';
import { RepoServer, withOutages } from '../../packages/client/src/testing/index.js';
import { REPO_ROOT } from '../support/fixtures.js';
import { makeRepo } from '../support/makeRepo.js';
import { checkoutManifest, fsck } from '../support/ostree.js';
import { corruptObjects, objectPaths } from '../support/repoChecks.js';
import { describeWithTools } from '../support/tools.js';

const OUTAGE_MS = Number(process.env.RELIABILITY_OUTAGE_MS ?? 30_000);
const STALL_MS = Number(process.env.RELIABILITY_STALL_MS ?? 5000);
const BIN = join(REPO_ROOT, 'packages', 'cli', 'dist', 'bin.js');
const none = () => null;

describeWithTools(['ostree'], 'total outages mid-pull', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'ffetch-outage-'));
  const made = makeRepo({ files: 1200, dirs: 24 });
  const expected = checkoutManifest(made.repo, made.ref);
  afterAll(() => {
    rmSync(tmp, { recursive: true, force: true });
    made.remove();
  });

  test(`a ${OUTAGE_MS / 1000} s outage is ridden out`, { timeout: OUTAGE_MS * 3 + 60_000 }, async () => {
    const faults = withOutages(none, [{ afterRequests: 400, durationMs: OUTAGE_MS }]);
    const server = await RepoServer.start(made.repo, { faults });
    try {
      const repo = join(tmp, 'ridden-out');
      const result = await pull({ url: server.url, ref: made.ref, repo, deltas: 'never' });
      expect(faults.state()).toMatchObject({ started: 1, ended: 1 });
      expect(result.commit).toBe(made.commit);
      expect(corruptObjects(repo)).toEqual([]);
      fsck(repo);
      expect(checkoutManifest(repo, made.ref)).toEqual(expected);
      // What the outage cost the server: the reserve (100; successes before the outage earn no
      // more), the requests in flight when it began (128) and the budget's refill of 10 a
      // second, for the outage and the longest backoff after it (≤ 30 s, the requests then
      // waiting come back one by one).
      const during = server.log.filter((e) => e.fault === 'status').length;
      if (process.env.RELIABILITY_VERBOSE)
        console.log(JSON.stringify({ outageMs: OUTAGE_MS, requestsDuringOutage: during, ms: result.durationMs }));
      expect(during).toBeGreaterThan(0);
      expect(during).toBeLessThanOrEqual(100 + 128 + (OUTAGE_MS / 1000 + 5) * 10 * 1.2);
    } finally {
      await server.close();
    }
  });

  test('an outage that never ends fails after the stall window, in one line; a rerun resumes', {
    timeout: STALL_MS + 120_000,
  }, async () => {
    const faults = withOutages(none, [{ afterRequests: 400, durationMs: Number.POSITIVE_INFINITY }]);
    const server = await RepoServer.start(made.repo, { faults });
    const repo = join(tmp, 'stalled');
    try {
      const err = await pull({ url: server.url, ref: made.ref, repo, deltas: 'never', http: { stallTimeout: STALL_MS } }).then(
        () => null,
        (e: unknown) => e,
      );
      const failedAt = performance.now();
      expect(err).toBeInstanceOf(FlathubFetchError);
      const e = err as FlathubFetchError;
      expect(e.code).toBe('ERR_STALLED');
      expect(e.message).not.toContain('\n');
      expect(e.message).toMatch(
        /stalled: nothing received or verified for \d+(\.\d)? s \(stall timeout \d+(\.\d+)? s\) with \d+ requests? pending; last failure: GET http:\/\/.*: HTTP 503$/,
      );
      // The window counts from the last success, which came before the outage began.
      const began = faults.state().firstStart as number;
      if (process.env.RELIABILITY_VERBOSE)
        console.log(JSON.stringify({ stallMs: STALL_MS, failedAfterOutageMs: Math.round(failedAt - began) }));
      expect(failedAt - began).toBeGreaterThanOrEqual(STALL_MS - 1000);
      expect(failedAt - began).toBeLessThanOrEqual(STALL_MS + 10_000);
    } finally {
      await server.close();
    }
    // Consistent: every object present verifies, the commit is still marked partial.
    expect(corruptObjects(repo)).toEqual([]);
    expect(existsSync(join(repo, 'state', `${made.commit}.commitpartial`))).toBe(true);
    const had = objectPaths(repo);
    expect(had.size).toBeGreaterThan(100);
    // The server is back: the rerun fetches only what is missing.
    const back = await RepoServer.start(made.repo);
    try {
      const result = await pull({ url: back.url, ref: made.ref, repo, deltas: 'never' });
      expect(result.commit).toBe(made.commit);
      const refetched = back.log.filter((x) => had.has(x.path)).map((x) => x.path);
      expect(refetched).toEqual([]);
      fsck(repo);
      expect(checkoutManifest(repo, made.ref)).toEqual(expected);
    } finally {
      await back.close();
    }
  });

  test('the CLI: --stall-timeout, one error line, exit 1', async () => {
    const server = await RepoServer.start(made.repo, { faults: () => ({ kind: 'status', status: 503 }) });
    try {
      const r = await promisify(execFile)(
        process.execPath,
        [BIN, 'pull', server.url, made.ref, '--repo', join(tmp, 'cli'), '--stall-timeout', '2'],
        {
          env: { ...process.env, NO_COLOR: '1' },
          timeout: 30_000,
        },
      ).then(
        () => ({ code: 0, stderr: '' }),
        (e: { code: number; stderr: string }) => e,
      );
      expect(r.code).toBe(1);
      const lines = r.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(
        /^flathub-fetch pull: http:\/\/127\.0\.0\.1:\d+\/: stalled: nothing received or verified for 2(\.\d)? s \(stall timeout 2 s\) with \d requests? pending; last failure: GET http:\/\/127\.0\.0\.1:\d+\/(config|summary|summary\.idx): HTTP 503$/,
      );
    } finally {
      await server.close();
    }
  });
});
