/**
 * End-to-end: the built `flathub-fetch` bin against fixture repositories served by nginx (and
 * the embedded sample via `demo`), with and without --json, asserting output content.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { fixtureSets, REPO_ROOT } from '../support/fixtures.js';
import { type NginxServer, startNginx } from '../support/nginx.js';
import { checkout, copyRepo, fsck, treeManifest } from '../support/ostree.js';
import { describeWithTools } from '../support/tools.js';
import { runCliSync } from '../support/cli.js';

const set = fixtureSets().at(-1);
if (set === undefined) throw new Error('no fixtures');
const m = set.manifest.repos;

const run = runCliSync;

test('--help lists every command; each command has --help with usage and examples', () => {
  const top = run(['--help']);
  expect(top.code).toBe(0);
  for (const c of ['refs', 'deltas', 'plan', 'pull', 'compare', 'checkout', 'demo']) {
    expect(top.stdout).toContain(`  ${c} `);
    const h = run([c, '--help']);
    expect(h.code, c).toBe(0);
    expect(h.stdout).toMatch(new RegExp(`^Usage: flathub-fetch ${c}`));
    expect(h.stdout).toContain('Example');
    // Every option the command accepts is documented in its help, --json included.
    expect(h.stdout, c).toContain('--json');
  }
  expect(top.stdout).toContain('Exit codes: 0 ok, 1 failure, 2 usage error, 3 verification failure');
});

test('`npx flathub-fetch --help` works from the repository root after setup', () => {
  const r = spawnSync('npx', ['--no-install', 'flathub-fetch', '--help'], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 60_000 });
  expect(r.status, r.stderr).toBe(0);
  expect(r.stdout).toContain('Usage: flathub-fetch <command> [options]');
});

test('usage errors exit 2 with one line', () => {
  const r = run(['nope']);
  expect(r.code).toBe(2);
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
  const bad = run(['refs', '--bogus']);
  expect(bad.code).toBe(2);
  expect(bad.stderr).toContain("Unknown option '--bogus'");
  const remote = run(['refs', './does-not-exist.flatpakrepo']);
  expect(remote.code).toBe(2);
  expect(remote.stderr).toContain('does-not-exist.flatpakrepo');
});

test('an unreachable remote fails with exit 1 and one line naming the URL and cause', () => {
  const r = run(['refs', 'http://127.0.0.1:9/repo/']);
  expect(r.code).toBe(1);
  expect(r.stderr.trim()).toMatch(
    /^flathub-fetch refs: GET http:\/\/127\.0\.0\.1:9\/repo\/(config|summary\.idx): connection refused \(ECONNREFUSED\) \(after 6 attempts\)$/,
  );
});

test('pull from a server that never answers fails after the usual retries, not after the stall window', () => {
  // `pull` retries for as long as it makes progress (the stall window is 2 minutes); a server
  // that has never answered gets the finite retries instead.
  const dir = mkdtempSync(join(tmpdir(), 'ffetch-cli-'));
  const dest = join(dir, 'repo');
  const r = run(['pull', 'http://127.0.0.1:9/repo/', 'app/org.example.Hello/x86_64/stable', '--repo', dest]);
  expect(r.code).toBe(1);
  expect(r.stderr.trim()).toMatch(
    /^flathub-fetch pull: GET http:\/\/127\.0\.0\.1:9\/repo\/(config|summary\.idx): connection refused \(ECONNREFUSED\) \(after 6 attempts\)$/,
  );
  expect(existsSync(dest)).toBe(false); // the repository it would have created is not left behind
  rmSync(dir, { recursive: true, force: true });
});

test('demo: the sample through an emulated link with injected 503s; plan and compare make the point', { timeout: 150_000 }, () => {
  // Human output without faults (--fail-every 0: nothing injected); the 503s are checked in --json.
  const human = run(['demo', '--rtt', '5', '--fail-every', '0']);
  expect(human.code, human.stderr).toBe(0);
  expect(human.stdout).toContain('app/org.example.Hello/x86_64/stable');
  expect(human.stdout).toMatch(/Static deltas/);
  expect(human.stdout).toMatch(/^chosen: delta-scratch/m);
  expect(human.stdout).toMatch(/^strategy +delta-scratch +objects$/m);
  expect(human.stdout).not.toContain('HTTP 503 on');
  expect(human.stderr).toMatch(/\d+ requests served, 0 of them answered 503 on purpose/);
  expect(human.stdout).toContain('What this shows');
  expect(human.stdout).toMatch(/against \d+ object by object \((\d+)× as many\)/);
  // The demo ends by saying where its HTML report is (or that this build has no renderer).
  expect(human.stdout.trimEnd().split('\n').at(-1)).toMatch(/^4\. HTML report/);
  expect(human.stderr).toContain('emulated link: 5 ms RTT');
  expect(human.stdout).not.toContain('\u001b[');

  const json = JSON.parse(run(['demo', '--json', '--rtt', '5']).stdout);
  expect(json.link).toEqual({ rttMs: 5, mbit: 50 });
  expect(json.refs.summarySource).toBe('summary.idx');
  expect(json.deltas.deltas.every((d: { error: string | null; parts: number }) => d.error === null && d.parts >= 1)).toBe(true);
  expect(json.plan.plan.strategy).toBe('delta-scratch');
  const [fresh, update] = json.compares;
  // Fresh install: the plan's totals are what the delta pull did, 503 retries aside.
  expect(fresh.deltas.strategy).toBe('delta-scratch');
  expect(fresh.objects.strategy).toBe('objects');
  expect(fresh.deltas.logicalRequests).toBe(json.plan.totals['delta-scratch'].requests);
  expect(fresh.objects.logicalRequests).toBe(json.plan.totals.objects.requests);
  // The sample is Flathub-like: hundreds of objects, at least 10× fewer requests with deltas.
  expect(fresh.objects.logicalRequests).toBeGreaterThan(500);
  expect(fresh.objects.logicalRequests).toBeGreaterThanOrEqual(10 * fresh.deltas.logicalRequests);
  expect(update.objects.logicalRequests).toBeGreaterThanOrEqual(10 * update.deltas.logicalRequests);
  expect(update.from).toMatch(/^[0-9a-f]{64}$/);
  expect(update.deltas.strategy).toBe('delta-from');
  // Every injected 503 is retried and recovered; those in the compared pulls are attributed.
  const failures = json.compares.flatMap((c: { deltas: { failures: unknown[] }; objects: { failures: unknown[] } }) => [
    ...c.deltas.failures,
    ...c.objects.failures,
  ]);
  expect(json.served.injected503).toBeGreaterThan(0);
  expect(failures.length).toBeGreaterThan(0);
  expect(failures.length).toBeLessThanOrEqual(json.served.injected503);
  for (const f of failures) expect(f).toMatchObject({ status: 503, recovered: true });
});

describeWithTools(['nginx', 'ostree'], 'CLI against nginx-served fixtures', () => {
  let nginx: NginxServer;
  beforeAll(async () => {
    nginx = await startNginx(`${set.root}/repos`);
  });
  afterAll(async () => nginx?.stop());

  test('refs: table and --json list what ostree rev-parse says', () => {
    const url = `${nginx.url}archive/`;
    const human = run(['refs', url]);
    expect(human.code).toBe(0);
    for (const [ref, commit] of Object.entries(m.archive?.heads ?? {}))
      expect(human.stdout).toMatch(new RegExp(`^${ref} +${commit.slice(0, 12)} `, 'm'));
    const json = JSON.parse(run(['refs', url, '--json']).stdout);
    expect(Object.fromEntries(json.refs.map((r: { name: string; commit: string }) => [r.name, r.commit]))).toEqual(m.archive?.heads);
    const glob = JSON.parse(run(['refs', url, 'runtime/*', '--json']).stdout);
    expect(glob.refs.map((r: { name: string }) => r.name)).toEqual(['runtime/org.example.Platform/x86_64/1']);
  });

  test('deltas --json: every delta with its parts and fallbacks as the superblock says', () => {
    const json = JSON.parse(run(['deltas', `${nginx.url}archive/`, '--json']).stdout);
    const expected = new Map(m.archive?.deltas.map((d) => [d.name, d]));
    expect(json.deltas.length).toBe(expected.size);
    for (const d of json.deltas) {
      const e = expected.get(d.name);
      expect(e, d.name).toBeDefined();
      expect(d.parts).toBe(e?.parts);
      expect(d.fallbacks).toBe(e?.fallback_count);
      expect(d.error).toBeNull();
    }
    const swapped = JSON.parse(run(['deltas', `${nginx.url}archive-swapped/`, '--json']).stdout);
    expect(swapped.deltas.every((d: { endianness: string }) => d.endianness.startsWith('big'))).toBe(true);
  });

  test('pull then checkout: table and --json output, files on disk equal the server tree', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ffetch-cli-'));
    try {
      const repo = join(dir, 'repo');
      const ref = 'app/org.example.Hello/x86_64/stable';
      const head = m.archive?.heads[ref] as string;
      const human = run(['pull', `${nginx.url}archive/`, ref, '--repo', repo]);
      expect(human.code, human.stderr).toBe(0);
      expect(human.stdout).toContain(`Pulled ${ref} → ${head.slice(0, 12)}`);
      expect(human.stdout).toContain('strategy: delta-scratch');
      expect(human.stdout).toMatch(/delta-part +\d+/);
      const again = JSON.parse(run(['pull', `${nginx.url}archive/`, ref, '--repo', repo, '--json']).stdout);
      expect(again.strategy).toBe('up-to-date');
      expect(again.commit).toBe(head);
      const objects = JSON.parse(
        run(['pull', `${nginx.url}archive/`, ref, '--repo', join(dir, 'objects'), '--no-deltas', '--json']).stdout,
      );
      expect(objects.strategy).toBe('objects');
      expect(objects.requests.byPurpose.file).toBeGreaterThan(0);
      expect(objects.requests.byPurpose['delta-part']).toBeUndefined();
      const co = run(['checkout', '--repo', repo, ref, join(dir, 'tree'), '--json']);
      expect(co.code, co.stderr).toBe(0);
      expect(JSON.parse(co.stdout)).toEqual({ repo, ref, commit: head, dest: join(dir, 'tree') });
      expect(treeManifest(join(dir, 'tree'))).toEqual(treeManifest(checkout(copyRepo(set.repoPath('archive')), head)));
      const missing = run(['pull', `${nginx.url}archive/`, 'app/nope/x86_64/stable', '--repo', repo]);
      expect(missing.code).toBe(1);
      expect(missing.stderr.trim().split('\n')).toHaveLength(1);
      expect(missing.stderr).toContain('refs/heads/app/nope/x86_64/stable');
      expect(run(['pull', `${nginx.url}archive/`, ref]).code).toBe(2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('pull --mode bare-user-only then checkout; a bad or conflicting --mode is refused', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ffetch-cli-'));
    try {
      const repo = join(dir, 'repo');
      const ref = 'app/org.example.Hello/x86_64/stable';
      const head = m.archive?.heads[ref] as string;
      const r = run(['pull', `${nginx.url}archive/`, ref, '--repo', repo, '--mode', 'bare-user-only', '--json']);
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout).strategy).toBe('delta-scratch');
      expect(readFileSync(join(repo, 'config'), 'utf8')).toContain('mode=bare-user-only');
      expect(fsck(repo)).toContain('Verifying content integrity');
      const co = run(['checkout', '--repo', repo, ref, join(dir, 'tree')]);
      expect(co.code, co.stderr).toBe(0);
      expect(treeManifest(join(dir, 'tree'))).toEqual(treeManifest(checkout(copyRepo(set.repoPath('archive')), head)));
      const bad = run(['pull', `${nginx.url}archive/`, ref, '--repo', join(dir, 'x'), '--mode', 'bare']);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain('--mode must be archive or bare-user-only, got "bare"');
      const conflict = run(['pull', `${nginx.url}archive/`, ref, '--repo', repo, '--mode', 'archive']);
      expect(conflict.code).toBe(2);
      expect(conflict.stderr.trim().split('\n')).toHaveLength(1);
      expect(conflict.stderr).toContain('is a repository in mode bare-user-only, not archive');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('flatpak remote with --arch aarch64 reads that subsummary', () => {
    const json = JSON.parse(run(['refs', `${nginx.url}flatpak/`, '--arch', 'aarch64', '--json']).stdout);
    expect(json.arch).toBe('aarch64');
    expect(json.refs.map((r: { name: string }) => r.name)).toContain('app/org.example.Hello/aarch64/stable');
    expect(json.refs.some((r: { name: string }) => r.name.includes('x86_64'))).toBe(false);
  });
});

test('every option a command accepts is in its usage line and its help text', async () => {
  const { readdirSync } = await import('node:fs');
  const dir = join(REPO_ROOT, 'packages', 'cli', 'src', 'commands');
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts'))) {
    const mod = (await import(join(dir, file))) as Record<string, unknown>;
    const command = Object.values(mod).find(
      (v): v is { name: string; usage: string; help: string; options: Record<string, unknown> } =>
        typeof v === 'object' && v !== null && 'usage' in v && 'options' in v,
    );
    expect(command, file).toBeDefined();
    for (const option of [...Object.keys(command?.options ?? {}), 'json']) {
      expect(command?.usage, `${command?.name} usage: --${option}`).toContain(`--${option}`);
      expect(command?.help, `${command?.name} help: --${option}`).toMatch(new RegExp(`^ +--${option}\\b`, 'm'));
    }
  }
});
