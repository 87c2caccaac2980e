/**
 * A 50%-503 episode at a slow origin (every request takes 40 ms; half of them answer 503): a
 * client with adaptive concurrency sends at most half the requests per second a fixed-concurrency
 * client sends, and both pulls complete with verified content. The ratio is a behavioural
 * property (AIMD keeps ~1–2 requests in flight where the fixed client keeps 16), not a timing.
 */
import { afterAll, expect, onTestFinished, test } from 'vitest';
import { pull } from '../../packages/client/src/index.js';
import { randomFaults, RepoServer } from '../../packages/client/src/testing/index.js';
import { makeRepo } from '../support/makeRepo.js';
import { checkoutManifest, fsck } from '../support/ostree.js';
import { describeWithTools } from '../support/tools.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

describeWithTools(['ostree'], 'adaptive concurrency under a 50%-503 episode', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'ffetch-adaptive-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  test('the adaptive client sends ≤ half the req/s of a fixed client; both pulls complete', { timeout: 120_000 }, async () => {
    const made = makeRepo({ files: 120, dirs: 2 });
    onTestFinished(() => made.remove());
    const expected = checkoutManifest(made.repo, made.ref);
    const run = async (concurrency: 'adaptive' | 'fixed') => {
      const server = await RepoServer.start(made.repo, {
        // A slow origin: every request spends 40 ms before it answers (503 or not).
        onRequest: async () => {
          await new Promise((r) => setTimeout(r, 40));
          return false;
        },
        faults: randomFaults({ seed: 11, p503: 0.5, maxFaultsPerPath: 12 }),
      });
      try {
        const limits: number[] = [];
        const repo = join(tmp, concurrency);
        const result = await pull({
          url: server.url,
          ref: made.ref,
          repo,
          deltas: 'never',
          http: {
            maxInFlight: 16,
            connections: 16,
            concurrency,
            retry: { retries: 15, minDelay: 1, maxDelay: 4 },
            onConcurrencyChange: (c) => limits.push(c.limit),
          },
        });
        expect(result.commit).toBe(made.commit);
        fsck(repo);
        expect(checkoutManifest(repo, made.ref)).toEqual(expected);
        // The episode: the file fetches (the metadata before them is one request at a time either way).
        const log = server.log.filter((e) => e.path.endsWith('.filez'));
        const spanS = ((log.at(-1)?.at ?? 0) - (log[0]?.at ?? 0)) / 1000;
        const served503 = log.filter((e) => e.status === 503).length;
        return {
          rate: log.length / spanS,
          requests: log.length,
          served503,
          limits,
          minLimit: Math.min(...result.requests.map((r) => r.inFlightLimit ?? 16)),
        };
      } finally {
        await server.close();
      }
    };
    const fixed = await run('fixed');
    const adaptive = await run('adaptive');
    // Both saw the episode: about half of all requests were 503s.
    for (const r of [fixed, adaptive]) expect(r.served503 / r.requests).toBeGreaterThan(0.3);
    if (process.env.RELIABILITY_VERBOSE)
      console.log(
        JSON.stringify({ fixed: { ...fixed, limits: fixed.limits.length }, adaptive: { ...adaptive, limits: adaptive.limits.length } }),
      );
    expect(fixed.limits).toEqual([]);
    expect(adaptive.minLimit).toBeLessThanOrEqual(2);
    expect(adaptive.rate).toBeLessThanOrEqual(fixed.rate / 2);
  });
});
