/**
 * The write side of LocalRepo (its transactions) on temp directories, fed with every object of the committed
 * `archive` fixture repository (made by the real ostree): layout, verified atomic writes,
 * refusal of corrupt bytes (nothing in objects/, nothing left in tmp/), the object index,
 * concurrent writes of one object, inline vs worker parity, partial markers and refs.
 */
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateRawSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { isFlathubFetchError } from '../src/errors/FlathubFetchError.js';
import type { Checksum } from '../src/formats/checksum.js';
import { encodeFilezHeader, type FileInfo, S_IFREG, withFilezSize } from '../src/formats/FileHeader.js';
import { readFilez } from '../src/formats/Filez.js';
import { ObjectType } from '../src/formats/ObjectType.js';
import { objectPath } from '../src/formats/paths.js';
import { type CreateRepoOptions, LocalRepo, type LocalRepoOptions, listTree, REPO_DIRS, repoConfigText } from '../src/repo/index.js';
import type { RepoTransaction } from '../src/repo/RepoTransaction.js';
import { syncAllFilesystems, syncFilesystem } from '../src/repo/syncFilesystem.js';
import { COMMITTED_FIXTURES } from '../../../test/support/fixtures.js';
import { tmpLeftovers } from '../../../test/support/repoChecks.js';

const FIXTURE = join(COMMITTED_FIXTURES, 'repos', 'archive');
const EXT: Record<string, ObjectType> = {
  commit: ObjectType.COMMIT,
  dirtree: ObjectType.DIR_TREE,
  dirmeta: ObjectType.DIR_META,
  commitmeta: ObjectType.COMMIT_META,
  filez: ObjectType.FILE,
};

interface FixtureObject {
  type: ObjectType;
  checksum: Checksum;
  bytes: Uint8Array;
}

async function fixtureObjects(repo: string): Promise<FixtureObject[]> {
  const out: FixtureObject[] = [];
  for (const d of (await readdir(join(repo, 'objects'))).sort()) {
    for (const f of (await readdir(join(repo, 'objects', d))).sort()) {
      const [rest, ext] = f.split('.') as [string, string];
      const type = EXT[ext];
      if (type === undefined) throw new Error(`unexpected object ${f}`);
      out.push({ type, checksum: d + rest, bytes: new Uint8Array(await readFile(join(repo, 'objects', d, f))) });
    }
  }
  return out;
}

let root: string;
let objects: FixtureObject[];
let heads: Map<string, Checksum>;
let n = 0;
const fresh = async (options: LocalRepoOptions & CreateRepoOptions = {}) =>
  LocalRepo.create(join(root, `repo-${n++}`), { fsync: 'none', ...options });
/** One open transaction per repository: the writes of a test go through it. */
const transactions = new WeakMap<LocalRepo, RepoTransaction>();
const txn = (repo: LocalRepo): RepoTransaction => {
  let t = transactions.get(repo);
  if (t === undefined) {
    t = repo.beginTransaction();
    transactions.set(repo, t);
  }
  return t;
};
/** Byte equality without vitest's element-by-element deep equality (slow on megabytes). */
const sameBytes = (a: Uint8Array, b: Uint8Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b);
const exists = (p: string) =>
  stat(p).then(
    () => true,
    () => false,
  );

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'ff-repo-write-'));
  objects = await fixtureObjects(FIXTURE);
  heads = await (await LocalRepo.open(FIXTURE)).listRefs();
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const byType = (t: ObjectType) => objects.filter((o) => o.type === t);
/** A copy of `b` with one bit of byte `at` (from the end when negative) flipped. */
const flip = (b: Uint8Array, at: number) => {
  const c = b.slice();
  const i = at < 0 ? c.length + at : at;
  c[i] = (c[i] as number) ^ 0x01;
  return c;
};
/** A content object of at least `min` bytes (worker path) or below `max` (inline path). */
const content = (pred: (size: number) => boolean) => {
  for (const o of byType(ObjectType.FILE)) {
    const f = readFilez(o.bytes);
    if ((f.info.mode & 0o170000) === S_IFREG && pred(f.info.size)) return { ...o, ...f };
  }
  throw new Error('no such fixture object');
};

