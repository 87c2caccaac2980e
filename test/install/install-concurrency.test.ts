/**
 * Writing into a flatpak installation next to flatpak itself:
 *
 * - the repository lock: while we hold it shared, `ostree prune` (exclusive) waits, and runs
 *   once we release it;
 * - a `flatpak uninstall --delete-data` + `flatpak uninstall --unused` + `flatpak install`
 *   loop (flatpak pulling and pruning for itself) while we download another app sharing most
 *   of its objects, again and again: `ostree fsck` of the installation's repository finds
 *   nothing wrong, our app deploys, flatpak's is intact;
 * - kill -9 in the middle of an install (objects still arriving, slowly), then the same
 *   install again: it completes without requesting any object the killed run had written, and
 *   flatpak deploys the result.
 */
import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { handOverCommands, installationLockFiles, installRefs, lockFiles, runFlatpak } from '../../packages/client/src/index.js';
import { type FaultPolicy, RepoServer } from '../../packages/client/src/testing/index.js';
import { fixtureSets, REPO_ROOT } from '../support/fixtures.js';
import { APP, type FlatpakWorld, OTHER } from '../support/flatpakInstall.js';
import { useServedFlatpakWorld } from '../support/flatpakSuite.js';
import { fsck, ostree } from '../support/ostree.js';
import { describeWithTools } from '../support/tools.js';

const set = fixtureSets().at(-1);
if (set === undefined) throw new Error('no fixtures');
const fixtures = set;
const BIN = join(REPO_ROOT, 'packages/cli/dist/bin.js');

function objectNames(repo: string): Set<string> {
  const out = new Set<string>();
  for (const d of readdirSync(join(repo, 'objects'))) for (const f of readdirSync(join(repo, 'objects', d))) out.add(`${d}/${f}`);
  return out;
}

