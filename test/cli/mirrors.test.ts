/**
 * End-to-end: `flathub-fetch mirrors check` (the built bin) against a Flatpak fixture served by
 * real nginx — a healthy mirror and one without Range support — with and without --json, with
 * --metrics; exit codes.
 */
import { createRequire } from 'node:module';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { fixtureSets } from '../support/fixtures.js';
import { type NginxServer, startNginx } from '../support/nginx.js';
import { runCli } from '../support/cli.js';
import { describeWithTools } from '../support/tools.js';

const parsePrometheus = createRequire(import.meta.url)('parse-prometheus-text-format') as (
  text: string,
) => Array<{ name: string; metrics: Array<{ value: string; labels: Record<string, string> }> }>;
const set = fixtureSets().at(-1);
if (set === undefined) throw new Error('no fixtures');

const run = runCli;

describeWithTools(['nginx'], 'mirrors check (CLI)', () => {
  let primary: NginxServer;
  let healthy: NginxServer;
  let noRange: NginxServer;
  const key = join(set.root, 'gpg', 'pubkey.asc');
  beforeAll(async () => {
    [primary, healthy, noRange] = await Promise.all([
      startNginx(set.repoPath('flatpak')),
      startNginx(set.repoPath('flatpak')),
      startNginx(set.repoPath('flatpak'), { serverConfig: 'max_ranges 0;' }),
    ]);
  });
  afterAll(async () => Promise.all([primary, healthy, noRange].map((s) => s?.stop())));

  test('a healthy mirror: a table of passes, exit 0', async () => {
    const r = await run(['mirrors', 'check', '--primary', primary.url, healthy.url, '--refs', 'app/*', '--sample', '8', '--gpg-key', key]);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(/^MIRROR\s+KIND\s+FRESHNESS\s+TRUST\s+COMPLETENESS\s+HTTP\s+PERFORMANCE\s+STATUS$/);
    expect(lines[1]).toMatch(
      new RegExp(`^${healthy.url.replace(/[.]/g, '\\.')}\\s+full-mirror\\s+pass\\s+pass\\s+pass\\s+pass\\s+pass\\s+pass$`),
    );
    expect(r.stdout).toContain(`primary ${primary.url}: 2 of ${Object.keys(set.manifest.repos.flatpak?.heads ?? {}).length} refs checked`);
    expect(r.stdout).toContain(`keys: ${set.manifest.gpg.key_id} (option)`);
    expect(r.stdout).toMatch(/1 mirror: pass, [\d.]+ s/);
  });

  test('a mirror without Range support fails the http check: exit 1, the evidence shown; --json and --metrics say the same', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ffetch-mirrors-'));
    const metrics = join(dir, 'mirrors.prom');
    const args = [
      'mirrors',
      'check',
      '--primary',
      primary.url,
      healthy.url,
      noRange.url,
      '--refs',
      'app/*',
      '--sample',
      '8',
      '--gpg-key',
      key,
    ];
    const human = await run(args);
    expect(human.code).toBe(1);
    expect(human.stdout).toMatch(
      new RegExp(`${noRange.url.replace(/[.]/g, '\\.')}\\s+full-mirror\\s+pass\\s+pass\\s+pass\\s+fail\\s+pass\\s+fail`),
    );
    expect(human.stdout).toMatch(/ {2}fail http: .*Range ignored: 200 with \d+ bytes/);
    expect(human.stdout).toMatch(/2 mirrors: fail/);

    const r = await run([...args, '--json', '--metrics', metrics]);
    expect(r.code).toBe(1);
    const json = JSON.parse(r.stdout);
    expect(json.schema).toBe('flathub-fetch/mirror-check@1');
    expect(json.status).toBe('fail');
    expect(json.mirrors.map((m: { url: string; status: string }) => [m.url, m.status])).toEqual([
      [healthy.url, 'pass'],
      [noRange.url, 'fail'],
    ]);
    const http = json.mirrors[1].checks.find((c: { name: string }) => c.name === 'http');
    expect(http.status).toBe('fail');
    expect(http.evidence).toContainEqual(
      expect.objectContaining({
        status: 'fail',
        url: expect.stringContaining(noRange.url),
        expected: expect.stringMatching(/^206, Content-Range bytes 1-16\/\d+, 16 bytes$/),
      }),
    );
    for (const m of json.mirrors) {
      expect(m.checks.map((c: { name: string }) => c.name)).toEqual(['freshness', 'trust', 'completeness', 'http', 'performance']);
      for (const c of m.checks)
        for (const e of c.evidence) expect(Object.keys(e).sort()).toEqual(['expected', 'got', 'status', 'url', 'what']);
    }
    expect(json.primary.refs.selected).toEqual(['app/org.example.Hello/aarch64/stable', 'app/org.example.Hello/x86_64/stable']);

    const families = parsePrometheus(readFileSync(metrics, 'utf8')) as Array<{
      name: string;
      metrics: Array<{ value: string; labels: Record<string, string> }>;
    }>;
    const status = families.find((f) => f.name === 'flathub_fetch_mirror_status')?.metrics;
    expect(status?.map((s) => [s.labels.mirror, s.value])).toEqual([
      [healthy.url, '0'],
      [noRange.url, '2'],
    ]);
    const http2 = families
      .find((f) => f.name === 'flathub_fetch_mirror_check_status')
      ?.metrics.find((s) => s.labels.mirror === noRange.url && s.labels.check === 'http');
    expect(http2?.value).toBe('2');
  });

  test('usage errors exit 2 with one line; --help has examples', async () => {
    for (const args of [
      ['mirrors', 'check', healthy.url],
      ['mirrors', 'check', '--primary', primary.url],
      ['mirrors', 'frobnicate'],
      ['mirrors', 'check', '--primary', primary.url, healthy.url, '--sample', 'many'],
    ]) {
      const r = await run(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/^flathub-fetch mirrors: .+\nUsage: flathub-fetch mirrors check/);
    }
    const nomatch = await run(['mirrors', 'check', '--primary', primary.url, healthy.url, '--refs', 'nothing/*']);
    expect(nomatch.code).toBe(2);
    expect(nomatch.stderr).toContain('no ref of');
    const help = await run(['mirrors', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: flathub-fetch mirrors check --primary REMOTE MIRROR…/);
    expect(help.stdout).toContain('Examples:');
  });
});
