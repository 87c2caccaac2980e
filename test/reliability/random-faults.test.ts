/**
 * Many pulls, each through its own RepoServer injecting random faults — 20% 503, 5% resets
 * mid-body, 5% first-byte stalls past the client's timeout, 1% corrupt bodies (on the
 * content-addressed paths, objects/ and deltas/, where corruption is detectable; an unsigned
 * summary is not) — at most 3 per path. Every pull completes with content equal to the source's;
 * no object that fails verification is ever written; every request the server saw is a record;
 * and the report's retries, by cause, equal the faults the server log says it injected (pulls are
 * pipelined: a request behind a torn connection is a requeue, and a fault injected into a
 * response it never got is not seen by the client, at most one per requeue). RELIABILITY_PULLS
 * sets the count (default 8; RELIABILITY.md records 100). Alternate pulls use the from-scratch
 * static delta.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { buildReport, pull, type RequestRecord } from '../../packages/client/src/index.js';
import { PIPELINE_REQUEUED } from '../../packages/client/src/http/PipelinedConnection.js';
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

/**
 * Paths whose records and server log entries disagree: each request the server saw is a record;
 * a record the server never saw must be a requeued one (written on a connection the server had
 * already closed, behind a response it reset).
 */
function unmatched(records: readonly RequestRecord[], log: readonly RepoServerLogEntry[]): string[] {
  const count = (xs: string[]) => xs.reduce((m, x) => m.set(x, (m.get(x) ?? 0) + 1), new Map<string, number>());
  const sent = count(records.map((r) => new URL(r.url).pathname));
  const requeued = count(records.filter((r) => r.error?.code === PIPELINE_REQUEUED).map((r) => new URL(r.url).pathname));
  const seen = count(log.map((e) => e.path));
  const paths = new Set([...sent.keys(), ...seen.keys()]);
  return [...paths].filter((p) => {
    const unseen = (sent.get(p) ?? 0) - (seen.get(p) ?? 0);
    return unseen < 0 || unseen > (requeued.get(p) ?? 0);
  });
}

const sum = (o: Record<string, number>) => Object.values(o).reduce((a, b) => a + b, 0);

/** Retries after a requeue count as `reset` in the report: moved to their own key. */
function requeuedApart(byReason: Record<string, number>, requeued: number): Record<string, number> {
  if (requeued === 0) return byReason;
  const { reset = 0, ...rest } = byReason;
  return reset > requeued ? { ...rest, reset: reset - requeued, requeued } : { ...rest, requeued };
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
    const totals = { pulls: 0, requests: 0, faults: 0, seen: 0, retries: 0, requeued: 0, corruptWritten: 0, ms: 0 };
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
          // Pipelined (the default): requests written behind one whose connection is torn down
          // end as ERR_PIPELINE_REQUEUED attempts and are retried (undici would write them again
          // unrecorded), so each one the server saw is a record.
          // 1 s: at 200 ms a loaded machine's prompt answers timed out too (retries no fault caused).
          http: { timeouts: { firstByte: 1000 }, retry: { retries: 8, minDelay: 1, maxDelay: 10 } },
        });
        totals.ms += performance.now() - started;
        expect(result.commit).toBe(made.commit);
        expect(corruptObjects(repo)).toEqual([]);
        fsck(repo);
        expect(checkoutManifest(repo, made.ref)).toEqual(expected);
        // The server logs a response when it ends; a stalled one ends when the client hangs up.
        await expect.poll(() => unmatched(result.requests, server.log), { timeout: 5000 }).toEqual([]);
        const report = buildReport(result);
        // Retries of requests that were behind a torn connection (no fault of their own) are their
        // own cause; every other retry is an injected fault. A fault injected into a response the
        // client never got (its request was behind a torn one) is not seen: at most one per requeue.
        const requeued = result.requests.filter((r) => r.error?.code === PIPELINE_REQUEUED);
        for (const r of requeued) expect(r.willRetry).toBe(true);
        const want = expectedRetries(server.log);
        const { requeued: requeuedRetries = 0, ...got } = cutOff(requeuedApart(report.retries.byReason, requeued.length));
        expect(requeuedRetries).toBe(requeued.length);
        if (requeued.length === 0) expect(got, `pull ${i}: retries by cause = injected faults`).toEqual(want);
        else {
          for (const [cause, n] of Object.entries(got)) expect(n, `pull ${i}: ${cause} retries`).toBeLessThanOrEqual(want[cause] ?? 0);
          expect(sum(want) - sum(got), `pull ${i}: injected faults not seen`).toBeLessThanOrEqual(requeued.length);
        }
        expect(report.requests.abandoned).toBe(0);
        totals.pulls++;
        totals.requests += report.requests.total;
        totals.retries += report.retries.total;
        totals.faults += server.log.filter((e) => e.fault !== null).length;
        totals.seen += sum(got);
        totals.requeued += requeued.length;
        for (const [k, n] of Object.entries(want)) byCause[k] = (byCause[k] ?? 0) + n;
      } finally {
        await server.close();
      }
    }
    if (process.env.RELIABILITY_VERBOSE) console.log(JSON.stringify({ ...totals, ms: Math.round(totals.ms), byCause }));
    expect(totals.pulls).toBe(PULLS);
    expect(totals.retries).toBe(totals.seen + totals.requeued);
    expect(totals.faults - totals.seen).toBeLessThanOrEqual(totals.requeued);
  });
});