describeWithTools(['ostree', 'python3'], 'repository lock', () => {
  test('ostree prune waits while we hold the shared lock, and runs once it is released', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ffetch-lock-'));
    try {
      const repo = join(dir, 'repo');
      ostree(['init', `--repo=${repo}`, '--mode=bare-user-only']);
      const lock = await lockFiles([join(repo, '.lock')], 'shared');
      const prune = spawn('ostree', ['prune', `--repo=${repo}`, '--refs-only'], { stdio: 'ignore' });
      const exited = new Promise<number | null>((r) => prune.once('exit', (c) => r(c)));
      await new Promise((r) => setTimeout(r, 1500));
      expect(prune.exitCode).toBe(null); // still waiting for the exclusive lock
      await lock.release();
      expect(await exited).toBe(0);
      // A second shared holder is not blocked by the first.
      const a = await lockFiles([join(repo, '.lock')], 'shared');
      const b = await lockFiles([join(repo, '.lock')], 'shared');
      await Promise.all([a.release(), b.release()]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describeWithTools(['flatpak', 'nginx', 'ostree', 'gpg', 'python3', 'dbus-run-session'], 'installing next to flatpak', () => {
  let w: FlatpakWorld;
  useServedFlatpakWorld(fixtures, (world) => {
    w = world;
  });

  /**
   * A fresh user installation whose remote `test` is the repository served slowly (objects and
   * delta parts at `bytesPerSecond`) by a RepoServer in this process — so flatpak runs
   * asynchronously here (remote-add reads from it).
   */
  const slowInstallation = async (name: string, bytesPerSecond: number) => {
    const env = { ...w.env, FLATPAK_USER_DIR: join(w.userDir, '..', name) };
    mkdirSync(env.FLATPAK_USER_DIR as string, { recursive: true });
    const slow: FaultPolicy = (ctx) =>
      ctx.path.startsWith('/objects/') || ctx.path.startsWith('/deltas/') ? { kind: 'slow', bytesPerSecond } : null;
    const server = await RepoServer.start(w.repo, { faults: slow });
    const fp = (args: string[]) => promisify(execFile)('flatpak', args, { env });
    await fp(['remote-add', '--user', `--gpg-import=${join(fixtures.root, 'gpg', 'pubkey.gpg')}`, 'test', server.url]);
    return { env, server, fp };
  };

  test('a concurrent uninstall/prune/install loop: fsck clean, nothing lost on either side', { timeout: 120_000 }, async () => {
    const repo = join(w.userDir, 'repo');
    w.flatpak(['install', '--user', '-y', '--noninteractive', 'test', 'org.test.Hello']);
    const stop = join(w.userDir, '..', 'stop-loop');
    const script = `
      n=0
      while [ ! -e ${stop} ]; do
        flatpak uninstall --user -y --noninteractive --delete-data org.test.Hello >>${stop}.log 2>&1 || exit 11
        flatpak uninstall --user -y --noninteractive --unused >>${stop}.log 2>&1 || exit 12
        flatpak install --user -y --noninteractive test org.test.Hello >>${stop}.log 2>&1 || exit 13
        n=$((n+1)); echo $n
      done`;
    const loop: ChildProcess = spawn('dbus-run-session', ['--', 'bash', '-c', script], { env: w.env, stdio: ['ignore', 'pipe', 'ignore'] });
    let loops = 0;
    loop.stdout?.on('data', (c: Buffer) => {
      loops = Number(c.toString().trim().split('\n').at(-1));
    });
    const loopExit = new Promise<number | null>((r) => loop.once('exit', (c) => r(c)));
    let ours = 0;
    // Our side: download the other app (sharing most objects with flatpak's), drop our ref so a
    // prune may take its objects, and again — until flatpak's loop has gone round a few times.
    while ((loops < 3 || ours < 3) && ours < 25) {
      const r = await installRefs({ remote: 'test', refs: ['org.test.Other'], installation: 'user', env: w.env });
      expect(r.pulls.length).toBeGreaterThan(0);
      // Everything we wrote is there and verifies while our ref points at it. fsck takes no lock
      // itself: it holds the installation's locks shared (as a pull does), so flatpak's prune
      // cannot remove an object of a ref it has just listed.
      const held = await lockFiles(installationLockFiles(w.userDir, repo), 'shared');
      try {
        ostree(['fsck', `--repo=${repo}`]);
      } finally {
        await held.release();
      }
      ostree(['refs', `--repo=${repo}`, '--delete', `test:${OTHER}`]);
      ours++;
    }
    writeFileSync(stop, '');
    const code = await loopExit;
    expect(code, readFileSync(`${stop}.log`, 'utf8')).toBe(0);
    expect(loops).toBeGreaterThanOrEqual(3);
    // The last round is kept and deployed.
    const r = await installRefs({ remote: 'test', refs: ['org.test.Other'], installation: 'user', env: w.env });
    for (const args of handOverCommands('install', r)) expect((await runFlatpak(args, { env: w.env })).exitCode).toBe(0);
    expect(fsck(repo)).toContain('no errors found');
    expect(w.flatpak(['info', '--user', OTHER])).toContain(w.head(OTHER));
    expect(w.flatpak(['info', '--user', APP])).toContain(w.head(APP));
    execFileSync('flatpak', ['repair', '--user', '--dry-run'], { env: w.env, stdio: 'ignore' });
  });

  test('kill -9 mid-install, then again: completes without re-fetching a verified object', { timeout: 120_000 }, async () => {
    const { env, server, fp } = await slowInstallation('user-kill', 100_000);
    try {
      await fp(['config', '--user', '--set', 'languages', 'de;en;fr']);
      const repo = join(env.FLATPAK_USER_DIR as string, 'repo');
      const child = spawn(process.execPath, [BIN, 'install', '--user', '-y', '--download-only', 'test', 'org.test.Other'], {
        env,
        stdio: 'ignore',
      });
      const exited = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
      // Kill once some objects have been written (the Locale is fetched object by object).
      const deadline = Date.now() + 60_000;
      while (child.exitCode === null && Date.now() < deadline && objectNames(repo).size < 40) await new Promise((r) => setTimeout(r, 20));
      child.kill('SIGKILL');
      expect(await exited).toBe(null); // killed, not finished
      const kept = objectNames(repo);
      expect(kept.size).toBeGreaterThan(0);
      const start = server.log.length;
      // (Not execFileSync: the server runs in this process.)
      const again = spawn(process.execPath, [BIN, 'install', '--user', '-y', '--download-only', 'test', 'org.test.Other', '--json'], {
        env,
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let out = '';
      again.stdout?.on('data', (c: Buffer) => {
        out += c.toString();
      });
      expect(await new Promise((r) => again.once('exit', r))).toBe(0);
      expect(JSON.parse(out).ops.length).toBe(3);
      const refetched = server.log
        .slice(start)
        .filter((e) => e.path.startsWith('/objects/'))
        .map((e) => e.path.slice('/objects/'.length).replace(/\.filez$/, '.file'))
        .filter((p) => kept.has(p));
      expect(refetched).toEqual([]);
      expect(fsck(repo)).toContain('no errors found');
      // The lock of the killed run died with it: flatpak deploys now.
      await fp(['install', '--user', '-y', '--noninteractive', '--no-pull', 'test', OTHER]);
    } finally {
      await server.close();
    }
  });

  test('aborted through its AbortSignal: ERR_ABORTED, the locks released at once', { timeout: 60_000 }, async () => {
    const { env, server } = await slowInstallation('user-abort', 50_000);
    try {
      const controller = new AbortController();
      const events: string[] = [];
      const run = installRefs({
        remote: 'test',
        refs: ['org.test.Hello'],
        installation: 'user',
        env,
        signal: controller.signal,
        onEvent: (e) => {
          events.push(e.type);
          if (e.type === 'progress' && e.progress.bytes.done > 0) controller.abort();
        },
      });
      await expect(run).rejects.toMatchObject({ code: 'ERR_ABORTED' });
      expect(events).toContain('lock-wait');
      // Released: an exclusive lock (as a prune takes) is granted at once.
      const inst = join(env.FLATPAK_USER_DIR as string);
      const t0 = Date.now();
      const lock = await lockFiles([join(inst, 'repo-lock'), join(inst, 'repo', '.lock')], 'exclusive');
      expect(Date.now() - t0).toBeLessThan(5_000);
      await lock.release();
      expect(existsSync(join(inst, 'repo', 'refs', 'remotes', 'test', 'app'))).toBe(false);
    } finally {
      await server.close();
    }
  });
});