describe('create / open', () => {
  test('layout and config are those of `ostree init --mode=archive` (+ `remote add --no-gpg-verify`)', async () => {
    const repo = await fresh();
    for (const d of REPO_DIRS) expect((await stat(join(repo.path, d))).isDirectory(), d).toBe(true);
    expect(await readFile(join(repo.path, 'config'), 'utf8')).toBe('[core]\nrepo_version=1\nmode=archive-z2\n');
    expect(repo.mode).toBe('archive');
    expect(repoConfigText({ collectionId: 'org.example.Repo', remote: { name: 'origin', url: 'https://example.com/repo' } })).toBe(
      '[core]\nrepo_version=1\nmode=archive-z2\ncollection-id=org.example.Repo\n\n[remote "origin"]\nurl=https://example.com/repo\ngpg-verify=false\n',
    );
    await expect(LocalRepo.create(repo.path)).rejects.toMatchObject({ code: 'ERR_PATH_CONFLICT' });
    await expect(LocalRepo.open(join(root, 'nothing-here'))).rejects.toMatchObject({ code: 'ERR_NOT_FOUND' });
    expect(() => repoConfigText({ collectionId: 'nodots' })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
    expect(() => repoConfigText({ remote: { name: '../x', url: 'u' } })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
  });

  test('prepareObjectDirs makes objects/00 … objects/ff (what exists stays); objects are written into them', async () => {
    const repo = await fresh();
    await repo.loadObjectIndex();
    await txn(repo).ready();
    const dirs = (await readdir(join(repo.path, 'objects'))).sort();
    expect(dirs).toHaveLength(256);
    expect(dirs[0]).toBe('00');
    expect(dirs[255]).toBe('ff');
    const o = content((size) => size > 0 && size < 50_000);
    expect(await txn(repo).writeContent(o.checksum, o.info, o.content)).toBe(true);
    // Reopened: the index load finds the directories, and preparing again changes nothing.
    await repo.close();
    const again = await LocalRepo.open(repo.path);
    await again.loadObjectIndex();
    await txn(again).ready();
    expect((await readdir(join(repo.path, 'objects'))).length).toBe(256);
    expect(again.hasCached(ObjectType.FILE, o.checksum)).toBe(true);
    await again.close();
  });

  test('openOrCreate creates once, then opens; adds a missing remote, refuses a different URL', async () => {
    const path = join(root, `ooc-${n++}`);
    const a = await LocalRepo.openOrCreate(path, { mode: 'archive', fsync: 'none' });
    expect(a.mode).toBe('archive');
    const b = await LocalRepo.openOrCreate(path, { mode: 'archive', remote: { name: 'flathub', url: 'https://dl.flathub.org/repo/' } });
    expect(b.config.get('remote "flathub"')?.get('url')).toBe('https://dl.flathub.org/repo/');
    expect(b.config.get('remote "flathub"')?.get('gpg-verify')).toBe('false');
    const text = await readFile(join(path, 'config'), 'utf8');
    await LocalRepo.openOrCreate(path, { remote: { name: 'flathub', url: 'https://dl.flathub.org/repo/' } });
    expect(await readFile(join(path, 'config'), 'utf8')).toBe(text);
    await expect(LocalRepo.openOrCreate(path, { remote: { name: 'flathub', url: 'https://elsewhere/' } })).rejects.toMatchObject({
      code: 'ERR_PATH_CONFLICT',
    });
    expect(tmpLeftovers(b.path, { files: true })).toEqual([]);
  });

  test('maxObjectSize: a larger declared size is ERR_SIZE_LIMIT (a policy limit, not corruption)', async () => {
    const repo = await fresh({ maxObjectSize: 1000 });
    const big = content((s) => s > 1000);
    await expect(txn(repo).writeFilez(big.checksum, big.bytes)).rejects.toMatchObject({ code: 'ERR_SIZE_LIMIT' });
    expect(tmpLeftovers(repo.path, { files: true })).toEqual([]);
  });

  test('options are validated', async () => {
    await expect(fresh({ workers: 0 })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    await expect(fresh({ fsync: 'sometimes' as never })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
  });
});

/** Every head commit of the fixture verifies in `repo` and lists the same tree as in the fixture. */
async function expectFixtureTrees(repo: LocalRepo, fixture: LocalRepo): Promise<void> {
  for (const c of heads.values()) {
    expect((await repo.verifyCommit(c)).ok).toBe(true);
    const a: unknown[] = [];
    const b: unknown[] = [];
    for await (const e of listTree(repo, c)) a.push(e);
    for await (const e of listTree(fixture, c)) b.push(e);
    expect(a).toEqual(b);
  }
}

describe('writing every object of the fixture', () => {
  test('as fetched (writeMetadata, writeFilez, writeCommitMeta): byte-identical objects, every commit verifies', async () => {
    const repo = await fresh({ fsync: 'object' });
    try {
      const results = await Promise.all(
        objects.map((o) =>
          o.type === ObjectType.FILE
            ? txn(repo).writeFilez(o.checksum, o.bytes)
            : o.type === ObjectType.COMMIT_META
              ? txn(repo)
                  .writeCommitMeta(o.checksum, o.bytes)
                  .then(() => true)
              : txn(repo).writeMetadata(o.type, o.checksum, o.bytes),
        ),
      );
      expect(results.every((r) => r)).toBe(true);
      for (const o of objects) {
        expect(sameBytes(await readFile(join(repo.path, objectPath(o.checksum, o.type))), o.bytes), o.checksum).toBe(true);
      }
      for (const [ref, c] of heads) {
        await repo.writeRef(ref, c);
        const v = await repo.verifyCommit(c);
        expect(v, ref).toMatchObject({ ok: true, missing: [], corrupt: [], partial: false });
      }
      expect(await repo.listRefs()).toEqual(heads);
      expect(tmpLeftovers(repo.path, { files: true })).toEqual([]);
      // A second write of any object is a no-op.
      const again = await Promise.all(
        objects.slice(0, 10).map((o) => (o.type === ObjectType.FILE ? txn(repo).writeFilez(o.checksum, o.bytes) : false)),
      );
      expect(again.every((r) => r === false)).toBe(true);
    } finally {
      await repo.close();
    }
  });

  test('from content (writeContent after readFilez): our own deflate output reads back to the same trees', async () => {
    const repo = await fresh();
    const fixture = await LocalRepo.open(FIXTURE);
    try {
      for (const o of objects) {
        if (o.type === ObjectType.FILE) {
          const { info, content } = readFilez(o.bytes);
          expect(await txn(repo).writeContent(o.checksum, info, content)).toBe(true);
        } else if (o.type === ObjectType.COMMIT_META) await txn(repo).writeCommitMeta(o.checksum, o.bytes);
        else expect(await txn(repo).writeMetadata(o.type, o.checksum, o.bytes)).toBe(true);
      }
      expect(repo.workerThreads).toBeGreaterThan(0);
      for (const o of byType(ObjectType.FILE)) {
        const ours = readFilez(new Uint8Array(await readFile(join(repo.path, objectPath(o.checksum, o.type)))));
        const theirs = readFilez(o.bytes);
        expect(ours.info).toEqual(theirs.info);
        expect(sameBytes(ours.content, theirs.content), o.checksum).toBe(true);
      }
      await expectFixtureTrees(repo, fixture);
      expect(tmpLeftovers(repo.path, { files: true })).toEqual([]);
    } finally {
      await repo.close();
      await fixture.close();
      expect(repo.workerThreads).toBe(0);
    }
  });

  test('into bare-user-only, one object at a time (writeContent): plain files that read back to the same trees', async () => {
    const repo = await fresh({ mode: 'bare-user-only' });
    const fixture = await LocalRepo.open(FIXTURE);
    try {
      for (const o of objects) {
        if (o.type === ObjectType.FILE) {
          const { info, content } = readFilez(o.bytes);
          expect(await txn(repo).writeContent(o.checksum, info, content)).toBe(true);
          expect(await txn(repo).writeContent(o.checksum, info, content)).toBe(false);
        } else if (o.type === ObjectType.COMMIT_META) await txn(repo).writeCommitMeta(o.checksum, o.bytes);
        else expect(await txn(repo).writeMetadata(o.type, o.checksum, o.bytes)).toBe(true);
      }
      await expectFixtureTrees(repo, fixture);
      const [o] = byType(ObjectType.FILE).filter((x) => readFilez(x.bytes).content.length > 0) as [FixtureObject];
      const { info, content } = readFilez(o.bytes);
      const other = byType(ObjectType.FILE).find((x) => x.checksum !== o.checksum) as FixtureObject;
      await expect(txn(repo).writeContent(other.checksum, info, content)).rejects.toMatchObject({ code: 'ERR_CHECKSUM_MISMATCH' });
      expect(tmpLeftovers(repo.path, { files: true })).toEqual([]);
    } finally {
      await repo.close();
      await fixture.close();
    }
  });

  test('from content in batches (writeContentBatch): the same trees; duplicates and present objects skipped', async () => {
    const repo = await fresh({ fsync: 'commit' });
    const fixture = await LocalRepo.open(FIXTURE);
    try {
      await repo.loadObjectIndex();
      const files = byType(ObjectType.FILE).map((o) => ({ checksum: o.checksum, ...readFilez(o.bytes) }));
      const first = files[0] as (typeof files)[number];
      expect(await txn(repo).writeContent(first.checksum, first.info, first.content)).toBe(true);
      let reported = 0;
      // Everything, plus a duplicate of each of the first three: each stored once, the one written before skipped.
      const stored = await txn(repo).writeContentBatch([...files, ...files.slice(0, 3)], { onWritten: (n) => (reported += n) });
      expect(stored).toBe(files.length - 1);
      expect(reported).toBe(stored);
      for (const f of files) expect(repo.hasCached(ObjectType.FILE, f.checksum)).toBe(true);
      for (const o of objects) {
        if (o.type === ObjectType.COMMIT_META) await txn(repo).writeCommitMeta(o.checksum, o.bytes);
        else if (o.type !== ObjectType.FILE) await txn(repo).writeMetadata(o.type, o.checksum, o.bytes);
      }
      await expectFixtureTrees(repo, fixture);
      await txn(repo).commit();
      expect(tmpLeftovers(repo.path, { files: true })).toEqual([]);
    } finally {
      await repo.close();
      await fixture.close();
    }
  });

  test("metadata in batches (writeMetadataBatch), inline and in a worker: the fixture's bytes, 0644; duplicates and present objects skipped", async () => {
    const meta = objects.filter((o) => o.type !== ObjectType.FILE);
    const plain = meta.filter((o) => o.type !== ObjectType.COMMIT_META);
    // Inline: no worker has started, the batch is small.
    const inline = await fresh({ fsync: 'commit' });
    // A worker: started by a content object first (inlineDeflateBelow 0), then the batch goes to it.
    const pooled = await fresh({ fsync: 'commit', inlineDeflateBelow: 0 });
    const fixture = await LocalRepo.open(FIXTURE);
    try {
      const f = content((s) => s > 0);
      await txn(pooled).writeContent(f.checksum, f.info, f.content);
      expect(pooled.workerThreads).toBe(1);
      for (const repo of [inline, pooled]) {
        await repo.loadObjectIndex();
        const first = plain[0] as FixtureObject;
        expect(await txn(repo).writeMetadata(first.type, first.checksum, first.bytes)).toBe(true);
        // Everything, plus a duplicate of the first three: each stored once, the one written before skipped.
        const stored = await txn(repo).writeMetadataBatch([...meta, ...plain.slice(0, 3)]);
        expect(stored).toBe(plain.length - 1);
        expect(repo.workerThreads).toBe(repo === inline ? 0 : 1);
        for (const o of meta) {
          const file = join(repo.path, objectPath(o.checksum, o.type));
          expect(sameBytes(await readFile(file), o.bytes), file).toBe(true);
          if (o.type !== ObjectType.COMMIT_META) expect(repo.hasCached(o.type, o.checksum)).toBe(true);
          expect((await stat(file)).mode & 0o777).toBe(0o644 & ~process.umask());
        }
        expect(await txn(repo).writeMetadataBatch(plain)).toBe(0);
        await txn(repo).writeContentBatch(byType(ObjectType.FILE).map((o) => ({ checksum: o.checksum, ...readFilez(o.bytes) })));
        await expectFixtureTrees(repo, fixture);
        await txn(repo).commit();
        expect(tmpLeftovers(repo.path, { files: true })).toEqual([]);
      }
    } finally {
      await inline.close();
      await pooled.close();
      await fixture.close();
    }
  });

  test('writeMetadataBatch: one bad object refuses the batch before anything is written; a filesystem error names the path', async () => {
    const repo = await fresh({ inlineDeflateBelow: 0 });
    try {
      await repo.loadObjectIndex();
      const f = content((s) => s > 0);
      await txn(repo).writeContent(f.checksum, f.info, f.content);
      expect(repo.workerThreads).toBe(1);
      const trees = byType(ObjectType.DIR_TREE);
      const [good, bad] = trees as [FixtureObject, FixtureObject];
      const batch = txn(repo).writeMetadataBatch([good, { ...bad, bytes: flip(bad.bytes, 3) }]);
      await expect(batch).rejects.toMatchObject({ code: 'ERR_CHECKSUM_MISMATCH', data: { object: bad.checksum } });
      expect(await exists(join(repo.path, objectPath(good.checksum, good.type)))).toBe(false);
      // objects/XX taken by a file: the worker's rename fails, the error names it, tmp/ is left clean.
      const dir = join(repo.path, 'objects', good.checksum.slice(0, 2));
      await rm(dir, { recursive: true, force: true });
      await writeFile(dir, 'not a directory');
      const failed = txn(repo).writeMetadataBatch([good]);
      await expect(failed).rejects.toMatchObject({ code: 'ERR_FS' });
      await expect(failed).rejects.toThrow(`objects/${good.checksum.slice(0, 2)}/${good.checksum.slice(2)}.dirtree`);
      expect(repo.hasCached(good.type, good.checksum)).toBe(false);
      expect(tmpLeftovers(repo.path, { files: true })).toEqual([]);
      await rm(dir);
      await mkdir(dir);
      expect(await txn(repo).writeMetadataBatch([good])).toBe(1);
    } finally {
      await repo.close();
    }
  });

  test('inline and worker paths produce identical .filez bytes and identical errors', async () => {
    const inline = await fresh({ inlineDeflateBelow: Number.POSITIVE_INFINITY, inlineInflateBelow: Number.POSITIVE_INFINITY });
    const worker = await fresh({ inlineDeflateBelow: 0, inlineInflateBelow: 0, workers: 2 });
    try {
      for (const o of byType(ObjectType.FILE)) {
        const { info, content } = readFilez(o.bytes);
        await txn(inline).writeContent(o.checksum, info, content);
        await txn(worker).writeContent(o.checksum, info, content);
        const p = objectPath(o.checksum, o.type);
        expect(sameBytes(await readFile(join(worker.path, p)), await readFile(join(inline.path, p))), o.checksum).toBe(true);
      }
      expect(inline.workerThreads).toBe(0);
      expect(worker.workerThreads).toBeGreaterThanOrEqual(1);
      expect(worker.workerThreads).toBeLessThanOrEqual(2);
      const big = content((s) => s > 100_000);
      const bad = big.bytes.slice();
      bad[bad.length - 10] = (bad[bad.length - 10] as number) ^ 0x55;
      const errs = await Promise.all(
        [inline, worker].map((r) =>
          txn(r)
            .writeFilez(big.checksum, bad)
            .then(
              () => null,
              (e: unknown) => `${(e as { code: string }).code} ${(e as { cause?: { code?: string } }).cause?.code}`,
            ),
        ),
      );
      expect(errs[0]).not.toBeNull();
      expect(errs[1]).toBe(errs[0]);
    } finally {
      await inline.close();
      await worker.close();
    }
  });
});

describe('caller-owned bytes', () => {
  test('Node Buffers (views, pooled slabs) passed to the worker path are never detached or altered', async () => {
    const repo = await fresh({ inlineDeflateBelow: 0, inlineInflateBelow: 0 });
    try {
      const big = content((s) => s > 100_000);
      // A Buffer that is a view into a larger ArrayBuffer (as HTTP bodies and delta payloads are).
      const slab = Buffer.alloc(big.bytes.length + 64, 0x7a);
      big.bytes.forEach((b, i) => {
        slab[32 + i] = b;
      });
      const filez = slab.subarray(32, 32 + big.bytes.length);
      const before = Buffer.from(filez);
      expect(await txn(repo).writeFilez(big.checksum, filez)).toBe(true);
      expect(filez.length).toBe(before.length);
      expect(filez.equals(before)).toBe(true);
      expect(sameBytes(await readFile(join(repo.path, objectPath(big.checksum, ObjectType.FILE))), before)).toBe(true);

      const small = content((s) => s > 30 && s < 4000);
      const pooled = Buffer.from(small.content); // small Buffers come from the shared pool
      const other = Buffer.from('untouched pool neighbour');
      const repo2 = await fresh({ inlineDeflateBelow: 0, inlineInflateBelow: 0 });
      expect(await txn(repo2).writeContent(small.checksum, small.info, pooled)).toBe(true);
      expect(sameBytes(pooled, small.content)).toBe(true);
      expect(other.toString()).toBe('untouched pool neighbour');
      expect(sameBytes((await repo2.readContent(small.checksum)).content, small.content)).toBe(true);
      await repo2.close();
    } finally {
      await repo.close();
    }
  });
});

describe('refusing bad bytes', () => {
  let repo: LocalRepo;
  beforeAll(async () => {
    repo = await fresh();
  });
  afterAll(async () => repo.close());

  /** The write fails with one of `codes`, and leaves nothing in objects/ or tmp/. */
  const refused = async (write: Promise<unknown>, type: ObjectType, checksum: Checksum, codes: string[]) => {
    const err = await write.then(
      () => null,
      (e: unknown) => e,
    );
    expect(isFlathubFetchError(err), String(err)).toBe(true);
    expect(codes).toContain((err as { code: string }).code);
    expect(await exists(join(repo.path, objectPath(checksum, type)))).toBe(false);
    expect(tmpLeftovers(repo.path, { files: true })).toEqual([]);
  };

  test('metadata: flipped byte → ERR_CHECKSUM_MISMATCH; right hash, wrong type → a decode error', async () => {
    for (const t of [ObjectType.COMMIT, ObjectType.DIR_TREE, ObjectType.DIR_META]) {
      const o = byType(t)[0] as FixtureObject;
      await refused(txn(repo).writeMetadata(t, o.checksum, flip(o.bytes, 3)), t, o.checksum, ['ERR_CHECKSUM_MISMATCH']);
      await refused(txn(repo).writeMetadata(t, o.checksum, o.bytes.subarray(1)), t, o.checksum, ['ERR_CHECKSUM_MISMATCH']);
    }
    const tree = byType(ObjectType.DIR_TREE).find((o) => o.bytes.length > 40) as FixtureObject;
    await refused(txn(repo).writeMetadata(ObjectType.COMMIT, tree.checksum, tree.bytes), ObjectType.COMMIT, tree.checksum, [
      'ERR_GVARIANT_MALFORMED',
      'ERR_GVARIANT_TRUNCATED',
      'ERR_FORMAT',
      'ERR_BAD_CHECKSUM',
    ]);
    const commit = byType(ObjectType.COMMIT)[0] as FixtureObject;
    await refused(txn(repo).writeMetadata(ObjectType.DIR_META, commit.checksum, commit.bytes), ObjectType.DIR_META, commit.checksum, [
      'ERR_GVARIANT_MALFORMED',
      'ERR_GVARIANT_TRUNCATED',
      'ERR_FORMAT',
    ]);
    await expect(txn(repo).writeMetadata(ObjectType.COMMIT, 'xyz', commit.bytes)).rejects.toMatchObject({ code: 'ERR_BAD_CHECKSUM' });
    await expect(txn(repo).writeCommitMeta(commit.checksum, new Uint8Array([1, 2, 3]))).rejects.toMatchObject({
      code: expect.stringMatching(/^ERR_GVARIANT/),
    });
  });

  for (const [label, pred] of [
    ['small (inline)', (s: number) => s > 100 && s < 4096],
    ['large (worker)', (s: number) => s > 100_000],
  ] as const) {
    test(`content, ${label}: corrupt, truncated, misnamed and bomb .filez; wrong content or mode`, async () => {
      const o = content(pred);
      const other = content((s) => s !== o.info.size && s > 0);
      // Every kind of corrupt .filez is "not this object", whatever the decoder tripped on.
      const mismatch = ['ERR_CHECKSUM_MISMATCH'];
      await refused(txn(repo).writeFilez(o.checksum, flip(o.bytes, -5)), ObjectType.FILE, o.checksum, mismatch);
      await refused(txn(repo).writeFilez(o.checksum, flip(o.bytes, 2)), ObjectType.FILE, o.checksum, mismatch);
      await refused(
        txn(repo).writeFilez(o.checksum, o.bytes.subarray(0, Math.floor(o.bytes.length / 2))),
        ObjectType.FILE,
        o.checksum,
        mismatch,
      );
      await refused(txn(repo).writeFilez(o.checksum, o.bytes.subarray(0, 5)), ObjectType.FILE, o.checksum, mismatch);
      await refused(txn(repo).writeFilez(o.checksum, other.bytes), ObjectType.FILE, o.checksum, mismatch);
      // Header says size bytes; the deflate stream holds 64× more: refused without inflating it all.
      const bomb = Buffer.concat([encodeFilezHeader(o.info), deflateRawSync(Buffer.alloc(o.info.size * 64, 0x61))]);
      await refused(txn(repo).writeFilez(o.checksum, bomb), ObjectType.FILE, o.checksum, mismatch);
      await expect(txn(repo).writeFilez(o.checksum, bomb)).rejects.toMatchObject({ cause: { code: 'ERR_SIZE_LIMIT' } });
      await refused(txn(repo).writeContent(o.checksum, o.info, flip(o.content, 7)), ObjectType.FILE, o.checksum, ['ERR_CHECKSUM_MISMATCH']);
      const chmod: FileInfo = { ...o.info, mode: o.info.mode ^ 0o111 };
      await refused(txn(repo).writeContent(o.checksum, chmod, o.content), ObjectType.FILE, o.checksum, ['ERR_CHECKSUM_MISMATCH']);
      await refused(txn(repo).writeContent(o.checksum, { ...o.info, size: o.info.size + 1 }, o.content), ObjectType.FILE, o.checksum, [
        'ERR_INVALID_ARGUMENT',
      ]);
      // In a batch with a good object: the bad one refused (named), the good one stored.
      const good = content((s) => s !== o.info.size && s > 0 && s < 50_000);
      if (!(await exists(join(repo.path, objectPath(good.checksum, ObjectType.FILE))))) {
        const batch = txn(repo).writeContentBatch([
          { checksum: good.checksum, info: good.info, content: good.content },
          { checksum: o.checksum, info: o.info, content: flip(o.content, 7) },
        ]);
        await refused(batch, ObjectType.FILE, o.checksum, ['ERR_CHECKSUM_MISMATCH']);
        await expect(batch).rejects.toThrow(o.checksum);
        expect(await exists(join(repo.path, objectPath(good.checksum, ObjectType.FILE)))).toBe(true);
      }
      // And the genuine bytes are then accepted.
      expect(await txn(repo).writeFilez(o.checksum, o.bytes)).toBe(true);
      await expect(txn(repo).writeContent(o.checksum, o.info, flip(o.content, 7))).rejects.toMatchObject({ code: 'ERR_CHECKSUM_MISMATCH' });
    });
  }
});

describe('presence and concurrency', () => {
  test('object index: hasCached needs loadObjectIndex, then answers synchronously and follows writes', async () => {
    const writer = await fresh();
    const meta = objects.filter((o) => o.type !== ObjectType.FILE && o.type !== ObjectType.COMMIT_META);
    for (const o of meta) await txn(writer).writeMetadata(o.type, o.checksum, o.bytes);
    const reader = await LocalRepo.open(writer.path);
    const first = meta[0] as FixtureObject;
    expect(() => reader.hasCached(first.type, first.checksum)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
    const index = await reader.loadObjectIndex();
    expect(index.size).toBe(meta.length);
    expect(await reader.loadObjectIndex()).toBe(index);
    for (const o of meta) expect(reader.hasCached(o.type, o.checksum)).toBe(true);
    expect([...index].every((k) => /^[0-9a-f]{64}\.(commit|dirtree|dirmeta)$/.test(k))).toBe(true);
    const f = byType(ObjectType.FILE)[0] as FixtureObject;
    expect(reader.hasCached(ObjectType.FILE, f.checksum)).toBe(false);
    expect(await reader.has(ObjectType.FILE, f.checksum)).toBe(false);
    await txn(reader).writeFilez(f.checksum, f.bytes);
    expect(reader.hasCached(ObjectType.FILE, f.checksum)).toBe(true);
    expect(index.has(`${f.checksum}.filez`)).toBe(true);
    expect(await writer.has(ObjectType.FILE, f.checksum)).toBe(true);
    await reader.close();
  });

  test('concurrent writes of one object: one stores it, the rest are no-ops; two instances race safely', async () => {
    const repo = await fresh();
    const big = content((s) => s > 100_000);
    const tree = byType(ObjectType.DIR_TREE)[0] as FixtureObject;
    const results = await Promise.all([
      txn(repo).writeFilez(big.checksum, big.bytes),
      txn(repo).writeContent(big.checksum, big.info, big.content),
      txn(repo).writeFilez(big.checksum, big.bytes),
      txn(repo).writeContent(big.checksum, big.info, big.content),
      txn(repo).writeMetadata(tree.type, tree.checksum, tree.bytes),
      txn(repo).writeMetadata(tree.type, tree.checksum, tree.bytes),
    ]);
    expect(results.slice(0, 4).filter((r) => r)).toHaveLength(1);
    expect(results.slice(4).filter((r) => r)).toHaveLength(1);
    expect(await readdir(join(repo.path, 'objects', big.checksum.slice(0, 2)))).toContain(`${big.checksum.slice(2)}.filez`);
    expect(sameBytes((await repo.readContent(big.checksum)).content, big.content)).toBe(true);

    const other = await LocalRepo.open(repo.path);
    const all = byType(ObjectType.FILE);
    await Promise.all(all.flatMap((o) => [txn(repo).writeFilez(o.checksum, o.bytes), txn(other).writeFilez(o.checksum, o.bytes)]));
    for (const o of all) expect((await other.verifyContent(o.checksum)).size).toBe(readFilez(o.bytes).info.size);
    expect(tmpLeftovers(repo.path, { files: true })).toEqual([]);
    await Promise.all([repo.close(), other.close()]);
  });
});

describe('writer threads’ temporary directories', () => {
  test('a handle closed while another on the repository writes on: the writer’s directory is made again; both closed, tmp/ is empty', async () => {
    // Batches: their objects are written by the content workers, in the workers' directories.
    const repo = await fresh({ inlineDeflateBelow: 0, inlineInflateBelow: 0 });
    const other = await LocalRepo.open(repo.path);
    const files = byType(ObjectType.FILE).map((o) => ({ checksum: o.checksum, ...readFilez(o.bytes) }));
    const half = Math.floor(files.length / 2);
    expect(await txn(repo).writeContentBatch(files.slice(0, half))).toBe(half);
    expect(tmpLeftovers(repo.path).length).toBeGreaterThan(0);
    // This process's empty writer directories go with the other handle.
    await other.close();
    expect(tmpLeftovers(repo.path)).toEqual([]);
    expect(await txn(repo).writeContentBatch(files.slice(half))).toBe(files.length - half);
    for (const f of files.slice(half)) expect(sameBytes((await repo.readContent(f.checksum)).content, f.content)).toBe(true);
    await repo.close();
    expect(tmpLeftovers(repo.path)).toEqual([]);
  });
});

describe('syncFilesystem (coreutils sync --file-system = syncfs)', () => {
  test.runIf(process.platform === 'linux')(
    'syncs an existing repository; a missing path gives false (the caller falls back to fsync)',
    async () => {
      const repo = await fresh();
      try {
        expect(await syncFilesystem(repo.path)).toBe(true);
        expect(await syncFilesystem(join(repo.path, 'no-such-dir'))).toBe(false);
        // sync(2), where a transaction kept no list of files and syncfs is refused.
        expect(await syncAllFilesystems()).toBeNull();
      } finally {
        await repo.close();
      }
    },
  );
});

describe('close()', () => {
  test('waits for writes already started, then stops the workers; the repository stays usable', async () => {
    const repo = await fresh({ inlineInflateBelow: 0 });
    const files = byType(ObjectType.FILE);
    const writes = files.map((o) => txn(repo).writeFilez(o.checksum, o.bytes));
    await repo.close();
    expect(repo.workerThreads).toBe(0);
    const settled = await Promise.allSettled(writes);
    expect(settled.every((r) => r.status === 'fulfilled')).toBe(true);
    await repo.loadObjectIndex();
    for (const o of files) expect(repo.hasCached(ObjectType.FILE, o.checksum)).toBe(true);
    const big = content((s) => s > 100_000);
    expect((await repo.verifyContent(big.checksum)).size).toBe(big.info.size);
    await repo.close();
  });
});

describe('partial commits and refs', () => {
  test('a transaction marks its commit partial until it commits (state/<commit>.commitpartial)', async () => {
    const repo = await fresh({ fsync: 'object' });
    const c = [...heads.values()][0] as Checksum;
    expect(await repo.isPartial(c)).toBe(false);
    const first = repo.beginTransaction({ commit: c });
    const second = repo.beginTransaction({ commit: c });
    await first.ready();
    expect(await repo.isPartial(c)).toBe(true);
    expect((await stat(join(repo.path, 'state', `${c}.commitpartial`))).size).toBe(0);
    await first.commit();
    // The marker already gone: committing clears nothing and succeeds.
    await second.commit();
    expect(await repo.isPartial(c)).toBe(false);
    expect(await readdir(join(repo.path, 'state'))).toEqual([]);
  });

  test('commit({ ref }): objects, then the marker cleared, then the ref; abort(): verified objects and the marker stay, nothing else', async () => {
    const repo = await fresh({ fsync: 'commit' });
    const [c] = [...heads.values()] as [Checksum];
    const commitObject = objects.find((o) => o.type === ObjectType.COMMIT && o.checksum === c) as FixtureObject;
    const files = byType(ObjectType.FILE);
    const half = files.slice(0, Math.ceil(files.length / 2));

    const aborted = repo.beginTransaction({ commit: c });
    const stored = await Promise.all(half.map((o) => aborted.writeFilez(o.checksum, o.bytes)));
    expect(stored.every((r) => r)).toBe(true);
    await aborted.abort();
    expect(await repo.isPartial(c)).toBe(true);
    expect(await repo.readRef('x/y', { remote: 'origin' })).toBeNull();
    for (const o of half) expect(await repo.has(ObjectType.FILE, o.checksum)).toBe(true);
    expect(tmpLeftovers(repo.path, { files: true })).toEqual([]);
    await expect(aborted.writeFilez(files[0]?.checksum as Checksum, files[0]?.bytes as Uint8Array)).rejects.toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
    });
    await expect(aborted.commit()).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });

    // The next transaction of the commit finds the verified objects present and completes the rest.
    const resumed = repo.beginTransaction({ commit: c });
    const again = await Promise.all(files.map((o) => resumed.writeFilez(o.checksum, o.bytes)));
    expect(again.filter((r) => r)).toHaveLength(files.length - half.length);
    expect(await resumed.writeMetadata(ObjectType.COMMIT, c, commitObject.bytes)).toBe(true);
    await resumed.commit({ ref: 'x/y', remote: 'origin' });
    expect(await repo.isPartial(c)).toBe(false);
    expect(await repo.readRef('x/y', { remote: 'origin' })).toBe(c);
    expect(tmpLeftovers(repo.path, { files: true })).toEqual([]);

    // A ref needs a commit to point at; a subpath-style commit keeps the marker.
    const anonymous = repo.beginTransaction();
    await expect(anonymous.commit({ ref: 'x/z' })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    await anonymous.abort();
    const subpath = repo.beginTransaction({ commit: c });
    await subpath.commit({ ref: 'x/z', keepPartial: true });
    expect(await repo.isPartial(c)).toBe(true);
    expect(await repo.readRef('x/z')).toBe(c);
    await repo.close();
  });

  test('writeRef / readRef / listRefs, local and per remote; bad names refused', async () => {
    const repo = await fresh();
    const [a, b] = [...heads.values()] as [Checksum, Checksum];
    await repo.writeRef('app/org.example.Hello/x86_64/stable', a);
    await repo.writeRef('app/org.example.Hello/x86_64/stable', b, { remote: 'origin' });
    await repo.writeRef('app/org.example.Hello/x86_64/stable', a);
    expect(await readFile(join(repo.path, 'refs/heads/app/org.example.Hello/x86_64/stable'), 'utf8')).toBe(`${a}\n`);
    expect(await readFile(join(repo.path, 'refs/remotes/origin/app/org.example.Hello/x86_64/stable'), 'utf8')).toBe(`${b}\n`);
    expect(await repo.readRef('app/org.example.Hello/x86_64/stable')).toBe(a);
    expect(await repo.readRef('app/org.example.Hello/x86_64/stable', { remote: 'origin' })).toBe(b);
    expect(await repo.readRef('nope')).toBeNull();
    expect(await repo.resolveRef('app/org.example.Hello/x86_64/stable')).toBe(a);
    expect(await repo.resolveRef('origin:app/org.example.Hello/x86_64/stable')).toBe(b);
    expect(await repo.resolveRef(b.toUpperCase())).toBe(b);
    await repo.writeRef('only/remote', b, { remote: 'origin' });
    expect(await repo.resolveRef('only/remote')).toBe(b);
    await expect(repo.resolveRef('nope')).rejects.toMatchObject({ code: 'ERR_NOT_FOUND' });
    await repo.writeRef('only/remote', a, { remote: 'other' });
    await expect(repo.resolveRef('only/remote')).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    expect(await repo.listRefs()).toEqual(
      new Map([
        ['app/org.example.Hello/x86_64/stable', a],
        ['origin:app/org.example.Hello/x86_64/stable', b],
        ['origin:only/remote', b],
        ['other:only/remote', a],
      ]),
    );
    for (const bad of ['', '..', 'a/../../x', '/abs', 'a//b', 'a/', 'sp ace', 'a\nb']) {
      await expect(repo.writeRef(bad, a), bad).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    }
    for (const bad of ['..', 'a/b', '']) {
      await expect(repo.writeRef('x', a, { remote: bad }), bad).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    }
    await expect(repo.writeRef('x', 'not-a-checksum')).rejects.toMatchObject({ code: 'ERR_BAD_CHECKSUM' });
    expect(tmpLeftovers(repo.path, { files: true })).toEqual([]);
  });

  test('writing to a bare or bare-user repository is refused (they need ownership and xattrs)', async () => {
    for (const mode of ['bare', 'bare-user']) {
      const path = join(root, `bare-${n++}`);
      await LocalRepo.create(path, { fsync: 'none' });
      await writeFile(join(path, 'config'), `[core]\nrepo_version=1\nmode=${mode}\n`);
      const repo = await LocalRepo.open(path);
      expect(() => repo.assertWritable()).toThrow(`writing to ${mode} repositories is not supported`);
      expect(() => repo.beginTransaction()).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
      await expect(LocalRepo.openOrCreate(path, { mode: 'archive' })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    }
  });
});

test('withFilezSize gives encodeFilezHeader of the other size (the batch writer rewrites one header per file info)', () => {
  const infos: FileInfo[] = [
    { size: 0, uid: 0, gid: 0, mode: S_IFREG | 0o644, rdev: 0, symlinkTarget: '', xattrs: [] },
    { size: 0, uid: 1000, gid: 1000, mode: S_IFREG | 0o755, rdev: 0, symlinkTarget: '', xattrs: [] },
    { size: 0, uid: 0, gid: 0, mode: 0o120777, rdev: 0, symlinkTarget: '../lib/libfoo.so.1', xattrs: [] },
    {
      size: 0,
      uid: 0,
      gid: 0,
      mode: S_IFREG | 0o644,
      rdev: 0,
      symlinkTarget: '',
      xattrs: [[new TextEncoder().encode('user.a\0'), new Uint8Array([1, 2, 3])]],
    },
  ];
  for (const info of infos) {
    const template = encodeFilezHeader({ ...info, size: 12345 });
    for (const size of [0, 1, 255, 65536, 2 ** 32 - 1, 2 ** 32, 2 ** 32 + 7, 2 ** 40 + 3, Number.MAX_SAFE_INTEGER]) {
      expect(Buffer.from(withFilezSize(template, size)).equals(Buffer.from(encodeFilezHeader({ ...info, size })))).toBe(true);
    }
    // The template itself is not changed.
    expect(Buffer.from(template).equals(Buffer.from(encodeFilezHeader({ ...info, size: 12345 })))).toBe(true);
  }
});
