/**
 * `flathub-fetch install` / `update` with the real flatpak 1.14, in isolated installations,
 * against a repository made by flatpak build-export (runtime, its .Locale extension, app;
 * signed; static deltas) served by nginx:
 *
 * - install pulls app + runtime + Locale (only the configured languages' subpaths, signatures
 *   verified), flatpak deploys them at the served commits, and every request nginx logged
 *   carries our User-Agent: flatpak itself made none;
 * - update after new commits of app and runtime goes through the from-revision deltas, and
 *   `flatpak info` shows the new commits.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { runFlatpak } from '../../packages/client/src/index.js';
import { fixtureSets, REPO_ROOT } from '../support/fixtures.js';
import { APP, type FlatpakWorld, LOCALE, RUNTIME } from '../support/flatpakInstall.js';
import { useServedFlatpakWorld } from '../support/flatpakSuite.js';
import type { NginxServer } from '../support/nginx.js';
import { fsck } from '../support/ostree.js';
import { describeWithTools } from '../support/tools.js';

const set = fixtureSets().at(-1);
if (set === undefined) throw new Error('no fixtures');
const fixtures = set;
const BIN = join(REPO_ROOT, 'packages/cli/dist/bin.js');

interface OpJson {
  ref: string;
  why: string;
  strategy: string;
  subpaths: string[] | null;
  commit: string;
  downloadBytes: number | null;
  estimate: string;
  requests: number;
}

describeWithTools(['flatpak', 'nginx', 'ostree', 'gpg', 'python3'], 'install/update into a real flatpak installation', () => {
  let w: FlatpakWorld;
  let nginx: NginxServer;
  useServedFlatpakWorld(fixtures, (world, server) => {
    w = world;
    nginx = server;
  });

  const cli = (args: string[]): { ops: OpJson[]; flatpak: Array<{ args: string[]; exitCode: number }> } => {
    const out = execFileSync(process.execPath, [BIN, ...args, '--json'], {
      env: w.env,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const doc = JSON.parse(out);
    return Array.isArray(doc) ? doc[0] : doc;
  };
  /** Object and delta requests nginx logged since `start` (what a download would make). */
  const contentRequestsSince = (start: number) =>
    nginx
      .log()
      .slice(start)
      .filter((e) => e.uri.includes('/objects/') || e.uri.includes('/deltas/'));
  const info = (ref: string) => w.flatpak(['info', '--user', ref]);
  const commitOf = (ref: string) => /Commit: ([0-9a-f]{64})/.exec(info(ref))?.[1];

  test('install: app + runtime + Locale for de and fr only; flatpak deploys them with no request of its own', () => {
    const start = nginx.log().length;
    const r = cli(['install', '--user', '-y', 'test', 'org.test.Hello']);
    expect(r.ops.map((o) => [o.ref, o.why])).toEqual([
      [APP, 'requested'],
      [RUNTIME, 'runtime'],
      [LOCALE, 'related'],
    ]);
    expect(r.ops.find((o) => o.ref === LOCALE)?.subpaths).toEqual(['/de', '/fr']);
    expect(r.ops.find((o) => o.ref === APP)?.strategy).toBe('delta-scratch');
    expect(r.flatpak.map((f) => f.exitCode)).toEqual([0, 0]);
    expect(r.flatpak[1]?.args).toContain('--subpath=/de');

    const log = nginx.log().slice(start);
    expect(log.length).toBeGreaterThan(0);
    // Every request was ours: flatpak (libostree's User-Agent) made none.
    expect(log.filter((e) => !e.userAgent.startsWith('flathub-fetch'))).toEqual([]);
    // The Locale's English directory was never fetched: the only Locale content requested is de/fr.
    const list = w.flatpak(['list', '--user', '--all', '--columns=ref,active']);
    for (const ref of [APP, RUNTIME, LOCALE]) {
      const short = ref.split('/').slice(1).join('/');
      expect(list).toContain(`${short}\t${w.head(ref).slice(0, 12)}`);
      expect(commitOf(ref)).toBe(w.head(ref));
    }
    expect(info(LOCALE)).toContain('Subdirectories: /de,/fr');
    const files = readdirSync(join(w.userDir, LOCALE, 'active', 'files')).filter((f) => !f.startsWith('.'));
    expect(files.sort()).toEqual(['de', 'fr']);
    expect(fsck(join(w.userDir, 'repo'))).toContain('no errors found');
    // Installing again: nothing to do, no download.
    const again = nginx.log().length;
    const r2 = cli(['install', '--user', '-y', 'test', 'org.test.Hello']);
    expect(r2.ops).toEqual([]);
    expect(contentRequestsSince(again)).toEqual([]);
  });

  test('a remote whose signatures cannot be checked: exit 3, one line, nothing downloaded', () => {
    // gpg-verify=true and no key (flatpak remote-add itself refuses such a remote: ostree's does not).
    execFileSync('ostree', ['remote', 'add', `--repo=${join(w.userDir, 'repo')}`, 'nokeys', nginx.url]);
    const start = nginx.log().length;
    const r = spawnSync(process.execPath, [BIN, 'install', '--user', '-y', 'nokeys', 'org.test.Other'], { env: w.env, encoding: 'utf8' });
    expect(r.status).toBe(3);
    expect(r.stderr.trim().split('\n').at(-1)).toMatch(/^flathub-fetch install: remote nokeys has gpg-verify=true but no trusted keys/);
    expect(contentRequestsSince(start)).toEqual([]);
    expect(existsSync(join(w.userDir, 'repo', 'refs', 'remotes', 'nokeys'))).toBe(false);
    execFileSync('ostree', ['remote', 'delete', `--repo=${join(w.userDir, 'repo')}`, 'nokeys']);
  });

  test('update: new commits of app and runtime come through from-revision deltas; flatpak info shows them', () => {
    const oldApp = w.head(APP);
    const oldRuntime = w.head(RUNTIME);
    w.publish(2);
    expect(w.head(APP)).not.toBe(oldApp);
    const start = nginx.log().length;
    const r = cli(['update', '--user', '-y']);
    const by = new Map(r.ops.map((o) => [o.ref, o]));
    expect(by.get(APP)?.strategy).toBe('delta-from');
    expect(by.get(RUNTIME)?.strategy).toBe('delta-from');
    expect(by.get(APP)?.estimate).toBe('exact');
    expect(by.get(LOCALE)?.subpaths).toEqual(['/de', '/fr']);
    expect(r.flatpak.map((f) => f.exitCode)).toEqual([0]);
    const log = nginx.log().slice(start);
    expect(log.filter((e) => !e.userAgent.startsWith('flathub-fetch'))).toEqual([]);
    const superblocks = log.filter((e) => e.uri.endsWith('/superblock')).map((e) => e.uri);
    for (const [from, to] of [
      [oldApp, w.head(APP)],
      [oldRuntime, w.head(RUNTIME)],
    ] as Array<[string, string]>) {
      // Delta directories are named by the modified-base64 of FROM-TO: look for FROM's first bytes.
      const name = (c: string) => Buffer.from(c, 'hex').toString('base64').replace(/\//g, '_').replace(/=+$/, '');
      expect(superblocks.some((u) => u.includes(`${name(from).slice(0, 2)}/${name(from).slice(2)}-${name(to)}`))).toBe(true);
    }
    for (const ref of [APP, RUNTIME, LOCALE]) expect(commitOf(ref)).toBe(w.head(ref));
    expect(fsck(join(w.userDir, 'repo'))).toContain('no errors found');
  });

  test("an end-of-life app: update prints flatpak's notice and updates", () => {
    w.publish(3, { eol: 'Use org.test.Other instead' });
    const r = spawnSync(process.execPath, [BIN, 'update', '--user', '-y'], { env: w.env, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain(`Info: ${APP} is end-of-life, with reason:\n   Use org.test.Other instead\n`);
    expect(commitOf(APP)).toBe(w.head(APP));
  });

  test("the hand-over passes flatpak's exit code and its one-line error through", async () => {
    const run = await runFlatpak(['install', '--user', '--no-pull', '--noninteractive', '-y', 'test', 'app/org.test.Nope/x86_64/stable'], {
      env: w.env,
    });
    expect(run.exitCode).not.toBe(0);
    expect(run.error).toMatch(/^error: /);
    expect(run.error?.split('\n')).toHaveLength(1);
  });
});
