/**
 * The write side of LocalRepo judged by the real ostree: a repository built only through
 * `writeMetadata` / `writeContent` / `writeCommitMeta` / `writeRef` (content re-compressed by
 * us, from `readFilez` of the fixture) must pass `ostree fsck`, list its refs with `ostree
 * refs`, and check out — with `ostree checkout -U` and with our own `checkout()` — to exactly
 * what `ostree checkout -U` makes from the fixture repository (content, modes, symlink
 * targets, directory mtimes). `create()` must lay out what `ostree init --mode=archive` does;
 * `markPartial` must be what ostree treats as a partial commit.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFile, cp, lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { Checksum } from '../../packages/client/src/formats/checksum.js';
import { readFilez } from '../../packages/client/src/formats/Filez.js';
import { ObjectType } from '../../packages/client/src/formats/ObjectType.js';
import { defaultContentWorkers, LocalRepo } from '../../packages/client/src/repo/index.js';
import { PREFIX_READ_FROM } from '../../packages/client/src/repo/ObjectIndex.js';
import { fixtureSets } from '../support/fixtures.js';
import { describeWithTools, toolPath } from '../support/tools.js';

const set = fixtureSets().at(-1);
if (set === undefined) throw new Error('no fixtures');
const REPOS = Object.keys(set.manifest.repos).sort();
const EXT: Record<string, ObjectType> = {
  commit: ObjectType.COMMIT,
  dirtree: ObjectType.DIR_TREE,
  dirmeta: ObjectType.DIR_META,
  commitmeta: ObjectType.COMMIT_META,
  filez: ObjectType.FILE,
};

const ostree = (...args: string[]): string =>
  execFileSync(toolPath('ostree') ?? 'ostree', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

interface Entry {
  path: string;
  kind: 'dir' | 'file' | 'symlink';
  mode: number;
  detail: string;
}

/** Recursive lstat walk: kind, permission bits, sha256 of files, symlink targets, directory mtimes. */
async function snapshot(dir: string): Promise<Entry[]> {
  const out: Entry[] = [];
  const walk = async (p: string): Promise<void> => {
    const st = await lstat(p);
    const path = `/${relative(dir, p)}`;
    if (st.isDirectory()) {
      out.push({ path, kind: 'dir', mode: st.mode & 0o7777, detail: `mtime=${st.mtimeMs}` });
      for (const name of (await readdir(p)).sort()) await walk(join(p, name));
    } else if (st.isSymbolicLink()) {
      out.push({ path, kind: 'symlink', mode: st.mode & 0o7777, detail: await readlink(p) });
    } else if (st.isFile()) {
      const sha = createHash('sha256')
        .update(await readFile(p))
        .digest('hex');
      out.push({ path, kind: 'file', mode: st.mode & 0o7777, detail: `${st.size} ${sha}` });
    } else {
      throw new Error(`unexpected file type at ${p}`);
    }
  };
  await walk(dir);
  return out;
}

