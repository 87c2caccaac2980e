/**
 * Adaptive HTTP/1.1 pipelining (`pipelining: 'auto'`, the pull's default) against real servers:
 * nginx on loopback, and the fault-injecting RepoServer for a slow first byte. What a pipeline
 * looks like in the records: a request written on a connection while an earlier one on the same
 * connection is still being answered.
 */
import { dirname, join } from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { type RequestRecord, pull } from '@flathub-fetch/client';
import { RepoServer } from '@flathub-fetch/client/testing';
import { PROBATION } from '../../packages/client/src/http/AdaptivePipelining.js';
import { AUTO_PIPELINING_DEPTH } from '../../packages/client/src/http/UndiciTransport.js';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { type MadeRepo, makeRepo } from '../support/makeRepo.js';
import { type NginxServer, startNginx } from '../support/nginx.js';
import { checkoutManifest, fsck } from '../support/ostree.js';
import { describeWithTools } from '../support/tools.js';

const OBJECT_PURPOSES = new Set(['commit', 'commitmeta', 'dirtree', 'dirmeta', 'file']);
/** The (shortened) pipelining cool-down of the slow-first-byte test, ms. */
const COOL_DOWN_MS = 100;

/** For each record, the records of its connection still in flight (sent, not finished) when it was sent. */
function queuedBehind(records: readonly RequestRecord[]): Array<{ r: RequestRecord; ahead: RequestRecord[] }> {
  return records.map((r) => {
    const at = r.timings.requestSent as number;
    const ahead = records.filter(
      (x) =>
        x !== r &&
        x.connectionId === r.connectionId &&
        (x.timings.requestSent as number) < at &&
        (x.timings.lastByte ?? x.timings.done ?? 0) > at,
    );
    return { r, ahead };
  });
}

describeWithTools(['nginx', 'ostree'], 'adaptive HTTP/1.1 pipelining', () => {
  let made: MadeRepo;
  let nginx: NginxServer;
  const tmp = mkdtempSync(join(tmpdir(), 'ffetch-pipe-'));
  beforeAll(async () => {
    made = makeRepo({ files: 600, dirs: 6, seed: 7 });
    nginx = await startNginx(dirname(made.repo));
  });
  afterAll(async () => {
    await nginx?.stop();
    made?.remove();
    rmSync(tmp, { recursive: true, force: true });
  });
  const expected = () => checkoutManifest(made.repo, made.ref);

  test('by default, object GETs pipeline once the server has answered PROBATION of them promptly; nothing queues behind other requests', async () => {
    const repo = join(tmp, 'auto');
    const result = await pull({ url: `${nginx.url}repo/`, ref: made.ref, repo, deltas: 'never' });
    const records = result.requests.filter((r) => r.httpVersion === '1.1');
    expect(records.length).toBe(result.requests.length);
    const overlaps = queuedBehind(records).filter((x) => x.ahead.length > 0);
    expect(overlaps.length, 'requests written behind another on their connection').toBeGreaterThan(50);
    for (const { r, ahead } of overlaps) {
      expect(OBJECT_PURPOSES.has(r.purpose), r.url).toBe(true);
      for (const a of ahead) expect(OBJECT_PURPOSES.has(a.purpose), `${r.url} behind ${a.url}`).toBe(true);
      expect(ahead.length, r.url).toBeLessThanOrEqual(AUTO_PIPELINING_DEPTH - 1);
    }
    // Pipelining started only after PROBATION prompt object responses on kept-alive connections.
    const firstOverlap = Math.min(...overlaps.map((x) => x.r.timings.requestSent as number));
    const answeredBefore = records.filter((r) => OBJECT_PURPOSES.has(r.purpose) && (r.timings.firstByte as number) < firstOverlap).length;
    expect(answeredBefore).toBeGreaterThanOrEqual(PROBATION);
    expect(fsck(repo)).toContain('Verifying content integrity');
    expect(checkoutManifest(repo, made.ref)).toEqual(expected());
  });

  test('pipelining: 1 never pipelines', async () => {
    const result = await pull({
      url: `${nginx.url}repo/`,
      ref: made.ref,
      repo: join(tmp, 'one'),
      deltas: 'never',
      http: { pipelining: 1 },
    });
    expect(queuedBehind(result.requests).filter((x) => x.ahead.length > 0)).toEqual([]);
  });

  test('a first byte later than 1 s pauses pipelining for a cool-down, after which it resumes', async () => {
    // The last subdirectory's dirtree answers after 1.5 s; every file after 20 ms, so that its
    // ~100 files, fetched only after it arrived, outlast the (shortened) cool-down.
    let dirtrees = 0;
    const server = await RepoServer.start(made.repo, {
      faults: (ctx) =>
        ctx.path.endsWith('.dirtree') && ++dirtrees === 7
          ? { kind: 'first-byte-delay', ms: 1500 }
          : ctx.path.endsWith('.filez')
            ? { kind: 'first-byte-delay', ms: 20 }
            : null,
    });
    try {
      const repo = join(tmp, 'slow');
      const result = await pull({
        url: server.url,
        ref: made.ref,
        repo,
        deltas: 'never',
        http: { http: { pipeliningCoolDown: COOL_DOWN_MS } },
      });
      const slow = result.requests.find((r) => (r.timings.firstByte as number) - (r.timings.requestSent as number) > 1400);
      if (slow === undefined) throw new Error('no slow response recorded');
      const after = slow.timings.firstByte as number;
      const overlaps = queuedBehind(result.requests);
      expect(
        overlaps.some((x) => x.ahead.length > 0 && (x.r.timings.requestSent as number) < after),
        'pipelined before the slow response',
      ).toBe(true);
      // Written after the slow first byte arrived: the first ones not pipelined (cool-down, then
      // probation; a connection with several requests still on it goes to depth 2 until one is
      // left, see PipelinedConnection), later ones pipelined again.
      const later = overlaps
        .filter((x) => (x.r.timings.requestSent as number) > after + 1)
        .sort((a, b) => (a.r.timings.requestSent as number) - (b.r.timings.requestSent as number));
      expect(later.length).toBeGreaterThan(50);
      expect(later.slice(0, PROBATION).filter((x) => x.ahead.length > 1)).toEqual([]);
      // Pipelined again: a request written behind another once the cool-down is over and the
      // server has answered PROBATION of the later requests (by then no connection still holds
      // requests from before the slow response, so nothing else puts one behind another).
      const probationAnswered = Math.max(...later.slice(0, PROBATION).map((x) => x.r.timings.firstByte as number));
      const resumedAfter = Math.max(after + COOL_DOWN_MS, probationAnswered);
      const resumed = later.filter((x) => (x.r.timings.requestSent as number) > resumedAfter && x.ahead.length > 0);
      expect(resumed.length, 'pipelined again after the cool-down').toBeGreaterThan(0);
      expect(checkoutManifest(repo, made.ref)).toEqual(expected());
    } finally {
      await server.close();
    }
  });
});
