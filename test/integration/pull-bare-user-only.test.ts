/**
 * Pulls into a bare-user-only repository (the mode of a Flatpak per-user installation's
 * repository): repositories made by the real ostree/flatpak tools, served by nginx; our
 * repository must pass `ostree fsck`, its `ostree checkout` must equal the server's byte for
 * byte, and its objects must be laid out as libostree lays them out (plain `.file` objects
 * with the object's permission bits and mtime 0, symlinks as symlinks).
 */
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { FlathubFetchError, LocalRepo, ObjectType, pull } from '../../packages/client/src/index.js';
import { fixtureSets } from '../support/fixtures.js';
import { startNginx } from '../support/nginx.js';
import { checkout, fsck, ostree, treeManifest } from '../support/ostree.js';
import { useFixtureNginx } from '../support/fixtureNginx.js';
import { describeWithTools } from '../support/tools.js';

const set = fixtureSets().at(-1);
if (set === undefined) throw new Error('no fixtures');
const m = set.manifest.repos;
const APP = 'app/org.example.Hello/x86_64/stable';

describeWithTools(['nginx', 'ostree'], `pull into bare-user-only over nginx (${set.name} fixtures)`, () => {
  const { url, newRepo, since, server, tmp } = useFixtureNginx(set, 'ffetch-buo-');
  /** fsck, checkout equality, and every content object stored the way libostree stores it. */
  const expectBareUserOnly = async (ours: string, repo: string, commit: string, withSymlinks = true) => {
    expect(readFileSync(join(ours, 'config'), 'utf8')).toContain('mode=bare-user-only\n');
    expect(fsck(ours)).toContain('Verifying content integrity');
    expect(treeManifest(checkout(ours, commit))).toEqual(treeManifest(checkout(server(repo), commit)));
    const local = await LocalRepo.open(ours);
    const names: string[] = [];
    for (const d of readdirSync(join(ours, 'objects'))) for (const f of readdirSync(join(ours, 'objects', d))) names.push(`${d}/${f}`);
    expect(names.filter((n) => n.endsWith('.filez'))).toEqual([]);
    const files = names.filter((n) => n.endsWith('.file'));
    expect(files.length).toBeGreaterThan(0);
    let symlinks = 0;
    for (const n of files) {
      const checksum = n.replace('/', '').replace('.file', '');
      const st = lstatSync(join(ours, 'objects', n));
      const { info } = await local.readContent(checksum);
      expect(st.mode, n).toBe(info.mode);
      if (st.isSymbolicLink()) symlinks++;
      else expect(st.mtimeMs, n).toBe(0);
    }
    if (withSymlinks) expect(symlinks).toBeGreaterThan(0);
    // Our own checkout of the bare-user-only repository equals ostree's.
    const dest = join(mkdtempSync(join(tmpdir(), 'ffetch-buo-co-')), 'tree');
    await local.checkout(commit, dest);
    expect(treeManifest(dest)).toEqual(treeManifest(checkout(server(repo), commit)));
    await local.close();
  };

  /**
   * An archive repository made by ostree with one commit on `branch` of `files` (name → bytes
   * and permission bits, committed as they are), served by nginx at the returned URL.
   */
  const serveTree = async (branch: string, files: Record<string, { text: string; mode: number }>) => {
    const base = mkdtempSync(join(tmp, `${branch}-`));
    const src = join(base, 'repo');
    const tree = join(base, 'tree');
    mkdirSync(tree);
    for (const [name, f] of Object.entries(files)) {
      writeFileSync(join(tree, name), f.text);
      chmodSync(join(tree, name), f.mode);
    }
    ostree(['init', `--repo=${src}`, '--mode=archive']);
    ostree(['commit', `--repo=${src}`, `--branch=${branch}`, '--owner-uid=0', '--owner-gid=0', '--no-xattrs', `--tree=dir=${tree}`]);
    ostree(['summary', '-u', `--repo=${src}`]);
    const nginx = await startNginx(base);
    return { url: `${nginx.url}repo/`, stop: () => nginx.stop() };
  };

  test('fresh pull with the from-scratch delta: same requests as into archive, objects as plain files', async () => {
    const repo = newRepo('fresh');
    const head = m.archive?.heads[APP] as string;
    const delta = m.archive?.deltas.find((d) => d.from === null && d.to === head);
    if (delta === undefined) throw new Error('fixture lacks the scratch delta');
    const log = since();
    const result = await pull({ url: url('archive'), ref: APP, repo, repoMode: 'bare-user-only' });
    expect(result.strategy).toBe('delta-scratch');
    expect(result.commit).toBe(head);
    // Every object the parts list (counted although the parts run concurrently), and the commit
    // the superblock carries.
    expect(delta.parts).toBeGreaterThan(1);
    expect(result.objects.fromDelta).toBe(delta.parts_meta.reduce((n, p) => n + p.nobjects, 0) + 1);
    const uris = log().map((e) => e.uri);
    expect(uris.filter((u) => u.includes('/objects/')).length).toBe(delta.fallback_count);
    expect(uris.length).toBe(4 + 1 + delta.parts + delta.fallback_count);
    await expectBareUserOnly(repo, 'archive', head);
  });

  test('update pulls read bsdiff and rollsum sources from the plain files', async () => {
    const repo = newRepo('update');
    const [a1, a2, a3] = (m.archive?.refs[APP] ?? []) as [string, string, string];
    await pull({ url: url('archive'), ref: `${APP}@${a1}`, repo, repoMode: 'bare-user-only' });
    const log = since();
    // No repoMode: an existing repository keeps its own.
    const second = await pull({ url: url('archive'), ref: `${APP}@${a2}`, repo });
    expect(second.strategy).toBe('delta-from');
    const d12 = m.archive?.deltas.find((d) => d.from === a1 && d.to === a2);
    expect(d12?.has_bsdiff_ops && d12.has_rollsum_ops).toBe(true);
    expect(log().filter((e) => e.uri.includes('/objects/'))).toEqual([]);
    await expectBareUserOnly(repo, 'archive', a2);
    const third = await pull({ url: url('archive'), ref: APP, repo, repoMode: 'bare-user-only' });
    expect(third.strategy).toBe('delta-from');
    await expectBareUserOnly(repo, 'archive', a3);
  });

  test('a damaged local read source: what the delta builds from it fails its checksum, the part is fetched as objects', async () => {
    // Read sources are not hashed when read (as in libostree): the objects built from them are.
    const repo = newRepo('damaged-source');
    const [a1, a2] = (m.archive?.refs[APP] ?? []) as [string, string];
    await pull({ url: url('archive'), ref: `${APP}@${a1}`, repo, repoMode: 'bare-user-only' });
    // A file changed between a1 and a2: its a1 version is what a2's from-revision delta reads.
    const files = (rev: string) =>
      new Map(
        ostree(['ls', `--repo=${server('archive')}`, '-R', '-C', rev])
          .split('\n')
          .map((l) => l.trim().split(/\s+/))
          .filter((f) => f[0]?.startsWith('-') && f.length >= 6)
          .map((f) => [f.slice(5).join(' '), f[4] as string]),
      );
    const before = files(a1);
    const after = files(a2);
    const changed = [...after]
      .filter(([path, c]) => before.has(path) && before.get(path) !== c)
      .map(([path]) => before.get(path) as string);
    expect(changed.length).toBeGreaterThan(0);
    for (const c of changed) {
      const file = join(repo, 'objects', c.slice(0, 2), `${c.slice(2)}.file`);
      chmodSync(file, 0o644);
      writeFileSync(file, 'damaged\n');
    }
    const events: string[] = [];
    const result = await pull({ url: url('archive'), ref: `${APP}@${a2}`, repo, onEvent: (e) => events.push(e.type) });
    expect(result.strategy).toBe('delta-from');
    expect(result.commit).toBe(a2);
    expect(result.partsRecovered).toBeGreaterThan(0);
    expect(events).toContain('part-fallback');
    const dest = join(mkdtempSync(join(tmpdir(), 'ffetch-buo-co-')), 'tree');
    const local = await LocalRepo.open(repo);
    await local.checkout(a2, dest);
    await local.close();
    expect(treeManifest(dest)).toEqual(treeManifest(checkout(server('archive'), a2)));
  });

  test('--no-deltas: every fetched .filez is inflated, verified and stored as a plain file', async () => {
    const repo = newRepo('objects');
    const head = m.archive?.heads[APP] as string;
    const result = await pull({ url: url('archive'), ref: APP, repo, deltas: 'never', repoMode: 'bare-user-only' });
    expect(result.strategy).toBe('objects');
    expect(result.objects.loose).toBeGreaterThan(10);
    await expectBareUserOnly(repo, 'archive', head);
  });

  test('a Flatpak repository through summary.idx', async () => {
    const repo = newRepo('flatpak');
    const head = m.flatpak?.heads[APP] as string;
    const result = await pull({ url: url('flatpak'), ref: APP, repo, arch: 'x86_64', repoMode: 'bare-user-only' });
    expect(result.commit).toBe(head);
    await expectBareUserOnly(repo, 'flatpak', head, false);
  });

  test('ostree itself reads what we wrote: a bare-user-only pull from our repository', async () => {
    // Our repository is a valid source for libostree (a local pull reads our .file objects).
    const ours = newRepo('source');
    const head = m.archive?.heads[APP] as string;
    await pull({ url: url('archive'), ref: APP, repo: ours, repoMode: 'bare-user-only', remote: null });
    const theirs = newRepo('theirs');
    ostree(['init', `--repo=${theirs}`, '--mode=archive']);
    ostree(['pull-local', `--repo=${theirs}`, ours, APP]);
    expect(fsck(theirs)).toContain('Verifying content integrity');
    expect(treeManifest(checkout(theirs, head))).toEqual(treeManifest(checkout(server('archive'), head)));
  });

  test('the mode of an existing repository is kept; a different repoMode is refused', async () => {
    const repo = newRepo('mismatch');
    await pull({ url: url('archive'), ref: APP, repo, deltas: 'never' });
    const err = await pull({ url: url('archive'), ref: APP, repo, repoMode: 'bare-user-only' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FlathubFetchError);
    expect((err as FlathubFetchError).code).toBe('ERR_INVALID_ARGUMENT');
    expect((err as FlathubFetchError).message).toContain('is a repository in mode archive, not bare-user-only');
    const bad = await pull({ url: url('archive'), ref: APP, repo, repoMode: 'bare' as 'archive' }).catch((e: unknown) => e);
    expect((bad as FlathubFetchError).code).toBe('ERR_INVALID_ARGUMENT');
  });

  test('a corrupt .file is detected when read', async () => {
    const repo = newRepo('corrupt');
    await pull({ url: url('archive'), ref: APP, repo, deltas: 'never', repoMode: 'bare-user-only' });
    const local = await LocalRepo.open(repo);
    const dir = readdirSync(join(repo, 'objects')).find((d) =>
      readdirSync(join(repo, 'objects', d)).some((f) => f.endsWith('.file') && lstatSync(join(repo, 'objects', d, f)).isFile()),
    ) as string;
    const name = readdirSync(join(repo, 'objects', dir)).find(
      (f) => f.endsWith('.file') && lstatSync(join(repo, 'objects', dir, f)).isFile(),
    ) as string;
    const file = join(repo, 'objects', dir, name);
    chmodSync(file, 0o644);
    writeFileSync(file, 'not the content\n');
    const checksum = dir + name.replace('.file', '');
    const err = await local.readContent(checksum).catch((e: unknown) => e);
    expect((err as FlathubFetchError).code).toBe('ERR_CHECKSUM_MISMATCH');
    expect((err as FlathubFetchError).message).toContain(name);
    expect(await local.has(ObjectType.FILE, checksum)).toBe(true);
    await local.close();
  });

  test('permission bits the umask would strip are set all the same, as libostree sets them', async () => {
    // Files created with their own bits need no fchmod, except where the process's umask
    // removes some: 0664 and 0775 under the usual 022.
    const umask = Number.parseInt(/^Umask:\s*([0-7]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? '0', 8);
    const modes = [0o600, 0o640, 0o644, 0o664, 0o700, 0o750, 0o755, 0o775];
    expect(modes.some((mode) => (mode & umask) !== 0)).toBe(true);
    const served = await serveTree(
      'modes',
      Object.fromEntries(modes.map((mode) => [`m${mode.toString(8)}`, { text: `mode ${mode.toString(8)}\n`, mode }])),
    );
    /** Pulls the tree into a new bare-user-only repository and checks every object's bits and mtime. */
    const pullAndCheck = async (name: string) => {
      const repo = newRepo(name);
      await pull({ url: served.url, ref: 'modes', repo, repoMode: 'bare-user-only' });
      expect(fsck(repo)).toContain('Verifying content integrity');
      const local = await LocalRepo.open(repo);
      try {
        const seen: number[] = [];
        for (const d of readdirSync(join(repo, 'objects')))
          for (const f of readdirSync(join(repo, 'objects', d)).filter((n) => n.endsWith('.file'))) {
            const st = lstatSync(join(repo, 'objects', d, f));
            const { info, content } = await local.readContent(`${d}${f.replace('.file', '')}`);
            expect(st.mode & 0o7777, f).toBe(Number.parseInt(/^mode ([0-7]+)/.exec(Buffer.from(content).toString())?.[1] ?? '', 8));
            expect(st.mode, f).toBe(info.mode);
            expect(st.mtimeMs, f).toBe(0);
            seen.push(st.mode & 0o7777);
          }
        expect(seen.sort((a, b) => a - b)).toEqual(modes);
      } finally {
        await local.close();
      }
      return repo;
    };
    try {
      const repo = await pullAndCheck('modes');
      // The umask changed later in the same process (077 strips bits of every mode here but 0600
      // and 0700) is the one the next pull's writes go by.
      const before = process.umask(0o077);
      try {
        await pullAndCheck('modes-umask-077');
      } finally {
        process.umask(before);
      }
      // libostree stores the same bits.
      const theirs = newRepo('modes-ostree');
      ostree(['init', `--repo=${theirs}`, '--mode=bare-user-only']);
      ostree(['remote', 'add', `--repo=${theirs}`, '--no-gpg-verify', 'r', served.url]);
      ostree(['pull', `--repo=${theirs}`, 'r', 'modes']);
      const bits = (r: string) =>
        readdirSync(join(r, 'objects'))
          .flatMap((d) =>
            readdirSync(join(r, 'objects', d))
              .filter((n) => n.endsWith('.file'))
              .map((f) => `${d}${f} ${(lstatSync(join(r, 'objects', d, f)).mode & 0o7777).toString(8)}`),
          )
          .sort();
      expect(bits(repo)).toEqual(bits(theirs));
    } finally {
      await served.stop();
    }
  });

  test('objects a bare-user-only repository cannot hold are refused with a clear error, like ostree does', async () => {
    // A tree with a world-writable file (mode 0777), committed as is.
    const odd = await serveTree('odd', {
      'ok.txt': { text: 'fine\n', mode: 0o644 },
      'open.txt': { text: 'world-writable\n', mode: 0o777 },
    });
    try {
      const repo = newRepo('odd');
      const err = await pull({ url: odd.url, ref: 'odd', repo, repoMode: 'bare-user-only' }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(FlathubFetchError);
      expect((err as FlathubFetchError).code).toBe('ERR_UNSUPPORTED_OBJECT');
      expect((err as FlathubFetchError).message).toMatch(/^file [0-9a-f]{64} cannot be stored in a bare-user-only repository: mode 0777/);
      // Nothing of it was stored; the commit stays partial.
      const stored = readdirSync(join(repo, 'objects')).flatMap((d) => readdirSync(join(repo, 'objects', d)));
      const bad = (err as FlathubFetchError).data.object as string;
      expect(stored).not.toContain(`${bad.slice(2)}.file`);
      expect(readdirSync(join(repo, 'refs', 'remotes'))).toEqual([]);
      // libostree refuses the same object in the same mode.
      const theirs = newRepo('odd-ostree');
      ostree(['init', `--repo=${theirs}`, '--mode=bare-user-only']);
      ostree(['remote', 'add', `--repo=${theirs}`, '--no-gpg-verify', 'r', odd.url]);
      expect(() => ostree(['pull', `--repo=${theirs}`, 'r', 'odd'])).toThrow(/invalid mode/);
      // Into an archive repository it is fine.
      const archive = newRepo('odd-archive');
      await pull({ url: odd.url, ref: 'odd', repo: archive });
      expect(fsck(archive)).toContain('Verifying content integrity');
    } finally {
      await odd.stop();
    }
  });
});
