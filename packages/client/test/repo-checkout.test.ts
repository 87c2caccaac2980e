/**
 * LocalRepo.checkout() and verifyCommit(): fixture commits checked out and compared with what
 * the tree says (modes, content, symlink targets); hostile trees (a symlink and a directory of
 * the same name, a name used twice, "..", "/") never write outside the destination and leave
 * nothing behind; abort; verifyCommit on missing and corrupted objects.
 */
import { cp, lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type Checksum, sha256Hex } from '../src/formats/checksum.js';
import { serializeCommit } from '../src/formats/Commit.js';
import { serializeDirMeta } from '../src/formats/DirMeta.js';
import { type DirTree, serializeDirTree } from '../src/formats/DirTree.js';
import { contentChecksum, type FileInfo, S_IFDIR, S_IFLNK, S_IFREG } from '../src/formats/FileHeader.js';
import { ObjectType } from '../src/formats/ObjectType.js';
import { objectPath } from '../src/formats/paths.js';
import { type CheckoutProgress, LocalRepo, listTree } from '../src/repo/index.js';
import type { RepoTransaction } from '../src/repo/RepoTransaction.js';
import { COMMITTED_FIXTURES } from '../../../test/support/fixtures.js';

const FIXTURE = join(COMMITTED_FIXTURES, 'repos', 'archive');
let root: string;
let fixture: LocalRepo;
let heads: Map<string, Checksum>;
let n = 0;
const tmp = (name: string) => join(root, `${name}-${n++}`);
const sameBytes = (a: Uint8Array, b: Uint8Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b);

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'ff-repo-checkout-'));
  fixture = await LocalRepo.open(FIXTURE);
  heads = await fixture.listRefs();
});
afterAll(async () => {
  await fixture.close();
  await rm(root, { recursive: true, force: true });
});

describe('checkout of fixture commits', () => {
  test('every path has the mode, content or target its tree says; progress counts files', async () => {
    for (const [ref, commit] of heads) {
      const dest = join(tmp('co'), 'deep', 'dest');
      const events: CheckoutProgress[] = [];
      const result = await fixture.checkout(commit, dest, { onProgress: (p) => events.push(p) });
      let files = 0;
      for await (const e of listTree(fixture, commit)) {
        const p = join(dest, e.path);
        const st = await lstat(p);
        if (e.kind === 'dir') {
          expect(st.isDirectory(), p).toBe(true);
          expect(st.mode & 0o7777, p).toBe(e.mode & 0o7777);
          expect(st.mtimeMs, p).toBe(0);
        } else if (e.kind === 'symlink') {
          files++;
          expect(st.isSymbolicLink(), p).toBe(true);
          expect(await readlink(p)).toBe(e.target);
        } else {
          files++;
          expect(st.isFile(), p).toBe(true);
          expect(st.mode & 0o7777, p).toBe(e.mode & 0o1777);
          expect(sameBytes(await readFile(p), (await fixture.readContent(e.checksum)).content), p).toBe(true);
        }
      }
      expect(result.files + result.symlinks, ref).toBe(files);
      expect(events.length).toBe(files);
      expect(events.at(-1)).toMatchObject({ phase: 'checkout', loaded: files, total: files });
      expect((await readdir(dirname(dest))).sort()).toEqual(['dest']);
    }
  });

  test('an existing destination is refused and left alone', async () => {
    const dest = tmp('exists');
    await mkdir(dest);
    await writeFile(join(dest, 'keep'), 'x');
    const commit = [...heads.values()][0] as Checksum;
    await expect(fixture.checkout(commit, dest)).rejects.toMatchObject({ code: 'ERR_PATH_CONFLICT' });
    expect(await readdir(dest)).toEqual(['keep']);
  });

  test('abort: ERR_ABORTED, no destination, no staging directory left', async () => {
    const parent = tmp('abort');
    const ac = new AbortController();
    const commit = heads.get('app/org.example.Hello/x86_64/stable') as Checksum;
    await expect(
      fixture.checkout(commit, join(parent, 'dest'), { signal: ac.signal, concurrency: 1, onProgress: () => ac.abort() }),
    ).rejects.toMatchObject({ code: 'ERR_ABORTED' });
    expect(await readdir(parent)).toEqual([]);
  });
});

