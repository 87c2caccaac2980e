/**
 * Pulls from hostile servers, with artefacts crafted by mutating real repositories made by
 * `ostree` (re-hashed so every checksum chain is consistent, summary rewritten by
 * `ostree summary -u`): dirtree names "..", "a/b", "" and NUL; a deflate bomb under a real
 * object's name; an xz delta part whose index lies about its size (made with the real `xz`);
 * op streams with out-of-bounds offsets and overflowing varints. Each fails with a typed error,
 * nothing is written outside the repository, no unverified object lands in it, and memory stays
 * bounded (peak RSS measured around the call).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { crc32, createDeflateRaw } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  decompressXz,
  type DeltaPartPayload,
  type DirTree,
  executeDeltaPart,
  FlathubFetchError,
  isFlathubFetchError,
  ObjectType,
  objectPath,
  parseCommit,
  parseDeltaSuperblock,
  parseDirTree,
  parseFilezHeader,
  pull,
  serializeCommit,
  serializeDirTree,
  sha256Hex,
  writeVarint,
  xzUncompressedSize,
  decodePartFile,
  readFilez,
} from '../../packages/client/src/index.js';
import { RepoServer } from '../../packages/client/src/testing/index.js';
import { makeRepo } from '../support/makeRepo.js';
import { copyRepo, ostree } from '../support/ostree.js';
import { corruptObjects } from '../support/repoChecks.js';
import { describeWithTools } from '../support/tools.js';

/** Peak RSS growth (bytes) while `fn` runs, sampled every 2 ms, and what it threw. */
async function peakRss(fn: () => Promise<unknown>): Promise<{ growth: number; error: unknown }> {
  const before = process.memoryUsage.rss();
  let peak = before;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 2);
  let error: unknown = null;
  try {
    await fn();
  } catch (err) {
    error = err;
  }
  clearInterval(timer);
  peak = Math.max(peak, process.memoryUsage.rss());
  return { growth: peak - before, error };
}

const MiB = 1024 * 1024;

