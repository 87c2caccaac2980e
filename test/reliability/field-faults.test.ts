/**
 * Pulls through the field fault model (test/support/fieldFaults.ts: independent per-request
 * faults, no cap per path, ~35% of attempts failing) of two repositories made by ostree: ~3,200
 * objects and ≥ 20,000 objects, each with its from-scratch static delta. Pulls alternate delta /
 * no delta and HTTP/1.1 / HTTP/2 (HTTPS, ALPN). Every pull must end fsck-clean, equal to the
 * server's checkout, nothing unverified written, retry amplification within 1/(1−p) + 5%.
 *
 * Counts: RELIABILITY_FIELD_PULLS (3k repository, default 2) and RELIABILITY_BIG_PULLS (20k
 * repository, default 0: making it takes ostree ~2 minutes, past the CI budget of these suites;
 * RELIABILITY.md records 100 and 20). RELIABILITY_VERBOSE prints each
 * pull's figures; RELIABILITY_REPORT=FILE appends them to FILE as JSON lines.
 */
import { appendFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { amplificationBound, FIELD_FAILURE_RATE, type FieldPull, fieldFaults, fieldPull, useFieldSuite } from '../support/fieldFaults.js';
import { type FieldRepo, fieldRepo } from '../support/fieldRepo.js';
import { checkoutManifest } from '../support/ostree.js';
import type { TestCertificates } from '../support/tls.js';
import { describeWithTools } from '../support/tools.js';

const PULLS = Number(process.env.RELIABILITY_FIELD_PULLS ?? 2);
const BIG_PULLS = Number(process.env.RELIABILITY_BIG_PULLS ?? 0);
/**
 * Requests needed before amplification is held to the bound: its standard deviation over N
 * requests is about 0.9/√N at p = 0.35, so from 2,000 on the 5% margin (0.077) is ≥ 4 of them.
 */
const MIN_SAMPLE = 2000;

describeWithTools(['ostree', 'openssl'], 'pulls under the field fault model', () => {
  let certs: TestCertificates;
  const tmp = useFieldSuite('ffetch-field-', (c) => {
    certs = c;
  });

  const run = async (made: FieldRepo, label: string, count: number, seedBase: number) => {
    const expected = checkoutManifest(made.repo, made.ref);
    const pulls: Array<FieldPull & { deltas: boolean; http2: boolean }> = [];
    for (let i = 0; i < count; i++) {
      const deltas = i % 2 === 0;
      const http2 = Math.floor(i / 2) % 2 === 1 || (count === 2 && i === 1);
      const p = await fieldPull({
        made,
        expected,
        dir: tmp,
        name: `${label}-${i}`,
        faults: fieldFaults(seedBase + i),
        deltas,
        certs,
        http2,
      });
      const line = JSON.stringify({
        label,
        i,
        deltas,
        http2,
        ms: Math.round(p.ms),
        requests: p.requests,
        faults: p.faults,
        needed: p.report.requests.logical,
        retriesByReason: p.report.retries.byReason,
        amplification: p.report.amplification,
      });
      if (process.env.RELIABILITY_VERBOSE) console.log(line);
      if (process.env.RELIABILITY_REPORT) appendFileSync(process.env.RELIABILITY_REPORT, `${line}\n`);
      // A no-delta pull makes thousands of requests: its own amplification must be within the
      // bound (a delta pull's half-dozen requests say nothing about a rate).
      if (p.report.requests.logical >= MIN_SAMPLE)
        expect(p.report.amplification.overall).toBeLessThanOrEqual(amplificationBound(FIELD_FAILURE_RATE));
      pulls.push({ ...p, deltas, http2 });
      rmSync(join(tmp, `pull-${label}-${i}`), { recursive: true, force: true });
    }
    // Over all pulls, when they needed enough requests for a rate to mean something.
    const sent = pulls.reduce((n, p) => n + p.report.requests.total - p.report.requests.redirects, 0);
    const needed = pulls.reduce((n, p) => n + p.report.requests.logical, 0);
    if (needed >= MIN_SAMPLE) expect(sent / needed).toBeLessThanOrEqual(amplificationBound(FIELD_FAILURE_RATE));
    expect(pulls).toHaveLength(count);
  };

  test(`${PULLS} pulls of a ~3,200-object repository`, { timeout: 120_000 + PULLS * 180_000 }, async () => {
    await run(fieldRepo({ files: 3080, dirs: 150 }), '3k', PULLS, 16_000);
  });

  test.skipIf(BIG_PULLS === 0)(
    `${BIG_PULLS} pulls of a ≥ 20,000-object repository${BIG_PULLS === 0 ? ' (set RELIABILITY_BIG_PULLS=N to run)' : ''}`,
    { timeout: 300_000 + BIG_PULLS * 600_000 },
    async () => {
      const made = fieldRepo({ files: 20_000, dirs: 600 });
      expect(made.objects).toBeGreaterThanOrEqual(20_000);
      await run(made, '20k', BIG_PULLS, 26_000);
    },
  );
});