describe('hostile trees', () => {
  let repo: LocalRepo;
  /** Where the hostile objects are written (a transaction that stays open). */
  let txn: RepoTransaction;
  let outside: string;
  const dirMeta = (mode = 0o755) => serializeDirMeta({ uid: 0, gid: 0, mode: S_IFDIR | mode, xattrs: [] });

  beforeAll(async () => {
    repo = await LocalRepo.create(tmp('hostile-repo'), { fsync: 'none' });
    txn = repo.beginTransaction();
    outside = tmp('outside');
    await mkdir(outside);
  });
  afterAll(async () => repo.close());

  const meta = async (bytes: Uint8Array): Promise<Checksum> => {
    const c = sha256Hex(bytes);
    await txn.writeMetadata(ObjectType.DIR_META, c, bytes);
    return c;
  };
  const file = async (info: Partial<FileInfo>, content = new Uint8Array(0)): Promise<Checksum> => {
    const full: FileInfo = { uid: 0, gid: 0, mode: S_IFREG | 0o644, rdev: 0, symlinkTarget: '', xattrs: [], size: content.length, ...info };
    const c = contentChecksum(full, content);
    await txn.writeContent(c, full, content);
    return c;
  };
  const tree = async (t: DirTree, viaApi = true): Promise<Checksum> => {
    const bytes = serializeDirTree(t);
    const c = sha256Hex(bytes);
    if (viaApi) await txn.writeMetadata(ObjectType.DIR_TREE, c, bytes);
    else {
      // Planted behind the API's back (as a corrupted or foreign repository could hold it).
      const p = join(repo.path, objectPath(c, ObjectType.DIR_TREE));
      await mkdir(dirname(p), { recursive: true });
      await writeFile(p, bytes);
    }
    return c;
  };
  const commit = async (rootTree: Checksum, rootMeta: Checksum): Promise<Checksum> => {
    const bytes = serializeCommit({
      metadata: [],
      parent: null,
      related: [],
      subject: 'hostile',
      body: '',
      timestamp: 0n,
      rootTree,
      rootMeta,
    });
    const c = sha256Hex(bytes);
    await txn.writeMetadata(ObjectType.COMMIT, c, bytes);
    return c;
  };
  /** The checkout fails with `code`; nothing appeared outside, no destination, no staging dir. */
  const refused = async (c: Checksum, code: string) => {
    const parent = tmp('dest');
    await mkdir(parent);
    await expect(repo.checkout(c, join(parent, 'dest'))).rejects.toMatchObject({ code });
    expect(await readdir(outside)).toEqual([]);
    expect(await readdir(parent)).toEqual([]);
  };

  test('symlink "x" -> outside, then directory "x" with a file: refused, nothing written outside', async () => {
    const m = await meta(dirMeta());
    const link = await file({ mode: S_IFLNK | 0o777, symlinkTarget: outside });
    const pwned = await file({}, new TextEncoder().encode('pwned\n'));
    const sub = await tree({ files: [{ name: 'pwned', checksum: pwned }], dirs: [] });
    const top = await tree({ files: [{ name: 'x', checksum: link }], dirs: [{ name: 'x', tree: sub, meta: m }] });
    await refused(await commit(top, m), 'ERR_PATH_CONFLICT');
  });

  test('one name twice (symlink to an outside file, then a regular file): refused', async () => {
    const m = await meta(dirMeta());
    const link = await file({ mode: S_IFLNK | 0o777, symlinkTarget: join(outside, 'target') });
    const data = await file({}, new TextEncoder().encode('overwrite\n'));
    const top = await tree({
      files: [
        { name: 'f', checksum: link },
        { name: 'f', checksum: data },
      ],
      dirs: [],
    });
    await refused(await commit(top, m), 'ERR_PATH_CONFLICT');
  });

  test('"..", "." and "a/b" names: writeMetadata refuses them; planted anyway, checkout refuses them', async () => {
    const m = await meta(dirMeta());
    const data = await file({}, new TextEncoder().encode('escape\n'));
    for (const name of ['..', '.', `../${outside.split('/').at(-1)}/escaped`]) {
      const bytes = serializeDirTree({ files: [{ name, checksum: data }], dirs: [] });
      await expect(txn.writeMetadata(ObjectType.DIR_TREE, sha256Hex(bytes), bytes)).rejects.toMatchObject({ code: 'ERR_UNSAFE_NAME' });
      expect(await repo.has(ObjectType.DIR_TREE, sha256Hex(bytes))).toBe(false);
      await refused(await commit(await tree({ files: [{ name, checksum: data }], dirs: [] }, false), m), 'ERR_UNSAFE_NAME');
      const sub = await tree({ files: [], dirs: [] });
      await refused(await commit(await tree({ files: [], dirs: [{ name, tree: sub, meta: m }] }, false), m), 'ERR_UNSAFE_NAME');
    }
  });

  test('a dirmeta that is not a directory, and a missing object, are refused cleanly', async () => {
    const notDir = serializeDirMeta({ uid: 0, gid: 0, mode: S_IFREG | 0o644, xattrs: [] });
    await expect(txn.writeMetadata(ObjectType.DIR_META, sha256Hex(notDir), notDir)).rejects.toMatchObject({ code: 'ERR_FORMAT' });
    const m = await meta(dirMeta());
    const top = await tree({ files: [{ name: 'gone', checksum: 'ab'.repeat(32) }], dirs: [] });
    await refused(await commit(top, m), 'ERR_NOT_FOUND');
  });

  test('user mode: set-uid/set-gid dropped from files, directory modes (even 0555) applied last', async () => {
    const ro = await meta(dirMeta(0o555));
    const m = await meta(dirMeta(0o2755));
    const suid = await file({ mode: S_IFREG | 0o4755 }, new TextEncoder().encode('#!/bin/sh\n'));
    const sgid = await file({ mode: S_IFREG | 0o2711 }, new TextEncoder().encode('x'));
    const sticky = await file({ mode: S_IFREG | 0o1644 }, new TextEncoder().encode('y'));
    const inner = await tree({ files: [{ name: 'in-ro', checksum: sticky }], dirs: [] });
    const top = await tree({
      files: [
        { name: 'sgid', checksum: sgid },
        { name: 'suid', checksum: suid },
      ],
      dirs: [{ name: 'ro', tree: inner, meta: ro }],
    });
    const dest = join(tmp('modes'), 'dest');
    await repo.checkout(await commit(top, m), dest);
    expect((await lstat(dest)).mode & 0o7777).toBe(0o2755);
    expect((await lstat(join(dest, 'suid'))).mode & 0o7777).toBe(0o755);
    expect((await lstat(join(dest, 'sgid'))).mode & 0o7777).toBe(0o711);
    expect((await lstat(join(dest, 'ro'))).mode & 0o7777).toBe(0o555);
    expect((await lstat(join(dest, 'ro', 'in-ro'))).mode & 0o7777).toBe(0o1644);
  });
});