describeWithTools(['ostree', 'xz'], 'hostile servers and artefacts', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'ffetch-hostile-'));
  const made = makeRepo({ files: 12, dirs: 2, delta: true });
  afterAll(() => {
    rmSync(tmp, { recursive: true, force: true });
    made.remove();
  });
  const read = (repo: string, p: string) => new Uint8Array(readFileSync(join(repo, p)));

  /** A writable copy of the made repo, removed after the suite. */
  const copies: string[] = [];
  const copy = () => {
    const repo = copyRepo(made.repo);
    copies.push(dirname(repo));
    return repo;
  };
  afterAll(() => {
    for (const c of copies) rmSync(c, { recursive: true, force: true });
  });

  /** A copy of the made repo whose head commit's root dirtree is rewritten by `edit` (bytes or a tree). */
  function craft(edit: (t: DirTree) => DirTree | Uint8Array): string {
    const repo = copy();
    const commit = parseCommit(read(repo, objectPath(made.commit, ObjectType.COMMIT)));
    const edited = edit(parseDirTree(read(repo, objectPath(commit.rootTree, ObjectType.DIR_TREE))));
    const treeBytes = edited instanceof Uint8Array ? edited : serializeDirTree(edited);
    const put = (type: ObjectType, bytes: Uint8Array) => {
      const c = sha256Hex(bytes);
      mkdirSync(dirname(join(repo, objectPath(c, type))), { recursive: true });
      writeFileSync(join(repo, objectPath(c, type)), bytes);
      return c;
    };
    const rootTree = put(ObjectType.DIR_TREE, treeBytes);
    const head = put(ObjectType.COMMIT, serializeCommit({ ...commit, rootTree, parent: null }));
    writeFileSync(join(repo, 'refs', 'heads', ...made.ref.split('/')), `${head}\n`);
    rmSync(join(repo, 'deltas'), { recursive: true, force: true });
    ostree(['summary', '-u', `--repo=${repo}`]);
    return repo;
  }

  /** Pulls from `source`; returns the error and checks nothing escaped the pull's directory. */
  async function hostilePull(source: string, name: string): Promise<FlathubFetchError> {
    const server = await RepoServer.start(source);
    const box = join(tmp, name);
    mkdirSync(box);
    const repo = join(box, 'repo');
    try {
      const err = await pull({ url: server.url, ref: made.ref, repo, deltas: 'never' }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(FlathubFetchError);
      expect((err as Error).message.split('\n')).toHaveLength(1);
      // Nothing beside the repository, nothing unverified inside it.
      expect(readdirSync(box)).toEqual(['repo']);
      expect(corruptObjects(repo)).toEqual([]);
      return err as FlathubFetchError;
    } finally {
      await server.close();
    }
  }

  describe('dirtree names', () => {
    test.each([
      ['..', 'ERR_UNSAFE_NAME'],
      ['a/b', 'ERR_UNSAFE_NAME'],
      ['', 'ERR_UNSAFE_NAME'],
    ])('a file named %j: the pull fails with %s', async (name, code) => {
      const repo = craft((t) => ({ ...t, files: [...t.files, { name, checksum: t.files[0]?.checksum ?? '' }] }));
      const err = await hostilePull(repo, `name-${Buffer.from(name).toString('hex') || 'empty'}`);
      expect(err.code).toBe(code);
      expect(err.data).toMatchObject({ name });
    });

    test('a directory named ".." (its subtree would land beside the repository)', async () => {
      const repo = craft((t) => ({ ...t, dirs: [{ ...(t.dirs[0] as DirTree['dirs'][number]), name: '..' }, ...t.dirs.slice(1)] }));
      expect((await hostilePull(repo, 'dir-dotdot')).code).toBe('ERR_UNSAFE_NAME');
    });

    test('a name with a NUL byte (patched into the serialized dirtree)', async () => {
      const repo = craft((t) => {
        const bytes = serializeDirTree(t);
        const name = new TextEncoder().encode(t.files[0]?.name ?? '');
        const at = Buffer.from(bytes).indexOf(Buffer.from(name));
        bytes[at + 1] = 0;
        return bytes;
      });
      const err = await hostilePull(repo, 'name-nul');
      expect(['ERR_UNSAFE_NAME', 'ERR_GVARIANT_MALFORMED']).toContain(err.code);
    });
  });

  test('a deflate bomb served under a real object name: typed error, bounded memory, nothing written', async () => {
    const repo = copy();
    const name = readdirSync(join(repo, 'objects')).flatMap((p) =>
      readdirSync(join(repo, 'objects', p))
        .filter((f) => f.endsWith('.filez'))
        .map((f) => `objects/${p}/${f}`),
    )[0] as string;
    const real = read(repo, name);
    const { payloadOffset } = parseFilezHeader(real);
    // 512 MiB of zeros behind the real header (which declares a few hundred bytes).
    const bomb = await new Promise<Buffer>((resolve) => {
      const z = createDeflateRaw({ level: 1 });
      const parts: Buffer[] = [];
      z.on('data', (c: Buffer) => parts.push(c));
      z.on('end', () => resolve(Buffer.concat(parts)));
      const block = Buffer.alloc(MiB);
      for (let i = 0; i < 512; i++) z.write(block);
      z.end();
    });
    writeFileSync(join(repo, name), Buffer.concat([real.subarray(0, payloadOffset), bomb]));
    expect(() => readFilez(read(repo, name))).toThrow(expect.objectContaining({ code: 'ERR_SIZE_LIMIT' }));
    const { growth, error } = await peakRss(() => hostilePull(repo, 'deflate-bomb').then((e) => Promise.reject(e)));
    expect(['ERR_SIZE_LIMIT', 'ERR_CHECKSUM_MISMATCH']).toContain((error as FlathubFetchError).code);
    expect(growth).toBeLessThan(128 * MiB);
  });

  describe('xz delta parts', () => {
    // 256 MiB of zeros compressed by the real xz: ~40 KB.
    const zeros = 2 ** 28 - 1;
    const xzFile = join(tmp, 'zeros.xz');
    execFileSync('sh', ['-c', `head -c ${zeros} /dev/zero | xz -0 -T1 > ${xzFile}`]);
    const honest = new Uint8Array(readFileSync(xzFile));

    test('an index declaring more than the superblock allows: ERR_SIZE_LIMIT before decoding', async () => {
      expect(xzUncompressedSize(honest)).toBe(zeros);
      const part = new Uint8Array([0x78, ...honest]);
      const { growth, error } = await peakRss(() => decodePartFile(part, 4 * MiB, 'part'));
      expect(isFlathubFetchError(error, 'ERR_SIZE_LIMIT')).toBe(true);
      expect(growth).toBeLessThan(32 * MiB);
    });

    test('an index that lies (2 MiB declared, 256 MiB inside): typed error, memory bounded by the declared size', async () => {
      const lying = new Uint8Array(honest);
      const dv = new DataView(lying.buffer);
      const end = lying.length;
      const indexSize = (dv.getUint32(end - 8, true) + 1) * 4;
      const start = end - 12 - indexSize;
      // Index: indicator, 1 record, unpadded size (3-byte varint), uncompressed size (4-byte varint).
      expect([...lying.subarray(start, start + 2)]).toEqual([0, 1]);
      const vli = start + 2 + 3;
      expect([...lying.subarray(vli, vli + 4)]).toEqual([0xff, 0xff, 0xff, 0x7f]);
      lying.set([0x80, 0x80, 0x80, 0x01], vli); // 2^21, still a 4-byte varint
      dv.setUint32(start + indexSize - 4, crc32(lying.subarray(start, start + indexSize - 4)) >>> 0, true);
      expect(xzUncompressedSize(lying)).toBe(2 * MiB);
      const { growth, error } = await peakRss(() => decompressXz(lying, 4 * MiB, 'lying part'));
      expect(isFlathubFetchError(error, 'ERR_DECOMPRESS')).toBe(true);
      expect(growth).toBeLessThan(96 * MiB);
    });
  });

  describe('op streams of a real part', () => {
    const sbPath = readdirSync(join(made.repo, 'deltas'), { recursive: true }).find((p) => String(p).endsWith('superblock'));
    const sbDir = join(made.repo, 'deltas', dirname(String(sbPath)));
    const sb = parseDeltaSuperblock(new Uint8Array(readFileSync(join(sbDir, 'superblock'))));
    const part = sb.parts[0];
    if (part === undefined) throw new Error('no part');
    const inline = sb.inlineParts.get(0);
    let payload = undefined as unknown as DeltaPartPayload;
    beforeAll(async () => {
      payload = await decodePartFile(inline ?? new Uint8Array(readFileSync(join(sbDir, '0'))), part.uncompressedSize);
    });
    const first = part.objects[0];
    if (first === undefined) throw new Error('empty part');
    const run = (ops: Uint8Array) => executeDeltaPart(part, { ...payload, ops }, () => {}, { readSource: () => new Uint8Array(0) });
    const cat = (...xs: Uint8Array[]) => Uint8Array.from(xs.flatMap((x) => [...x]));
    const S = new TextEncoder().encode('S');
    const v = writeVarint;
    // S: metadata (length, offset); content (mode index, xattr index, size, offset).
    const splice = (size: Uint8Array, offset: Uint8Array) => (first.type === 1 ? cat(S, v(0), v(0), size, offset) : cat(S, size, offset));

    test.each([
      ['an offset past the data blob', () => splice(v(16), v(payload.data.length + 1))],
      ['a length past the data blob', () => splice(v(payload.data.length + 1), v(0))],
      ['a 10-byte varint overflowing 2^53', () => splice(new Uint8Array([...Array(9).fill(0xff), 0x7f]), v(0))],
      ['an 11-byte varint', () => splice(new Uint8Array([...Array(10).fill(0xff), 0x01]), v(0))],
      ['a truncated op', () => cat(S, v(1))],
    ])('%s: a typed error', (_name, ops) => {
      let caught: unknown;
      try {
        run(ops());
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(FlathubFetchError);
      expect(['ERR_DELTA_OP', 'ERR_SIZE_LIMIT']).toContain((caught as FlathubFetchError).code);
    });
  });
});
