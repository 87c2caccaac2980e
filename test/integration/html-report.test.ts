/**
 * The HTML report, rendered by real headless Chromium: pulls from real nginx (with deltas and
 * objects only) and a mirror check of two nginx mirrors go into one page; Chromium lays out one
 * request bar per attempt in nginx's access log, each with a non-empty box, the tables behind the
 * charts are there, a hostile URL stays text, and the page loads nothing. A screenshot is saved
 * in the test output directory (its path is printed).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { buildReport, checkMirrors, type PullReport, pull, renderHtmlReport } from '../../packages/client/src/index.js';
import { dumpDom, screenshot } from '../support/chromium.js';
import { runCli } from '../support/cli.js';
import { fixtureSets, REPO_ROOT } from '../support/fixtures.js';
import { type NginxServer, startNginx } from '../support/nginx.js';
import { makeTestCertificates, type TestCertificates } from '../support/tls.js';
import { describeWithTools } from '../support/tools.js';

const set = fixtureSets().at(-1);
if (set === undefined) throw new Error('no fixtures');
const APP = 'app/org.example.Hello/x86_64/stable';
const OUT = join(REPO_ROOT, 'test-output', 'html-report');

/** Measures in the page what Chromium laid out: bars with a box, tables, scripts (the test's own only). */
const PROBE = `<script>addEventListener('load',()=>{const box=(e)=>{const r=e.getBoundingClientRect();return r.width>0&&r.height>0};
const out={bars:[...document.querySelectorAll('svg.waterfall g.req')].filter(box).length,
perChart:[...document.querySelectorAll('svg.waterfall')].map((s)=>s.querySelectorAll('g.req').length),
tpBars:document.querySelectorAll('svg.throughput rect.tp').length,
phases:Object.fromEntries(['queued','dns','connect','tls','wait','transfer'].map((p)=>[p,[...document.querySelectorAll('svg.waterfall rect.p-'+p)].filter(box).length])),
marks:document.querySelectorAll('svg.waterfall g.req text.mark').length,tables:document.querySelectorAll('table').length,
details:document.querySelectorAll('details.data table').length,labelled:[...document.querySelectorAll('svg.chart')].every((s)=>s.getAttribute('role')==='img'&&s.getAttribute('aria-labelledby')),
scripts:document.scripts.length,h2:[...document.querySelectorAll('h2')].map((h)=>h.textContent),
mirrorRows:[...document.querySelectorAll('table')].filter((t)=>t.caption&&t.caption.textContent.startsWith('Verdict per mirror')).map((t)=>t.tBodies[0].rows.length)};
const pre=document.createElement('pre');pre.id='probe';pre.textContent=JSON.stringify(out);document.body.append(pre);});</script>`;

interface Probe {
  bars: number;
  perChart: number[];
  tpBars: number;
  phases: Record<string, number>;
  marks: number;
  tables: number;
  details: number;
  labelled: boolean;
  scripts: number;
  h2: string[];
  mirrorRows: number[];
}

/** A copy of the page with the probe script (the page's own CSP forbids scripts; the copy's allows inline ones). */
async function probe(file: string): Promise<Probe> {
  const html = readFileSync(file, 'utf8').replace("default-src 'none';", "default-src 'none'; script-src 'unsafe-inline';");
  const copy = `${file}.probe.html`;
  writeFileSync(copy, html.replace('</body>', `${PROBE}</body>`));
  const dom = await dumpDom(copy);
  const m = /<pre id="probe">([^<]*)<\/pre>/.exec(dom);
  if (m === null) throw new Error(`probe did not run: ${dom.slice(0, 500)}`);
  return JSON.parse(
    (m[1] as string)
      .replace(/&quot;/g, '"')
      .replace(/&amp;/g, '&')
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>'),
  ) as Probe;
}