describe('verifyCommit', () => {
  test('reports missing and corrupt objects (and hides what a broken dirtree hides)', async () => {
    const path = tmp('verify');
    await cp(FIXTURE, path, { recursive: true });
    await mkdir(join(path, 'tmp'), { recursive: true });
    await mkdir(join(path, 'state'), { recursive: true });
    const repo = await LocalRepo.open(path);
    const commit = heads.get('app/org.example.Hello/x86_64/stable') as Checksum;
    const clean = await repo.verifyCommit(commit);
    expect(clean).toMatchObject({ ok: true, partial: false, missing: [], corrupt: [] });

    const files: Array<{ checksum: Checksum; size: number }> = [];
    const dirs: Checksum[] = [];
    for await (const e of listTree(repo, commit)) {
      if (e.kind === 'file' && !files.some((f) => f.checksum === e.checksum)) files.push({ checksum: e.checksum, size: e.size });
      if (e.kind === 'dir' && e.path !== '/') dirs.push(e.tree);
    }
    const big = files.reduce((a, b) => (b.size > a.size ? b : a));
    const small = files.find((f) => f.size > 0 && f.size < 1000) as { checksum: Checksum };
    await unlink(repo.objectFile(ObjectType.FILE, small.checksum));
    const bigFile = repo.objectFile(ObjectType.FILE, big.checksum);
    const bytes = await readFile(bigFile);
    bytes[bytes.length - 100] = (bytes[bytes.length - 100] as number) ^ 0xff;
    await writeFile(bigFile, bytes);
    // An interrupted pull of it: the transaction marked the commit partial.
    await repo.beginTransaction({ commit }).ready();

    const v = await repo.verifyCommit(commit);
    expect(v.ok).toBe(false);
    expect(v.partial).toBe(true);
    expect(v.missing).toEqual([{ type: ObjectType.FILE, checksum: small.checksum }]);
    expect(v.corrupt).toEqual([expect.objectContaining({ type: ObjectType.FILE, checksum: big.checksum })]);
    expect(v.objects).toBe(clean.objects);

    // A corrupt dirtree: reported, and its subtree is not walked.
    const deepest = dirs.at(-1) as Checksum;
    await writeFile(repo.objectFile(ObjectType.DIR_TREE, deepest), new Uint8Array([1, 2, 3]));
    const v2 = await repo.verifyCommit(commit);
    expect(v2.corrupt).toContainEqual(
      expect.objectContaining({ type: ObjectType.DIR_TREE, checksum: deepest, code: 'ERR_CHECKSUM_MISMATCH' }),
    );
    await unlink(repo.objectFile(ObjectType.COMMIT, commit));
    expect(await repo.verifyCommit(commit)).toMatchObject({
      ok: false,
      missing: [{ type: ObjectType.COMMIT, checksum: commit }],
      objects: 1,
    });
    await repo.close();
  });
});