describeWithTools(['ostree'], `LocalRepo writes what ostree accepts (${set.name} fixtures)`, () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'ff-repo-ostree-'));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  test('create() lays out and configures a repository exactly like ostree init / remote add', async () => {
    const theirs = join(root, 'init-ostree');
    ostree('init', '--mode=archive', `--repo=${theirs}`);
    ostree('remote', 'add', `--repo=${theirs}`, '--no-gpg-verify', 'origin', 'https://example.com/repo');
    const ours = await LocalRepo.create(join(root, 'init-ours'), { remote: { name: 'origin', url: 'https://example.com/repo' } });
    const layout = async (p: string) => (await snapshot(p)).map((e) => `${e.kind} ${e.path} ${e.mode.toString(8)}`);
    expect(await layout(ours.path)).toEqual(await layout(theirs));
    expect(await readFile(join(ours.path, 'config'), 'utf8')).toBe(await readFile(join(theirs, 'config'), 'utf8'));
    expect(ostree('remote', 'list', '-u', `--repo=${ours.path}`).trim()).toBe('origin  https://example.com/repo');
  });

  test("content workers by default: by the mode of the repository ostree made (a pull's thread and one worker on two cores, unless archive)", async () => {
    // The function's rule, for a few machines.
    expect([1, 2, 3, 8].map((cores) => defaultContentWorkers('archive', cores))).toEqual([1, 2, 2, 2]);
    for (const mode of ['bare-user-only', 'bare-user', 'bare'] as const)
      expect([1, 2, 3, 8].map((cores) => defaultContentWorkers(mode, cores))).toEqual([1, 1, 2, 2]);
    // The mode is read from the config ostree wrote (`archive-z2` for archive), not assumed; an
    // explicit number wins in every mode.
    for (const mode of ['archive', 'bare-user-only', 'bare-user'] as const) {
      const path = join(root, `workers-${mode}`);
      ostree('init', `--mode=${mode}`, `--repo=${path}`);
      const repo = await LocalRepo.open(path);
      const pinned = await LocalRepo.open(path, { workers: 3 });
      try {
        expect(repo.mode).toBe(mode);
        expect(repo.options.workers, mode).toBe(defaultContentWorkers(mode));
        expect(pinned.options.workers).toBe(3);
      } finally {
        await repo.close();
        await pinned.close();
      }
    }
    // On two cores (this kind of machine, as in CI): two workers for archive, one for the other modes.
    if (availableParallelism() === 2) expect([defaultContentWorkers('archive'), defaultContentWorkers('bare-user-only')]).toEqual([2, 1]);
  });

  test('knowObjects: a few objects under objects/XX are looked up one by one, many get their directory read', async () => {
    // A repository made by ostree (the fixture); `objects/ab` and `objects/cd` made if missing.
    const path = join(root, 'index-lookups');
    await cp(set.repoPath('archive'), path, { recursive: true });
    for (const d of ['refs/heads', 'refs/remotes', 'tmp', 'state', 'objects/ab', 'objects/cd'])
      await mkdir(join(path, d), { recursive: true });
    const someDirtree = (await readdir(join(path, 'objects'), { recursive: true })).find((f) => f.endsWith('.dirtree')) as string;
    /** Places an object file (any bytes: the index goes by names) as `objects/XX/REST.dirtree`. */
    const place = (c: string) =>
      copyFile(join(path, 'objects', someDirtree), join(path, 'objects', c.slice(0, 2), `${c.slice(2)}.dirtree`));
    const fake = (prefix: string, i: number) => `${prefix}${i.toString(16).padStart(62, '0')}` as Checksum;
    const repo = await LocalRepo.open(path);
    try {
      const few = [fake('cd', 1), fake('cd', 2)];
      const many = Array.from({ length: PREFIX_READ_FROM }, (_, i) => fake('ab', i));
      await place(few[0] as string);
      await repo.knowObjects([...few, ...many].map((checksum) => ({ type: ObjectType.DIR_TREE, checksum })));
      expect(repo.hasCached(ObjectType.DIR_TREE, few[0] as Checksum)).toBe(true);
      expect(repo.hasCached(ObjectType.DIR_TREE, few[1] as Checksum)).toBe(false);
      // Objects that appear afterwards (another process): under objects/cd, which was not read,
      // one not asked about before is looked up when asked; what was asked is answered from memory.
      await place(fake('cd', 3));
      await place(few[1] as string);
      expect(repo.hasCached(ObjectType.DIR_TREE, fake('cd', 3))).toBe(true);
      expect(repo.hasCached(ObjectType.DIR_TREE, few[1] as Checksum)).toBe(false);
      // objects/ab, with PREFIX_READ_FROM objects asked about, was read: answered from memory.
      await place(fake('ab', 9999));
      expect(repo.hasCached(ObjectType.DIR_TREE, fake('ab', 9999))).toBe(false);
    } finally {
      await repo.close();
    }
  });

  for (const name of REPOS) {
    test(`${name}: every object through the API → ostree fsck, ostree refs, checkouts equal the fixture's`, {
      timeout: 180_000,
    }, async () => {
      const info = set.manifest.repos[name];
      if (info === undefined) throw new Error(name);
      // The fixture, runnable by ostree (git drops empty directories).
      const fixture = join(root, `${name}-fixture`);
      await cp(set.repoPath(name), fixture, { recursive: true });
      for (const d of ['refs/heads', 'refs/remotes', 'refs/mirrors', 'tmp', 'state', 'extensions'])
        await mkdir(join(fixture, d), { recursive: true });

      const repo = await LocalRepo.create(join(root, `${name}-ours`), { remote: { name: 'origin', url: 'http://127.0.0.1:1/repo/' } });
      try {
        const txn = repo.beginTransaction();
        let count = 0;
        for (const d of (await readdir(join(fixture, 'objects'))).sort()) {
          for (const f of (await readdir(join(fixture, 'objects', d))).sort()) {
            const [rest, ext] = f.split('.') as [string, string];
            const type = EXT[ext];
            if (type === undefined) throw new Error(`unexpected object ${f}`);
            const checksum = d + rest;
            const bytes = new Uint8Array(await readFile(join(fixture, 'objects', d, f)));
            if (type === ObjectType.FILE) {
              const { info: fi, content } = readFilez(bytes);
              expect(await txn.writeContent(checksum, fi, content)).toBe(true);
            } else if (type === ObjectType.COMMIT_META) {
              await txn.writeCommitMeta(checksum, bytes);
            } else {
              expect(await txn.writeMetadata(type, checksum, bytes)).toBe(true);
            }
            count++;
          }
        }
        expect(count).toBeGreaterThan(0);
        await txn.commit();
        for (const [ref, commit] of Object.entries(info.heads)) {
          await repo.writeRef(ref, commit);
          await repo.writeRef(ref, commit, { remote: 'origin' });
        }
        expect(await readdir(join(repo.path, 'tmp'))).toEqual(['cache']);

        const fsck = ostree('fsck', `--repo=${repo.path}`);
        // execFileSync throws on a non-zero exit; also require the success line.
        expect(fsck).toMatch(/object fsck of \d+ commits completed successfully - no errors found/);
        expect(fsck).not.toMatch(/corrupt/i);
        const refs = ostree('refs', `--repo=${repo.path}`).trim().split('\n').sort();
        const heads = Object.keys(info.heads);
        expect(refs).toEqual([...heads, ...heads.map((r) => `origin:${r}`)].sort());
        for (const [ref, commit] of Object.entries(info.heads)) expect(ostree('rev-parse', `--repo=${repo.path}`, ref).trim()).toBe(commit);

        for (const commit of Object.keys(info.commits).sort() as Checksum[]) {
          const fromFixture = join(root, `${name}-${commit.slice(0, 12)}-fixture`);
          const fromOurs = join(root, `${name}-${commit.slice(0, 12)}-ours`);
          const ourCheckout = join(root, `${name}-${commit.slice(0, 12)}-checkout`);
          ostree('checkout', '-U', `--repo=${fixture}`, commit, fromFixture);
          ostree('checkout', '-U', `--repo=${repo.path}`, commit, fromOurs);
          await repo.checkout(commit, ourCheckout);
          const expected = await snapshot(fromFixture);
          expect(expected.length, commit).toBeGreaterThan(1);
          expect(await snapshot(fromOurs), `ostree checkout of ours, ${commit}`).toEqual(expected);
          expect(await snapshot(ourCheckout), `our checkout, ${commit}`).toEqual(expected);
          expect((await repo.verifyCommit(commit)).ok).toBe(true);
        }

        // ostree honours our partial marker, and its removal.
        const head = Object.values(info.heads)[0] as Checksum;
        const pulling = repo.beginTransaction({ commit: head });
        await pulling.ready();
        expect(ostree('fsck', `--repo=${repo.path}`)).toMatch(/\b1 partial commits not verified/);
        await pulling.commit();
        expect(ostree('fsck', `--repo=${repo.path}`)).not.toMatch(/partial/);
      } finally {
        await repo.close();
      }
    });
  }
});
