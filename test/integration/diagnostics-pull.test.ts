/**
 * Diagnostics against real servers: the report, HAR and Prometheus text of pulls from nginx
 * (with and without deltas) equal nginx's own access log, request for request and byte for byte;
 * pulls from RepoServer with injected faults (503, reset mid-body, corrupt body) classify and
 * count each fault exactly as the server's log records it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import {
  buildReport,
  type PullReport,
  type PullResult,
  pull,
  type RequestRecord,
  toHAR,
  toPrometheus,
} from '../../packages/client/src/index.js';
import { RepoServer } from '../../packages/client/src/testing/index.js';
import { fixtureSets } from '../support/fixtures.js';
import { type NginxServer, startNginx } from '../support/nginx.js';
import { describeWithTools } from '../support/tools.js';
import { expectOrderedTimings } from '../support/timings.js';

const require = createRequire(import.meta.url);
const harValidator = require('har-validator') as { har(data: unknown): Promise<unknown> };
const parsePrometheus = require('parse-prometheus-text-format') as (
  text: string,
) => Array<{ name: string; type: string; metrics: Array<{ value?: string; labels?: Record<string, string> }> }>;

const set = fixtureSets().at(-1);
if (set === undefined) throw new Error('no fixtures');
const m = set.manifest.repos;
const APP = 'app/org.example.Hello/x86_64/stable';
const HEAD = m.archive?.heads[APP] as string;

const pathOf = (url: string) => new URL(url).pathname;
const sortKeys = (xs: string[]) => [...xs].sort();

async function expectValidHar(
  report: PullReport,
  serverKeys: string[],
  key: (uri: string, status: number, bytes: number) => string,
): Promise<void> {
  const har = toHAR(report);
  await expect(harValidator.har(har)).resolves.toBeDefined();
  const keys = har.log.entries.map((e) => {
    const req = e.request as { url: string };
    const res = e.response as { status: number; bodySize: number };
    return key(pathOf(req.url), res.status, res.bodySize);
  });
  expect(sortKeys(keys)).toEqual(sortKeys(serverKeys));
  for (const e of har.log.entries) {
    const t = e.timings;
    for (const v of [t.send, t.wait, t.receive, t.blocked]) expect(v).toBeGreaterThanOrEqual(0);
    expect(e.time).toBeCloseTo(t.blocked + Math.max(0, t.dns) + Math.max(0, t.connect) + t.send + t.wait + t.receive, 2);
  }
}

function expectPrometheusMatches(report: PullReport, serverCount: number, serverBytes: number): void {
  const families = parsePrometheus(toPrometheus(report, { remote: 'test', ref: APP }));
  const sum = (name: string) => (families.find((f) => f.name === name)?.metrics ?? []).reduce((n, x) => n + Number(x.value), 0);
  expect(families.find((f) => f.name === 'flathub_fetch_requests_total')?.type).toBe('COUNTER');
  expect(sum('flathub_fetch_requests_total')).toBe(serverCount);
  expect(sum('flathub_fetch_bytes_total')).toBe(serverBytes);
}

describeWithTools(['nginx'], `diagnostics over nginx (${set.name} fixtures)`, () => {
  let nginx: NginxServer;
  const tmp = mkdtempSync(join(tmpdir(), 'ffetch-diag-'));
  beforeAll(async () => {
    nginx = await startNginx(`${set.root}/repos`);
  });
  afterAll(async () => {
    await nginx?.stop();
    rmSync(tmp, { recursive: true, force: true });
  });

  for (const deltas of ['prefer', 'never'] as const) {
    test(`clean pull (deltas: ${deltas}): report, HAR and metrics equal nginx's log`, async () => {
      const start = nginx.log().length;
      const result: PullResult = await pull({ url: `${nginx.url}archive/`, ref: APP, repo: join(tmp, deltas), deltas });
      expect(result.strategy).toBe(deltas === 'prefer' ? 'delta-scratch' : 'objects');
      const report = buildReport(result);
      const log = await nginx.logSince(start, report.requests.total);
      expect(report.requests.total).toBe(log.length);
      // Every response's body bytes equal nginx's, error pages (its 404 page for a missing
      // summary.idx or .commitmeta probe) included.
      const key = (uri: string, status: number | null, bytes: number) => `${uri} ${status} ${bytes}`;
      const serverKeys = log.map((e) => key(e.uri, e.status, e.bodyBytes));
      const ourKeys = report.entries.map((r) => key(pathOf(r.url), r.status, r.wireBytes));
      expect(sortKeys(ourKeys)).toEqual(sortKeys(serverKeys));
      const serverBytes = log.reduce((n, e) => n + e.bodyBytes, 0);
      expect(report.bytes.wire).toBe(serverBytes);
      expect(log.some((e) => e.status === 404 && e.bodyBytes > 0)).toBe(true);
      // By purpose: delta parts only with deltas.
      expect(report.requests.byPurpose['delta-part'] ?? 0).toBe(
        deltas === 'prefer' ? log.filter((e) => /\/deltas\/.+\/\d+$/.test(e.uri)).length : 0,
      );
      expect(report.errors.total).toBe(0);
      expect(report.waste).toMatchObject({ requests: 0, bytes: 0 });
      expect(report.waste.looseInDelta.checked).toBe(deltas === 'prefer');
      if (deltas === 'prefer') expect(report.objects.fromDelta).toBeGreaterThan(0);
      // A clean delta pull makes exactly the requests the plan asked for.
      if (deltas === 'prefer') expect(report.requests.excess).toBe(0);
      // Connections: nginx's own connection numbers and per-connection request counts.
      const nginxConnections = new Set(log.map((e) => e.connection)).size;
      expect(report.connections.distinct).toBe(nginxConnections);
      expect(report.connections.reused).toBe(log.filter((e) => e.connectionRequests > 1).length);
      for (const r of report.entries) expectOrderedTimings(r);
      expect(report.latency.firstByte.count).toBe(report.requests.total);
      expect(report.throughput.buckets.reduce((a, b) => a + b, 0)).toBe(serverBytes);
      await expectValidHar(report, serverKeys, key);
      expectPrometheusMatches(report, log.length, serverBytes);
    });
  }
});

describeWithTools([], `diagnostics under injected faults (${set.name} fixtures)`, () => {
  const tmp = mkdtempSync(join(tmpdir(), 'ffetch-diag-faults-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));
  const delta = m.archive?.deltas.find((d) => d.from === null && d.to === HEAD);
  if (delta === undefined) throw new Error('fixture lacks the scratch delta');
  const partUrl = (i: number) => `/${delta.path.replace(/\/$/, '')}/${i}`;

  test('a 503, a reset mid-body and a corrupt body: classified and counted exactly as the server logged them', async () => {
    expect(delta.parts, 'fixture delta has two parts').toBeGreaterThanOrEqual(2);
    const exact = (uri: string, status: number, bytes: number) => `${uri} ${status} ${bytes}`;
    const server = await RepoServer.start(set.repoPath('archive'), {
      faults: (ctx) => {
        if (ctx.attempt !== 1) return null;
        if (ctx.path === '/summary') return { kind: 'status', status: 503 };
        if (ctx.path === partUrl(0)) return { kind: 'reset', after: 10 };
        if (ctx.path === partUrl(1)) return { kind: 'corrupt' };
        return null;
      },
    });
    try {
      const result = await pull({ url: server.url, ref: APP, repo: join(tmp, 'faults'), http: { retry: { minDelay: 1, maxDelay: 5 } } });
      expect(result.commit).toBe(HEAD);
      const report = buildReport(result);
      const log = server.log;
      expect(
        log
          .filter((e) => e.fault !== null)
          .map((e) => e.fault)
          .sort(),
      ).toEqual(['corrupt', 'reset', 'status']);
      expect(report.requests.total).toBe(log.length);
      const serverKeys = log.map((e) => `${e.path} ${e.status} ${e.bytes}`);
      expect(sortKeys(report.entries.map((r) => `${pathOf(r.url)} ${r.status} ${r.wireBytes}`))).toEqual(sortKeys(serverKeys));
      expect(report.bytes.wire).toBe(log.reduce((n, e) => n + e.bytes, 0));

      const failed = report.entries.filter((r) => r.error !== null);
      const classOf = (path: string) => failed.filter((r) => pathOf(r.url) === path).map((r) => r.error?.class);
      expect(classOf('/summary')).toEqual(['http-status']);
      expect(['reset', 'truncated']).toContain(classOf(partUrl(0))[0]);
      expect(classOf(partUrl(0))).toHaveLength(1);
      expect(classOf(partUrl(1))).toEqual(['checksum-mismatch']);
      expect(report.errors.total).toBe(3);
      expect(report.errors.byStatus['503']).toBe(1);
      expect(report.retries.total).toBe(3);
      expect(Object.values(report.retries.byReason).reduce((a, b) => a + b, 0)).toBe(3);
      expect(report.requests.abandoned).toBe(0);
      // Waste: the three failed attempts, with the bytes the server sent them (minus any resumed prefix).
      expect(report.waste.failed.requests).toBe(3);
      const resumed = report.entries.find((r) => pathOf(r.url) === partUrl(0) && r.attempt === 2);
      const resetBytes = log.find((e) => e.path === partUrl(0) && e.fault === 'reset')?.bytes ?? -1;
      const corruptBytes = log.find((e) => e.path === partUrl(1) && e.fault === 'corrupt')?.bytes ?? -1;
      expect(report.waste.failed.bytes).toBe(
        corruptBytes + (resumed?.range != null ? resetBytes - Math.min(resetBytes, Number(/\d+/.exec(resumed.range)?.[0])) : resetBytes),
      );
      for (const r of report.entries) expectOrderedTimings(r);
      await expectValidHar(report, serverKeys, exact);
      expectPrometheusMatches(
        report,
        log.length,
        log.reduce((n, e) => n + e.bytes, 0),
      );
      const prom = parsePrometheus(toPrometheus(report));
      const errs = prom.find((f) => f.name === 'flathub_fetch_request_errors_total')?.metrics ?? [];
      expect(errs.reduce((n, x) => n + Number(x.value), 0)).toBe(3);
    } finally {
      await server.close();
    }
  });

  test('an object fetched loose although its delta part was delivered is reported as waste', async () => {
    // A real delta pull, plus a real loose fetch (from a --no-deltas pull) of an object its first part
    // produced, appended to its records: the report must flag exactly that fetch.
    const server = await RepoServer.start(set.repoPath('archive'));
    try {
      const result = await pull({ url: server.url, ref: APP, repo: join(tmp, 'waste') });
      const part = result.delta?.parts.find((p) => p.objects.length > 0);
      expect(part).toBeDefined();
      const obj = part?.objects[0] as string;
      // Fetch that object loose through the same server, and append the record to the result.
      const loose = await pull({ url: server.url, ref: APP, repo: join(tmp, 'waste-loose'), deltas: 'never' });
      const rec = loose.requests.find((r) => pathOf(r.url) === `/${obj}`);
      expect(rec).toBeDefined();
      const report = buildReport({ ...result, requests: [...result.requests, rec as RequestRecord] });
      expect(report.waste.looseInDelta).toEqual({ checked: true, requests: 1, bytes: rec?.wireBytes });
    } finally {
      await server.close();
    }
  });
});
