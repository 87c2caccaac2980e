/**
 * Many pulls, each through its own RepoServer injecting random faults — 20% 503, 5% resets
 * mid-body, 5% first-byte stalls past the client's timeout, 1% corrupt bodies (on the
 * content-addressed paths, objects/ and deltas/, where corruption is detectable; an unsigned
 * summary is not) — at most 3 per path. Every pull completes with content equal to the source's;
 * no object that fails verification is ever written; and the report's retries, by cause, equal
 * the faults the server log says it injected. RELIABILITY_PULLS sets the count (default 8;
 * RELIABILITY.md records 100). Alternate pulls use the from-scratch static delta.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { buildReport, pull } from '../../packages/client/src/index.js';
import { randomFaults, RepoServer, type RepoServerLogEntry } from '../../packages/client/src/testing/index.js';
import { makeRepo } from '../support/makeRepo.js';
import { checkoutManifest, fsck } from '../support/ostree.js';
import { corruptObjects } from '../support/repoChecks.js';
import { describeWithTools } from '../support/tools.js';

const PULLS = Number(process.env.RELIABILITY_PULLS ?? 8);

/** The retry cause each injected fault must show up as in the report. */
function expectedRetries(log: readonly RepoServerLogEntry[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const e of log) {
    if (e.fault === null) continue;
    const cause = { status: String(e.status), reset: 'cut-off', 'first-byte-delay': 'first-byte-timeout', corrupt: 'checksum-mismatch' }[
      e.fault as 'status' | 'reset' | 'first-byte-delay' | 'corrupt'
    ];
    out[cause] = (out[cause] ?? 0) + 1;
  }
  return out;
}

/**
 * A connection cut mid-body shows as `reset` or as `truncated` (fewer bytes than Content-Length
 * when the stream ends cleanly), depending on when the client notices: one cause, "cut-off".
 */
function cutOff(byReason: Record<string, number>): Record<string, number> {
  const { reset = 0, truncated = 0, ...rest } = byReason;
  return reset + truncated > 0 ? { ...rest, 'cut-off': reset + truncated } : rest;
}

describeWithTools(['ostree'], `${PULLS} pulls under random faults`, () => {
  const tmp = mkdtempSync(join(tmpdir(), 'ffetch-random-faults-'));
  const made = makeRepo({ files: 30, dirs: 3, delta: true });
  afterAll(() => {
    rmSync(tmp, { recursive: true, force: true });
    made.remove();
  });
  const expected = checkoutManifest(made.repo, made.ref);

  test('every pull completes with verified content; retries by cause equal the injected faults', {
    timeout: 60_000 + PULLS * 5000,
  }, async () => {
    const totals = { pulls: 0, requests: 0, faults: 0, retries: 0, corruptWritten: 0, ms: 0 };
    const byCause: Record<string, number> = {};
    for (let i = 0; i < PULLS; i++) {
      const server = await RepoServer.start(made.repo, {
        faults: randomFaults({
          seed: 1000 + i,
          p503: 0.2,
          pReset: 0.05,
          pStall: 0.05,
          // Well past the first-byte timeout: undici's header timers tick at ~0.5 s, so a 1 s
          // timeout fires after 1–1.5 s.
          stallMs: 4000,
          pCorrupt: 0.01,
          maxFaultsPerPath: 3,
          corruptOnly: (p) => p.startsWith('/objects/') || p.startsWith('/deltas/'),
        }),
      });
      try {
        const repo = join(tmp, `pull-${i}`);
        const started = performance.now();
        const result = await pull({
          url: server.url,
          ref: made.ref,
          repo,
          deltas: i % 2 === 0 ? 'prefer' : 'never',
          // Not pipelined: when a connection is torn down (a first-byte timeout), undici re-sends
          // the requests pipelined behind the failed one without telling its caller, so they reach
          // the server twice and are recorded once (Node.js 22+'s http server logs both). Counting
          // those re-sends is open work (the pull engine's HTTP/1.1 issue).
          // 1 s: at 200 ms a loaded machine's prompt answers timed out too (retries no fault caused).
          http: { pipelining: 1, timeouts: { firstByte: 1000 }, retry: { retries: 8, minDelay: 1, maxDelay: 10 } },
        });
        totals.ms += performance.now() - started;
        expect(result.commit).toBe(made.commit);
        expect(corruptObjects(repo)).toEqual([]);
        fsck(repo);
        expect(checkoutManifest(repo, made.ref)).toEqual(expected);
        // The server logs a response when it ends; a stalled one ends when the client hangs up.
        await expect.poll(() => server.log.length).toBe(result.requests.length);
        const report = buildReport(result);
        const want = expectedRetries(server.log);
        expect(cutOff(report.retries.byReason), `pull ${i}: retries by cause = injected faults`).toEqual(want);
        expect(report.requests.abandoned).toBe(0);
        totals.pulls++;
        totals.requests += report.requests.total;
        totals.retries += report.retries.total;
        totals.faults += server.log.filter((e) => e.fault !== null).length;
        for (const [k, n] of Object.entries(want)) byCause[k] = (byCause[k] ?? 0) + n;
      } finally {
        await server.close();
      }
    }
    if (process.env.RELIABILITY_VERBOSE) console.log(JSON.stringify({ ...totals, ms: Math.round(totals.ms), byCause }));
    expect(totals.pulls).toBe(PULLS);
    expect(totals.retries).toBe(totals.faults);
  });
});
