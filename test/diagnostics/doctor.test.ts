/**
 * `diagnoseConnection()` against real servers with injected conditions, each of which the verdict
 * must name — and only those:
 * - plain HTTP through Varnish whose first_byte_timeout (0.4 s) turns a slow object store into
 *   its own "503 Backend fetch failed" pages (the store also refuses one object with its own 503,
 *   the origin's), over a host whose ::1 route has 100 ms more RTT than its 127.0.0.1 one (one
 *   LinkEmulator per family on the same port);
 * - the same HTTPS server without its CA trusted (as an intercepting proxy's certificate);
 * - nginx with TLS and HTTP/2 behind the same kind of dual-stack link;
 * - the control: nginx behind equal links, where nothing is wrong.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type DoctorResult, diagnoseConnection } from '../../packages/client/src/index.js';
import { RepoServer } from '../../packages/client/src/testing/index.js';
import { type DualStackLink, startDualStackLink } from '../support/dualStack.js';
import { fixtureSets } from '../support/fixtures.js';
import { type NginxServer, startNginx } from '../support/nginx.js';
import { makeTestCertificates, type TestCertificates } from '../support/tls.js';
import { describeWithTools } from '../support/tools.js';
import { startVarnish, type VarnishServer } from '../support/varnish.js';

const set = fixtureSets().at(-1);
if (set === undefined) throw new Error('no fixtures');
const repo = set.repoPath('flatpak');
const kinds = (r: DoctorResult) => r.findings.map((f) => f.kind).sort();
const finding = (r: DoctorResult, kind: string) => r.findings.find((f) => f.kind === kind)?.text ?? '';
const resolve = (_port: number) => ({ localhost: ['127.0.0.1', '::1'] });

describeWithTools(['nginx', 'varnishd', 'openssl'], 'doctor', () => {
  const stops: Array<() => Promise<void>> = [];
  afterAll(async () => {
    for (const s of stops.reverse()) await s();
  });

  describe('plain HTTP through Varnish with a slow origin that also refuses one object, IPv6 route +100 ms', () => {
    let result: DoctorResult;
    beforeAll(async () => {
      // The object store stalls each object's first request past Varnish's first_byte_timeout,
      // except the first object asked for, which it answers with its own 503 (the origin's).
      let refused: string | null = null;
      const store = await RepoServer.start(repo, {
        faults: (ctx) => {
          if (!ctx.path.endsWith('.filez') || ctx.attempt !== 1) return null;
          refused ??= ctx.path;
          return ctx.path === refused ? { kind: 'status', status: 503 } : { kind: 'first-byte-delay', ms: 1500 };
        },
      });
      stops.push(() => store.close());
      const origin: NginxServer = await startNginx(repo, {
        serverConfig: `location /objects/ { proxy_pass http://127.0.0.1:${new URL(store.url).port}; }`,
      });
      stops.push(() => origin.stop());
      const cache: VarnishServer = await startVarnish(origin.port, { firstByteTimeout: 0.4 });
      stops.push(() => cache.stop());
      const link: DualStackLink = await startDualStackLink(cache.port, { v4: 10, v6: 110 });
      stops.push(() => link.close());
      result = await diagnoseConnection({ url: `http://localhost:${link.port}/`, resolve: resolve(link.port), objects: 4, arch: 'x86_64' });
      process.stderr.write(`[doctor] ${result.findings.map((f) => f.text).join('\n[doctor] ')}\n`);
    }, 60_000);

    test("the verdict names the slow IPv6 route, the CDN's first-byte timeout and the origin's 503, nothing else", () => {
      expect(kinds(result), JSON.stringify(result.findings)).toEqual(['cdn-first-byte-timeout', 'ipv6-slower', 'origin-errors']);
      expect(finding(result, 'origin-errors')).toMatch(/^503s come from the origin server \(nginx[^)]*\), passed through varnish/);
      expect(finding(result, 'ipv6-slower')).toMatch(
        /^your IPv6 route is \d+(\.\d)?× slower than IPv4 \(first byte \d+ ms over ::1 against \d+ ms over 127\.0\.0\.1/,
      );
      expect(finding(result, 'cdn-first-byte-timeout')).toMatch(
        /^503s come from the CDN's first-byte timeout, not from you: 3 of \d+ requests got a 503 made by the CDN\/cache itself \(varnish/,
      );
      const v4 = result.addresses.find((a) => a.address === '127.0.0.1');
      const v6 = result.addresses.find((a) => a.address === '::1');
      expect((v6?.firstByte.median ?? 0) - (v4?.firstByte.median ?? 0)).toBeGreaterThanOrEqual(80);
    });

    test('each 503 is attributed to the cache or the origin; the cache’s with the wait that shows its timeout', () => {
      const failed = result.requests.filter((r) => r.error !== null);
      expect(failed.map((r) => [r.what, r.status, r.error?.source]).sort()).toEqual([
        ['object', 503, 'cache'],
        ['object', 503, 'cache'],
        ['object', 503, 'cache'],
        ['object', 503, 'origin'],
      ]);
      for (const r of failed.filter((x) => x.error?.source === 'cache')) expect(r.firstByteMs).toBeGreaterThanOrEqual(400);
      expect(result.errorsBySource).toEqual({ cache: 3, origin: 1 });
      expect(result.answeredBy.via.join()).toMatch(/varnish/i);
      expect(result.dns).toEqual([
        { family: 4, source: 'override', addresses: ['127.0.0.1'], ms: null, error: null },
        { family: 6, source: 'override', addresses: ['::1'], ms: null, error: null },
      ]);
      expect(result.sampled?.ref).toMatch(/^app\//);
      expect(result.ranges.find((c) => c.what.startsWith('delta part'))?.result).toBe('honoured');
      expect(result.clockSkewSeconds).not.toBeNull();
      expect(Math.abs(result.clockSkewSeconds ?? 99)).toBeLessThanOrEqual(2);
    });

    test('the Markdown block carries the verdict and the measurements; the result is plain JSON', () => {
      expect(result.markdown).toContain(finding(result, 'ipv6-slower'));
      expect(result.markdown).toContain('| Address | Family | Connect | TLS | HTTP |');
      expect(result.markdown).toMatch(/\| ::1 \| IPv6 \|/);
      expect(JSON.parse(JSON.stringify(result))).toEqual(result);
    });
  });

  describe('HTTPS with HTTP/2, IPv6 route +100 ms', () => {
    let result: DoctorResult;
    let certs: TestCertificates;
    let url: string;
    beforeAll(async () => {
      certs = makeTestCertificates();
      stops.push(async () => certs.remove());
      const origin = await startNginx(repo, { tls: { cert: certs.serverCert, key: certs.serverKey, http2: true } });
      stops.push(() => origin.stop());
      const link = await startDualStackLink(origin.tlsPort as number, { v4: 10, v6: 110 });
      stops.push(() => link.close());
      url = `https://localhost:${link.port}/`;
      result = await diagnoseConnection({
        url,
        resolve: resolve(link.port),
        tls: { ca: certs.caPem },
        objects: 4,
        arch: 'x86_64',
      });
    }, 60_000);

    test('HTTP/2 over verified TLS on both families; the verdict names only the IPv6 route', () => {
      expect(kinds(result), JSON.stringify(result.findings)).toEqual(['ipv6-slower']);
      for (const a of result.addresses) {
        expect(a.httpVersion).toBe('2');
        expect(a.tls).toMatchObject({ alpn: 'h2', authorized: true, issuer: expect.stringContaining('flathub-fetch test CA') });
        expect(a.connect.count).toBeGreaterThan(0);
      }
      expect(result.requests.filter((r) => r.tlsMs !== null).length).toBeGreaterThan(0);
      expect(result.requests.every((r) => r.error === null)).toBe(true);
    });

    test('a certificate from a CA this machine does not trust (as an intercepting proxy presents) is named', async () => {
      const untrusted = await diagnoseConnection({ url, resolve: resolve(0), objects: 1, arch: 'x86_64', repeats: 1 });
      expect(kinds(untrusted), JSON.stringify(untrusted.findings)).toEqual(['transparent-proxy', 'unreachable']);
      expect(finding(untrusted, 'transparent-proxy')).toMatch(
        /the certificate of 127\.0\.0\.1 is issued by "CN=flathub-fetch test CA" and does not verify \(.+\): something intercepts TLS/,
      );
      expect(untrusted.requests.every((r) => r.error?.class === 'tls')).toBe(true);
    });
  });

  describe('control: nginx behind equal links', () => {
    let url: string;
    beforeAll(async () => {
      const origin = await startNginx(repo);
      stops.push(() => origin.stop());
      const link = await startDualStackLink(origin.port, { v4: 10, v6: 10 });
      stops.push(() => link.close());
      url = `http://localhost:${link.port}/`;
    });

    test('nothing wrong found', async () => {
      const result = await diagnoseConnection({ url, resolve: resolve(0), objects: 4, arch: 'x86_64' });
      expect(kinds(result), JSON.stringify(result.findings)).toEqual(['healthy']);
      expect(finding(result, 'healthy')).toMatch(/^nothing wrong found: \d+ requests, no errors/);
    });

    test('aborting stops it with ERR_ABORTED; bad options are one-line ERR_INVALID_ARGUMENT', async () => {
      const ac = new AbortController();
      const run = diagnoseConnection({
        url,
        resolve: resolve(0),
        signal: ac.signal,
        onEvent: (e) => {
          if (e.type === 'request') ac.abort();
        },
      });
      await expect(run).rejects.toMatchObject({ code: 'ERR_ABORTED' });
      await expect(diagnoseConnection({ url: 'ftp://example.org/' })).rejects.toMatchObject({
        code: 'ERR_INVALID_ARGUMENT',
        message: expect.stringContaining('url'),
      });
      await expect(diagnoseConnection({ url, resolve: { localhost: ['not-an-ip'] } })).rejects.toMatchObject({
        code: 'ERR_INVALID_ARGUMENT',
      });
    });
  });
});
