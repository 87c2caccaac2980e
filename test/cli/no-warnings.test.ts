/**
 * No warning noise on stderr: the CLI commands against repositories served by real nginx —
 * `mirrors check` of three mirrors at once (each with its connections in flight on the one
 * interrupt signal), refs, deltas, plan, pull (with every export), compare and checkout — print no
 * runtime warning (MaxListenersExceededWarning, deprecation, experimental, …). The exporter's
 * stderr is checked by the exporter suite.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { runCli, warningLines } from '../support/cli.js';
import { fixtureSets } from '../support/fixtures.js';
import { type NginxServer, startNginx } from '../support/nginx.js';
import { describeWithTools } from '../support/tools.js';

const set = fixtureSets().at(-1);
if (set === undefined) throw new Error('no fixtures');
const APP = 'app/org.example.Hello/x86_64/stable';

describeWithTools(['nginx'], 'no runtime warnings on stderr (CLI against nginx)', () => {
  let servers: NginxServer[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'ffetch-nowarn-'));
  beforeAll(async () => {
    servers = await Promise.all([0, 1, 2, 3].map(() => startNginx(set.repoPath('flatpak'))));
  });
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.stop()));
    rmSync(dir, { recursive: true, force: true });
  });

  test('mirrors check of three mirrors', async () => {
    const [primary, ...mirrors] = servers as [NginxServer, ...NginxServer[]];
    const key = join(set.root, 'gpg', 'pubkey.asc');
    const r = await runCli([
      'mirrors',
      'check',
      '--primary',
      primary.url,
      ...mirrors.map((m) => m.url),
      '--sample',
      '20',
      '--gpg-key',
      key,
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/3 mirrors: pass/);
    expect(warningLines(r.stderr), r.stderr).toEqual([]);
  });

  test('refs, deltas, plan, pull with exports, compare', async () => {
    const url = (servers[0] as NginxServer).url;
    const runs = [
      ['refs', url],
      ['deltas', url],
      ['plan', url, APP],
      [
        'pull',
        url,
        APP,
        '--repo',
        join(dir, 'pull'),
        '--har',
        join(dir, 'p.har'),
        '--metrics',
        join(dir, 'p.prom'),
        '--events',
        join(dir, 'p.ndjson'),
      ],
      ['pull', url, APP, '--repo', join(dir, 'objects'), '--no-deltas', '--connections', '16'],
      ['compare', url, APP],
      ['checkout', '--repo', join(dir, 'pull'), APP, join(dir, 'checkout')],
    ];
    for (const args of runs) {
      const r = await runCli(args);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
      expect(warningLines(r.stderr), args.join(' ')).toEqual([]);
    }
  });
});