describeWithTools(['nginx', 'chromium', 'openssl'], 'HTML report in headless Chromium', () => {
  let origin: NginxServer;
  let secure: NginxServer;
  let certs: TestCertificates;
  let mirrorA: NginxServer;
  let mirrorB: NginxServer;
  const tmp = mkdtempSync(join(tmpdir(), 'ffetch-html-'));
  beforeAll(async () => {
    mkdirSync(OUT, { recursive: true });
    certs = makeTestCertificates();
    [origin, mirrorA, mirrorB, secure] = await Promise.all([
      startNginx(`${set.root}/repos`),
      startNginx(set.repoPath('flatpak')),
      startNginx(set.repoPath('flatpak'), { serverConfig: 'max_ranges 0;' }),
      startNginx(`${set.root}/repos`, { tls: { cert: certs.serverCert, key: certs.serverKey, http2: true } }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([origin, mirrorA, mirrorB, secure].map((s) => s?.stop()));
    certs?.remove();
    rmSync(tmp, { recursive: true, force: true });
  });

  test('pull, comparison and mirror check: one bar per request in the server log, tables behind the charts', async () => {
    const reports: Record<string, PullReport> = {};
    const logged: Record<string, number> = {};
    for (const deltas of ['prefer', 'never'] as const) {
      const start = origin.log().length;
      const result = await pull({ url: `${origin.url}archive/`, ref: APP, repo: join(tmp, deltas), deltas });
      const report = buildReport(result);
      logged[deltas] = (await origin.logSince(start, report.requests.total)).length;
      reports[deltas] = report;
    }
    const deltas = reports.prefer as PullReport;
    const objects = reports.never as PullReport;
    const mirrors = await checkMirrors({
      primary: mirrorA.url,
      mirrors: [mirrorA.url, mirrorB.url],
      refs: 'app/*',
      sample: 4,
      gpgKeys: [readFileSync(join(set.root, 'gpg', 'pubkey.asc'), 'utf8')],
    });
    // A hostile URL and message (as a server could send in a Location or an error) must stay text.
    const hostile = structuredClone(objects);
    const first = hostile.entries[0];
    if (first === undefined) throw new Error('no entries');
    first.url = `${origin.url}"><script>document.title='pwned'</script><img src=x onerror=alert(1)>`;
    first.error = { class: 'http-status', message: '</title><script>alert(2)</script>', code: null };
    const file = join(OUT, 'report.html');
    writeFileSync(
      file,
      renderHtmlReport(
        [
          { kind: 'pull', report: hostile },
          { kind: 'compare', deltas, objects },
          { kind: 'mirrors', result: mirrors },
        ],
        { title: 'flathub-fetch test report' },
      ),
    );
    const p = await probe(file);
    expect(p.perChart).toEqual([objects.requests.total, deltas.requests.total, objects.requests.total]);
    expect(p.bars).toBe((logged.never as number) * 2 + (logged.prefer as number));
    expect(deltas.requests.total).toBe(logged.prefer);
    expect(p.tpBars).toBeGreaterThan(0);
    expect(p.details).toBe(6); // three waterfalls and three throughput charts, each with its table
    expect(p.labelled).toBe(true);
    expect(p.scripts).toBe(1); // the probe's own: nothing from the hostile strings
    expect(p.h2).toEqual([`Pull of ${APP}`, `With deltas vs objects only: ${APP}`, 'Mirror check']);
    expect(p.mirrorRows).toEqual([2]);
    const dom = await dumpDom(file);
    expect(/<title>([^<]*)<\/title>/.exec(dom)?.[1]).toBe('flathub-fetch test report');
    expect(dom.includes('&lt;/title&gt;&lt;script&gt;alert(2)&lt;/script&gt;')).toBe(true);
    expect(/<(script|img|link|iframe|object|embed)\b/i.test(dom)).toBe(false);
    const png = join(OUT, 'report.png');
    await screenshot(file, png);
    expect(readFileSync(png).subarray(1, 4).toString()).toBe('PNG');
    console.log(`HTML report screenshot: ${png}`);
  });

  test('a pull over HTTPS and HTTP/2: TCP connect and TLS drawn once per connection nginx saw', async () => {
    const start = secure.log().length;
    const result = await pull({
      url: `${secure.tlsUrl}archive/`,
      ref: APP,
      repo: join(tmp, 'https'),
      deltas: 'never',
      http: { http: { tls: { ca: certs.caPem } } },
    });
    const report = buildReport(result);
    const log = await secure.logSince(start, report.requests.total);
    const file = join(OUT, 'https.html');
    writeFileSync(file, renderHtmlReport([{ kind: 'pull', report }]));
    const p = await probe(file);
    expect(p.bars).toBe(log.length);
    const connections = new Set(log.map((e) => e.connection)).size;
    expect(p.phases.tls).toBe(connections);
    expect(p.phases.connect).toBe(connections);
    expect(p.phases.wait).toBe(log.length);
    expect(p.marks).toBe(report.requests.errors);
    await screenshot(file, join(OUT, 'https.png'));
  });

  test('a pull beyond maxRequests: bars aggregated per connection, said on the page', async () => {
    const result = await pull({ url: `${origin.url}archive/`, ref: APP, repo: join(tmp, 'agg'), deltas: 'never' });
    const report = buildReport(result);
    const html = renderHtmlReport([{ kind: 'pull', report }], { maxRequests: 5 });
    const bars = html.match(/<g class="req[ "]/g)?.length ?? 0;
    const aggregated = [...html.matchAll(/<g class="agg" data-count="(\d+)"/g)].reduce((n, m) => n + Number(m[1]), 0);
    expect(bars).toBe(5);
    expect(bars + aggregated).toBe(report.requests.total);
    expect(html).toContain(`This pull made ${report.requests.total} attempts: the waterfall draws 5 of them one by one`);

    // A pull of 60,000 attempts (this one's, repeated over time): the page stays small.
    const n = 60_000;
    const span = report.durationMs;
    const entries = Array.from({ length: n }, (_, i) => {
      const e = report.entries[i % report.entries.length] as PullReport['entries'][number];
      const shift = Math.floor(i / report.entries.length) * span;
      const timings = Object.fromEntries(Object.entries(e.timings).map(([k, v]) => [k, v === null ? null : v + shift]));
      return { ...e, id: i + 1, requestId: i + 1, timings: timings as typeof e.timings };
    });
    const huge = renderHtmlReport([{ kind: 'pull', report: { ...report, entries, requests: { ...report.requests, total: n } } }]);
    expect(huge.match(/<g class="req[ "]/g)?.length).toBe(2000);
    expect([...huge.matchAll(/<g class="agg" data-count="(\d+)"/g)].reduce((k, m) => k + Number(m[1]), 0)).toBe(n - 2000);
    expect(huge.length).toBeLessThan(4 * 1024 * 1024);
    console.log(`HTML report of ${n} attempts: ${(huge.length / 1024 / 1024).toFixed(2)} MiB`);
  });

  test('--html on pull, compare and mirrors check writes a page Chromium renders', async () => {
    const url = `${origin.url}archive/`;
    const key = join(set.root, 'gpg', 'pubkey.asc');
    const cases: Array<[string, string[], number]> = [
      ['pull', ['pull', url, APP, '--repo', join(tmp, 'cli'), '--html', join(OUT, 'pull.html')], 0],
      ['compare', ['compare', url, APP, '--html', join(OUT, 'compare.html')], 0],
      [
        'mirrors',
        [
          'mirrors',
          'check',
          '--primary',
          mirrorA.url,
          mirrorB.url,
          '--refs',
          'app/*',
          '--sample',
          '4',
          '--gpg-key',
          key,
          '--html',
          join(OUT, 'mirrors.html'),
        ],
        1,
      ],
    ];
    for (const [name, args, code] of cases) {
      const r = await runCli(args);
      expect(r.code, r.stderr).toBe(code);
      expect(r.stderr).toContain(`HTML report: ${join(OUT, `${name}.html`)}`);
      const p = await probe(join(OUT, `${name}.html`));
      expect(p.tables).toBeGreaterThan(0);
      if (name === 'mirrors') expect(p.mirrorRows).toEqual([1]);
      else expect(p.bars).toBeGreaterThan(0);
    }
  });
});
