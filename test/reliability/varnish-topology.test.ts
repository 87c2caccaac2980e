/**
 * The seed incident's topology with real servers: Varnish (the cache Fastly is built on) in front
 * of an nginx origin whose object store is slow (nginx proxies /objects/ to a RepoServer that
 * holds the first response of some objects for 1.5 s, like a struggling disk). Varnish's
 * first_byte_timeout (0.4 s) turns those into real "503 Backend fetch failed" pages; the origin
 * also answers two objects with its own 503. The pull completes with verified content, and the
 * report attributes each 503 to who produced it: the cache (Varnish's headers, no origin Server
 * header) or the origin (nginx's Server header, passed through Varnish).
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { buildReport, pull, renderSummaryTable } from '../../packages/client/src/index.js';
import { RepoServer } from '../../packages/client/src/testing/index.js';
import { makeRepo } from '../support/makeRepo.js';
import { type NginxServer, startNginx } from '../support/nginx.js';
import { checkoutManifest, fsck } from '../support/ostree.js';
import { describeWithTools } from '../support/tools.js';
import { startVarnish, type VarnishServer } from '../support/varnish.js';

const pick = (path: string, n: number) => (createHash('sha256').update(path).digest()[0] as number) % n;

describeWithTools(['ostree', 'nginx', 'varnishd'], 'Varnish in front of a slow nginx origin', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'ffetch-varnish-test-'));
  const made = makeRepo({ files: 40, dirs: 2 });
  let store: RepoServer;
  let origin: NginxServer;
  let cache: VarnishServer;
  const originErrors = new Set<string>();

  beforeAll(async () => {
    store = await RepoServer.start(made.repo, {
      faults: (ctx) => {
        if (!ctx.path.endsWith('.filez') || ctx.attempt !== 1) return null;
        if (pick(ctx.path, 4) === 0) return { kind: 'first-byte-delay', ms: 1500 };
        if (originErrors.size < 2 && !originErrors.has(ctx.path)) {
          originErrors.add(ctx.path);
          return { kind: 'status', status: 503 };
        }
        return null;
      },
    });
    origin = await startNginx(made.repo, {
      serverConfig: `location /objects/ { proxy_pass http://127.0.0.1:${new URL(store.url).port}; }`,
    });
    cache = await startVarnish(origin.port, { firstByteTimeout: 0.4 });
  });
  afterAll(async () => {
    await cache?.stop();
    await origin?.stop();
    await store?.close();
    rmSync(tmp, { recursive: true, force: true });
    made.remove();
  });

  test('the pull completes; the 503s are attributed to Varnish or to the origin exactly', { timeout: 120_000 }, async () => {
    const repo = join(tmp, 'repo');
    const result = await pull({
      url: cache.url,
      ref: made.ref,
      repo,
      deltas: 'never',
      // Varnish's error page says Retry-After: 5; keep the test short.
      http: { retry: { minDelay: 10, maxDelay: 100, maxRetryAfter: 200 } },
    });
    expect(result.commit).toBe(made.commit);
    fsck(repo);
    expect(checkoutManifest(repo, made.ref)).toEqual(checkoutManifest(made.repo, made.ref));

    const stalled = store.log.filter((e) => e.fault === 'first-byte-delay').map((e) => e.path);
    const refused = store.log.filter((e) => e.fault === 'status').map((e) => e.path);
    expect(stalled.length, 'some objects stalled at the store').toBeGreaterThan(0);
    expect(refused).toHaveLength(2);

    const report = buildReport(result);
    const failed = report.entries.filter((e) => e.error !== null);
    const pathOf = (u: string) => new URL(u).pathname;
    // Every failure is a 503, and each is where the topology produced it.
    expect(failed.every((e) => e.status === 503)).toBe(true);
    const byCache = failed.filter((e) => e.cacheHeaders.server === 'Varnish');
    expect(byCache.map((e) => pathOf(e.url)).sort()).toEqual([...stalled].sort());
    expect(report.errors.bySource).toEqual({ cache: stalled.length, origin: 2 });
    expect(report.errors.byCache).toEqual({ 'varnish (Varnish/7.1)': stalled.length });
    for (const e of failed) expect(e.cacheHeaders['x-varnish'], 'through Varnish').toBeDefined();
    expect(
      failed
        .filter((e) => e.cacheHeaders.server?.startsWith('nginx'))
        .map((e) => pathOf(e.url))
        .sort(),
    ).toEqual([...refused].sort());
    expect(report.retries.byReason).toEqual({ '503': stalled.length + 2 });
    expect(renderSummaryTable(report).join('\n')).toContain(
      `produced by cache ${stalled.length} (varnish (Varnish/7.1) ${stalled.length}), origin 2`,
    );
  });
});
