/**
 * Diagnostics over TLS against a real nginx (self-signed CA made with openssl): every record's
 * phases are non-negative and ordered and the HAR phases sum to the record's total; DNS/connect/TLS
 * phases appear exactly on the first request of each connection (and TLS on every new one), never
 * on reused ones; our connection ids match nginx's `$connection` numbers; the HTTP version
 * negotiated by ALPN is reported (h2 with `listen … ssl http2`, 1.1 without).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { buildReport, harTimings, pull, type RequestRecord } from '../../packages/client/src/index.js';
import { AUTO_PIPELINING_DEPTH } from '../../packages/client/src/http/UndiciTransport.js';
import { fixtureSets } from '../support/fixtures.js';
import { type NginxServer, startNginx } from '../support/nginx.js';
import { makeTestCertificates, type TestCertificates } from '../support/tls.js';
import { describeWithTools } from '../support/tools.js';
import { expectOrderedTimings } from '../support/timings.js';

const set = fixtureSets().at(-1);
if (set === undefined) throw new Error('no fixtures');
const APP = 'app/org.example.Hello/x86_64/stable';
const HEAD = set.manifest.repos.archive?.heads[APP] as string;
const CONNECTION_PHASES = ['dnsStart', 'dnsEnd', 'connectStart', 'connectEnd', 'tlsStart', 'tlsEnd'] as const;

/** Ordered phases, and HAR phases that add up to the record's total. */
function expectSaneTimings(r: RequestRecord): void {
  expectOrderedTimings(r);
  // The HAR phases (non-negative; -1 only for "did not happen") sum to the record's total.
  const h = harTimings(r);
  for (const v of [h.blocked, h.send, h.wait, h.receive]) expect(v, r.url).toBeGreaterThanOrEqual(0);
  for (const v of [h.dns, h.connect, h.ssl]) expect(v === -1 || v >= 0, `${r.url} ${v}`).toBe(true);
  const sum = h.blocked + Math.max(0, h.dns) + Math.max(0, h.connect) + h.send + h.wait + h.receive;
  const total = (r.timings.done as number) - r.timings.queued;
  expect(Math.abs(sum - total), `${r.url}: phases ${JSON.stringify(h)} sum to ${sum}, total ${total}`).toBeLessThanOrEqual(1);
}

describeWithTools(['nginx', 'openssl'], `diagnostics over https from nginx (${set.name} fixtures)`, () => {
  let certs: TestCertificates;
  const servers: Record<'h2' | 'h1', NginxServer | undefined> = { h2: undefined, h1: undefined };
  const tmp = mkdtempSync(join(tmpdir(), 'ffetch-https-'));
  beforeAll(async () => {
    certs = makeTestCertificates();
    const tls = { cert: certs.serverCert, key: certs.serverKey };
    servers.h2 = await startNginx(`${set.root}/repos`, { tls: { ...tls, http2: true } });
    servers.h1 = await startNginx(`${set.root}/repos`, { tls });
  });
  afterAll(async () => {
    await servers.h2?.stop();
    await servers.h1?.stop();
    certs?.remove();
    rmSync(tmp, { recursive: true, force: true });
  });

  for (const [kind, version] of [
    ['h2', '2'],
    ['h1', '1.1'],
  ] as const) {
    test(`pull over https (${kind}): phases, per-connection DNS/connect/TLS, connection ids, HTTP ${version}`, async () => {
      const nginx = servers[kind] as NginxServer;
      const start = nginx.log().length;
      const result = await pull({
        url: `${nginx.tlsUrl}archive/`,
        ref: APP,
        repo: join(tmp, kind),
        deltas: 'never',
        http: { http: { tls: { ca: certs.caPem } } },
      });
      expect(result.commit).toBe(HEAD);
      const records = result.requests;
      expect(records.length).toBeGreaterThan(3);
      const log = await nginx.logSince(start, records.length);
      expect(records.length).toBe(log.length);
      for (const r of records) {
        expect(r.error, r.url).toBeNull();
        expect(r.url.startsWith('https://')).toBe(true);
        expect(r.httpVersion, r.url).toBe(version);
        expectSaneTimings(r);
      }

      // The first request on each connection opened it: DNS/connect/TLS there and only there.
      const seen = new Set<number>();
      const byStart = [...records].sort((a, b) => (a.timings.requestSent ?? 0) - (b.timings.requestSent ?? 0) || a.id - b.id);
      for (const r of byStart) {
        expect(r.connectionId, r.url).not.toBeNull();
        const fresh = !seen.has(r.connectionId as number);
        seen.add(r.connectionId as number);
        const what = `${r.url} on connection ${r.connectionId} (${fresh ? 'new' : 'reused'})`;
        expect(r.connectionReused, what).toBe(!fresh);
        if (fresh) {
          // 127.0.0.1 needs no lookup: DNS may be absent, but connect and TLS must be there.
          for (const k of ['connectStart', 'connectEnd', 'tlsStart', 'tlsEnd'] as const)
            expect(r.timings[k], `${what} ${k}`).not.toBeNull();
          expect((r.timings.tlsEnd as number) - (r.timings.tlsStart as number), what).toBeGreaterThan(0);
        } else {
          for (const k of CONNECTION_PHASES) expect(r.timings[k], `${what} ${k}`).toBeNull();
        }
      }
      // Our connections are nginx's connections.
      const nginxConnections = new Set(log.map((e) => e.connection));
      expect(seen.size).toBe(nginxConnections.size);
      const report = buildReport(result);
      expect(report.connections.distinct).toBe(nginxConnections.size);
      // Requests nginx served on each of its connections equal the records on each of ours.
      const countsBy = <T>(xs: T[], key: (x: T) => number) => {
        const m = new Map<number, number>();
        for (const x of xs) m.set(key(x), (m.get(key(x)) ?? 0) + 1);
        return [...m.values()].sort((a, b) => a - b);
      };
      expect(countsBy(records, (r) => r.connectionId as number)).toEqual(countsBy(log, (e) => e.connection));
      if (kind === 'h2') expect(records.some((r) => r.connectionReused === true)).toBe(true);
      // Streams in flight at once on one connection: several on HTTP/2 (multiplexed); on
      // HTTP/1.1 at most the adaptive pipelining depth (object requests only).
      let most = 0;
      for (const r of records) {
        const at = r.timings.requestSent as number;
        const overlapping = records.filter(
          (x) =>
            x.connectionId === r.connectionId &&
            (x.timings.requestSent as number) <= at &&
            (x.timings.lastByte ?? x.timings.done ?? 0) > at,
        ).length;
        most = Math.max(most, overlapping);
      }
      if (kind === 'h2') expect(most, 'concurrent streams on one HTTP/2 connection').toBeGreaterThan(1);
      else expect(most, 'requests in flight on one HTTP/1.1 connection').toBeLessThanOrEqual(AUTO_PIPELINING_DEPTH);
    });
  }
});
