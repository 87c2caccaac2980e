/**
 * End-to-end: `plan` and `compare` (and `refs`' EOL and size columns) of the built bin against
 * fixture repositories served by nginx and by RepoServer with injected 503s. The plan's figures
 * are checked against what the pulls then actually do, and the compare's failure list against
 * the server's own log.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { RepoServer } from '../../packages/client/src/testing/index.js';
import { fixtureSets } from '../support/fixtures.js';
import { type NginxServer, startNginx } from '../support/nginx.js';
import { ostree } from '../support/ostree.js';
import { describeWithTools } from '../support/tools.js';
import { runCli, runCliSync } from '../support/cli.js';

const set = fixtureSets().at(-1);
if (set === undefined) throw new Error('no fixtures');
const m = set.manifest.repos;
const APP = 'app/org.example.Hello/x86_64/stable';

const run = runCliSync;
/** Asynchronous: for servers running in this process. */
const runAsync = async (args: string[]) => (await runCli(args)).stdout;
const json = (args: string[]) => {
  const r = run([...args, '--json']);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
};

describeWithTools(['nginx', 'ostree'], 'plan and compare against nginx-served fixtures', () => {
  let nginx: NginxServer;
  let dir: string;
  beforeAll(async () => {
    nginx = await startNginx(`${set.root}/repos`);
    dir = mkdtempSync(join(tmpdir(), 'ffetch-plan-'));
  });
  afterAll(async () => {
    await nginx?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('plan from empty: the chosen delta and the object path match what pull then does', () => {
    const url = `${nginx.url}archive/`;
    const head = m.archive?.heads[APP] as string;
    const plan = json(['plan', url, APP]);
    expect(plan.target).toBe(head);
    expect(plan.plan.strategy).toBe('delta-scratch');
    // Every delta ending at the head, as the manifest (ostree's own view) lists them.
    const expected = (m.archive?.deltas ?? []).filter((d) => d.to === head).map((d) => d.from);
    expect(plan.deltas.map((d: { from: string | null }) => d.from).sort()).toEqual([...expected].sort());
    const scratch = m.archive?.deltas.find((d) => d.from === null && d.to === head);
    const chosen = plan.plan.chosen;
    expect(chosen.requests).toBe(1 + (scratch?.inline ? 0 : (scratch?.parts ?? 0)) + (scratch?.fallback_count ?? 0));
    expect(chosen.estimate).toBe('exact');

    const pulled = json(['pull', url, APP, '--repo', join(dir, 'a')]);
    expect(pulled.strategy).toBe(plan.plan.strategy);
    expect(pulled.requests.total).toBe(plan.totals['delta-scratch'].requests);
    const objects = json(['pull', url, APP, '--repo', join(dir, 'b'), '--no-deltas']);
    expect(objects.requests.total).toBe(plan.totals.objects.requests);
    // Bytes of the object path are an estimate from the delta's compressed sizes: same order of magnitude.
    const ratio = objects.bytes.wire / plan.totals.objects.bytes;
    expect(ratio).toBeGreaterThan(0.3);
    expect(ratio).toBeLessThan(3);

    const human = run(['plan', url, APP]);
    expect(human.code).toBe(0);
    expect(human.stdout).toContain(`chosen: delta-scratch`);
    expect(human.stdout).toMatch(
      new RegExp(`^total requests +- +${plan.totals['delta-scratch'].requests} +${plan.totals.objects.requests}$`, 'm'),
    );
    expect(human.stdout).not.toContain('\u001b[');
  });

  test('plan --from and --repo choose the delta from that revision; compare --from does what they said', () => {
    const url = `${nginx.url}archive/`;
    const head = m.archive?.heads[APP] as string;
    const prev = m.archive?.deltas.find((d) => d.to === head && d.from !== null)?.from;
    expect(prev).toBeDefined();
    // Without a from-scratch delta to PREV its objects are learnt by walking its dirtrees.
    const prevHasScratch = (m.archive?.deltas ?? []).some((d) => d.from === null && d.to === prev);
    const fromPlan = json(['plan', url, APP, '--from', prev as string]);
    expect(fromPlan.local).toMatchObject({ kind: 'from', from: prev, source: prevHasScratch ? 'superblock' : 'walk' });
    expect(fromPlan.plan.strategy).toBe('delta-from');
    expect(fromPlan.plan.chosen.from).toBe(prev);

    const repo = join(dir, 'prev');
    expect(run(['pull', url, `${APP}@${prev}`, '--repo', repo]).code).toBe(0);
    const repoPlan = json(['plan', url, APP, '--repo', repo]);
    expect(repoPlan.local.kind).toBe('repo');
    expect(repoPlan.plan.strategy).toBe('delta-from');
    expect(repoPlan.totals).toEqual(fromPlan.totals);

    const c = json(['compare', url, APP, '--from', prev as string]);
    expect(c.from).toBe(prev);
    expect(c.deltas.strategy).toBe('delta-from');
    expect(c.objects.strategy).toBe('objects');
    expect(c.deltas.requests).toBe(fromPlan.totals['delta-from'].requests);
    expect(c.objects.requests).toBe(fromPlan.totals.objects.requests);
    expect(c.deltas.requests).toBeLessThan(c.objects.requests);
    expect(c.deltas.errors + c.objects.errors).toBe(0);
    // The throwaway repositories are gone.
    expect(c.deltas.objects.fromDelta).toBeGreaterThan(0);
  });

  test('plan walks the dirtrees when no delta exists; the count matches the pull', () => {
    const url = `${nginx.url}flatpak/`;
    const ref = 'appstream/x86_64';
    const plan = json(['plan', url, ref, '--arch', 'x86_64']);
    expect(plan.deltas).toEqual([]);
    expect(plan.plan.strategy).toBe('objects');
    expect(plan.objectPath.method).toBe('walk');
    const pulled = json(['pull', url, ref, '--repo', join(dir, 'appstream'), '--arch', 'x86_64']);
    expect(pulled.requests.total).toBe(plan.totals.objects.requests);
    const purposes = pulled.requests.byPurpose;
    expect(plan.objectPath.walk.dirtrees).toBe(purposes.dirtree);
    expect(plan.objectPath.walk.files).toBe(purposes.file);
    const human = run(['plan', url, ref, '--arch', 'x86_64']);
    expect(human.stdout).toContain(`walked the target’s ${purposes.dirtree} dirtrees over HTTP`);
    const noWalk = json(['plan', url, ref, '--arch', 'x86_64', '--no-walk']);
    expect(noWalk.objectPath.method).toBe('none');
    expect(noWalk.totals.objects).toBeNull();
  });

  test('compare: side by side table; usage errors', () => {
    const human = run(['compare', `${nginx.url}archive/`, APP]);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toMatch(/^strategy +delta-scratch +objects$/m);
    expect(human.stdout).toMatch(/^errors +0 +0$/m);
    expect(human.stdout).toMatch(/The object pull made [\d.]+× the requests of the delta pull/);
    expect(run(['compare', `${nginx.url}archive/`, APP, '--from', 'nope']).code).toBe(2);
    expect(run(['plan', `${nginx.url}archive/`, APP, '--from', 'a'.repeat(64), '--repo', dir]).code).toBe(2);
  });
});

test('compare: every injected 503 is listed with its URL and recovered by a retry, as the server logged it', async () => {
  // Every 3rd object/delta request's first attempt is refused.
  let n = 0;
  const server = await RepoServer.start(set.repoPath('archive'), {
    faults: (ctx) =>
      ctx.attempt === 1 && /^\/(objects|deltas)\//.test(ctx.path) && ++n % 3 === 0 ? { kind: 'status', status: 503 } : null,
  });
  try {
    const c = JSON.parse(await runAsync(['compare', server.url, APP, '--json']));
    const injected = server.log.filter((e) => e.fault === 'status').map((e) => e.path);
    const failures = [...c.deltas.failures, ...c.objects.failures];
    expect(injected.length).toBeGreaterThan(2);
    expect(failures.map((f: { url: string }) => new URL(f.url).pathname).sort()).toEqual([...injected].sort());
    for (const f of failures) expect(f).toMatchObject({ status: 503, retried: true, recovered: true, attempt: 1 });
    expect(c.objects.errorsByStatus['503']).toBe(c.objects.failures.length);
    expect(c.objects.retries).toBe(c.objects.failures.length);
    expect(c.objects.waste.requests).toBeGreaterThanOrEqual(c.objects.failures.length);
  } finally {
    await server.close();
  }
});

describeWithTools(['flatpak', 'ostree'], 'refs shows end-of-life and sizes as flatpak writes them', () => {
  test('an EOL ref made by flatpak build-commit-from', async () => {
    const work = mkdtempSync(join(tmpdir(), 'ffetch-eol-'));
    const env = { ...process.env, FLATPAK_USER_DIR: join(work, 'u'), FLATPAK_SYSTEM_DIR: join(work, 's') };
    const sh = (args: string[]) => execFileSync('flatpak', args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const build = join(work, 'build');
      mkdirSync(join(build, 'files', 'bin'), { recursive: true });
      writeFileSync(
        join(build, 'metadata'),
        '[Application]\nname=org.example.Old\nruntime=org.example.Platform/x86_64/1\nsdk=org.example.Platform/x86_64/1\n',
      );
      writeFileSync(join(build, 'files', 'bin', 'old'), '#!/bin/sh\necho old\n'.repeat(50));
      chmodSync(join(build, 'files', 'bin', 'old'), 0o755);
      const repo = join(work, 'repo');
      sh(['build-finish', '--command=old', build]);
      sh(['build-export', '--arch=x86_64', '--disable-sandbox', '--no-update-summary', repo, build, 'stable']);
      const ref = 'app/org.example.Old/x86_64/stable';
      sh([
        'build-commit-from',
        '--end-of-life=Replaced by org.example.New',
        '--end-of-life-rebase=org.example.Old=org.example.New',
        `--src-ref=${ref}`,
        '--no-update-summary',
        repo,
        ref,
      ]);
      sh(['build-update-repo', repo]);

      const r = JSON.parse(await runAsync(['refs', repo, '--arch', 'x86_64', '--json']));
      const old = r.refs.find((x: { name: string }) => x.name === ref);
      expect(r.summarySource).toBe('summary.idx');
      expect(old.eol).toBe('Replaced by org.example.New');
      expect(old.eolRebase).toBe('app/org.example.New/x86_64/stable');
      // Flatpak's download size: the commit's .filez objects, as ostree lists them.
      const files = ostree(['ls', `--repo=${repo}`, '-R', '-C', ref])
        .split('\n')
        .filter((l) => l.startsWith('-'))
        .map((l) => l.trim().split(/\s+/)[4] as string);
      const filez = files.map((c) => statSync(join(repo, 'objects', c.slice(0, 2), `${c.slice(2)}.filez`)).size);
      expect(old.downloadSize).toBe([...new Set(files)].reduce((n, c) => n + (filez[files.indexOf(c)] as number), 0));
      expect(old.installedSize).toBeGreaterThanOrEqual(files.length > 0 ? 1 : 0);
      const human = await runAsync(['refs', repo, 'app/*', '--arch', 'x86_64']);
      expect(human).toMatch(
        /^app\/org\.example\.Old\/x86_64\/stable +[0-9a-f]{12} .* eol: Replaced by org\.example\.New → app\/org\.example\.New\/x86_64\/stable$/m,
      );
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
});
