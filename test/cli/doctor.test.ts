/**
 * End-to-end: `flathub-fetch doctor` (the built bin) against nginx behind a dual-stack link whose
 * IPv6 side has 200 ms more RTT: --json, --markdown, the exit status, and usage errors.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { dumpDom } from '../support/chromium.js';
import { type DualStackLink, startDualStackLink } from '../support/dualStack.js';
import { fixtureSets } from '../support/fixtures.js';
import { type NginxServer, startNginx } from '../support/nginx.js';
import { runCli } from '../support/cli.js';
import { describeWithTools } from '../support/tools.js';

const set = fixtureSets().at(-1);
if (set === undefined) throw new Error('no fixtures');

const run = runCli;

describeWithTools(['nginx', 'chromium'], 'doctor (CLI)', () => {
  let origin: NginxServer;
  let link: DualStackLink;
  let url: string;
  let resolve: string;
  beforeAll(async () => {
    origin = await startNginx(set.repoPath('flatpak'));
    link = await startDualStackLink(origin.port, { v4: 5, v6: 205 });
    url = `http://localhost:${link.port}/`;
    resolve = `localhost:${link.port}:127.0.0.1,[::1]`;
  });
  afterAll(async () => {
    await link?.close();
    await origin?.stop();
  });

  test('--json: the verdict names the slow IPv6 route; exit status 1 for a problem; nothing on stderr', async () => {
    const r = await run(['doctor', url, '--resolve', resolve, '--objects', '2', '--arch', 'x86_64', '--json']);
    expect(r.stderr).toBe('');
    const result = JSON.parse(r.stdout);
    expect(r.code, JSON.stringify([result.findings, result.addresses])).toBe(1);
    expect(result.schema).toBe('flathub-fetch/doctor@1');
    expect(result.findings.map((f: { kind: string }) => f.kind)).toEqual(['ipv6-slower']);
    expect(result.addresses.map((a: { address: string }) => a.address)).toEqual(['127.0.0.1', '::1']);
  });

  test('--markdown prints only the block for the issue form; the text report ends with it', async () => {
    const md = await run(['doctor', url, '--resolve', resolve, '--objects', '1', '--arch', 'x86_64', '--markdown']);
    expect(md.stdout).toMatch(/^### flathub-fetch doctor: http:\/\/localhost:\d+\/\n/);
    expect(md.stdout).toContain('- **problem**: your IPv6 route is');
    const text = await run(['doctor', url, '--resolve', resolve, '--objects', '1', '--arch', 'x86_64']);
    expect(text.stdout).toMatch(/^Doctor of http:\/\/localhost:\d+\/ \(\d+ requests/);
    expect(text.stdout).toContain('For the issue form (paste as is; nothing was uploaded):');
  });

  test('--html: a self-contained page with the verdict and one row per request, as Chromium renders it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ffetch-doctor-html-'));
    try {
      const file = join(dir, 'doctor.html');
      const r = await run(['doctor', url, '--resolve', resolve, '--objects', '1', '--arch', 'x86_64', '--json', '--html', file]);
      expect(r.stderr).toBe(`HTML report: ${file}\n`);
      const result = JSON.parse(r.stdout) as { requests: unknown[] };
      const page = readFileSync(file, 'utf8');
      expect(page).not.toMatch(/<script[\s>]|https?:\/\/(?!localhost|127\.0\.0\.1|\[::1\])[a-z]/i);
      const dom = await dumpDom(file);
      expect(dom).toContain('your IPv6 route is');
      // The requests table: a caption, then one body row per request the doctor made.
      const table = /<caption>Requests \((\d+)\)<\/caption>([\s\S]*?)<\/table>/.exec(dom);
      expect(table?.[1]).toBe(String(result.requests.length));
      expect((table?.[2]?.match(/<tr>/g) ?? []).length).toBe(result.requests.length + 1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('usage errors: a bad --resolve, a file remote', async () => {
    const bad = await run(['doctor', url, '--resolve', 'localhost']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--resolve must be HOST:PORT:ADDRESS');
    const file = await run(['doctor', 'file:///tmp/']);
    expect(file.code).toBe(2);
    expect(file.stderr).toContain('doctor needs an http(s) remote');
  });
});
