/**
 * Timings measure the wire: a RepoServer that holds one object's response for 2 s (fault
 * `first-byte-delay`) shows up as firstByte − requestSent ≈ 2 s on that object's record (never
 * less, and not more than a loaded machine's scheduling adds), while every other record waits far
 * less; every record's phases stay ordered. The delay is long so that the bounds hold on a busy
 * 2-core machine: the figures are not a benchmark.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { pull, type RequestRecord } from '../../packages/client/src/index.js';
import { RepoServer } from '../../packages/client/src/testing/index.js';
import { fixtureSets } from '../support/fixtures.js';
import { describeWithTools } from '../support/tools.js';
import { expectOrderedTimings } from '../support/timings.js';

const set = fixtureSets().at(-1);
if (set === undefined) throw new Error('no fixtures');
const APP = 'app/org.example.Hello/x86_64/stable';
const archive = set.manifest.repos.archive;
if (archive === undefined) throw new Error('fixture lacks the archive repo');
const HEAD = archive.heads[APP] as string;
const DIRTREE = archive.commits[HEAD]?.root_dirtree as string;
const DELAY = 2000;
/** What a busy machine may add to a measured wait (event-loop lag, scheduling). */
const SLACK = 600;

const pathOf = (url: string) => new URL(url).pathname;

describeWithTools([], `request timings under a first-byte delay (${set.name} fixtures)`, () => {
  const tmp = mkdtempSync(join(tmpdir(), 'ffetch-timing-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  test(`a ${DELAY} ms first-byte delay on one object is measured as firstByte − requestSent on its record`, async () => {
    expect(DIRTREE).toMatch(/^[0-9a-f]{64}$/);
    const slow = `/objects/${DIRTREE.slice(0, 2)}/${DIRTREE.slice(2)}.dirtree`;
    const server = await RepoServer.start(set.repoPath('archive'), {
      faults: (ctx) => (ctx.path === slow ? { kind: 'first-byte-delay', ms: DELAY } : null),
    });
    try {
      const result = await pull({ url: server.url, ref: APP, repo: join(tmp, 'repo'), deltas: 'never' });
      expect(result.commit).toBe(HEAD);
      expect(server.log.filter((e) => e.fault === 'first-byte-delay').map((e) => e.path)).toEqual([slow]);
      const wait = (r: RequestRecord) => (r.timings.firstByte as number) - (r.timings.requestSent as number);
      for (const r of result.requests) {
        expectOrderedTimings(r);
        expect(r.error, r.url).toBeNull();
        expect(r.timings.requestSent, r.url).not.toBeNull();
        expect(r.timings.firstByte, r.url).not.toBeNull();
      }
      const delayed = result.requests.filter((r) => pathOf(r.url) === slow);
      expect(delayed).toHaveLength(1);
      const measured = wait(delayed[0] as RequestRecord);
      expect(measured, `firstByte − requestSent = ${measured} ms`).toBeGreaterThanOrEqual(DELAY * 0.98);
      expect(measured, `firstByte − requestSent = ${measured} ms`).toBeLessThanOrEqual(DELAY + SLACK);
      const others = result.requests.filter((r) => pathOf(r.url) !== slow);
      expect(others.length).toBeGreaterThan(2);
      for (const r of others) expect(wait(r), `${r.url} waited ${wait(r)} ms`).toBeLessThan(DELAY / 2);
    } finally {
      await server.close();
    }
  });
});
