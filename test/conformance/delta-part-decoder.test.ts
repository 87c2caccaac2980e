/**
 * The streaming part decoder against the whole-file decoder, on every delta part the real
 * `ostree static-delta generate` wrote into the fixtures: the same payload whatever the chunking,
 * restarts discard what came before, and corrupt, short or hostile bytes give the typed errors
 * the pull engine relies on (checksum mismatch first, so a downloader retries).
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DeltaPartDecoder,
  type DeltaPartHeader,
  type DeltaPartPayload,
  decodePartFile,
  filePayload,
  isFlathubFetchError,
  gv,
  PART_PAYLOAD_TYPE,
  type PartDecodeOptions,
  parseDeltaSuperblock,
} from '@flathub-fetch/client';
import { seededRandom } from '@flathub-fetch/client/testing';
import { describe, expect, test } from 'vitest';
import { fixtureSets } from '../support/fixtures.js';

interface PartFile {
  name: string;
  header: DeltaPartHeader;
  file: Uint8Array;
}

function partFiles(): PartFile[] {
  const out: PartFile[] = [];
  for (const set of fixtureSets()) {
    for (const [repoName, repo] of Object.entries(set.manifest.repos)) {
      const dir = set.repoPath(repoName);
      for (const d of repo.deltas) {
        if (d.inline) continue;
        const sb = parseDeltaSuperblock(new Uint8Array(readFileSync(join(dir, d.superblock))), d.superblock);
        for (const header of sb.parts) {
          const file = new Uint8Array(readFileSync(join(dir, d.path, String(header.index))));
          out.push({ name: `${set.name}/${repoName}/${d.name}/${header.index}`, header, file });
        }
      }
    }
  }
  return out;
}

async function feed(dec: DeltaPartDecoder, file: Uint8Array, rand: () => number): Promise<void> {
  for (let off = 0; off < file.length; ) {
    const n = 1 + Math.floor(rand() * Math.min(65536, file.length - off));
    await dec.push(file.subarray(off, off + n));
    off += n;
  }
}

function same(a: DeltaPartPayload, b: DeltaPartPayload): void {
  expect(a.modes).toEqual(b.modes);
  expect(a.xattrs).toEqual(b.xattrs);
  expect(Buffer.from(a.data).equals(Buffer.from(b.data))).toBe(true);
  expect(Buffer.from(a.ops).equals(Buffer.from(b.ops))).toBe(true);
}

async function codeOf(p: Promise<unknown> | (() => unknown)): Promise<string> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (err) {
    return isFlathubFetchError(err) ? err.code : `untyped: ${(err as Error).message}`;
  }
  return 'no error';
}

/**
 * Decodes `bytes` under a header that declares exactly them (size and checksum: hostile, or cut,
 * bytes get past verify()), and returns the code finish() fails with, or 'no error'.
 */
async function decodeDeclared(
  header: DeltaPartHeader,
  bytes: Uint8Array,
  what: string,
  options: PartDecodeOptions,
  rand: () => number,
): Promise<string> {
  const declared = { ...header, size: bytes.length, checksum: createHash('sha256').update(bytes).digest('hex') };
  const dec = new DeltaPartDecoder(declared, what, options);
  try {
    await feed(dec, bytes, rand);
    dec.verify();
    return await codeOf(dec.finish());
  } finally {
    dec.dispose();
  }
}

const parts = partFiles();

/**
 * A part file far larger than the fixtures' (whose xz data fits the decoder's 64 KiB tail): a
 * 3 MB payload of mixed bytes compressed by the real `xz` tool in 256 KiB blocks (or smaller), as
 * one stream or as two concatenated streams.
 */
function bigPart(streams: 1 | 2, blockSize = 262144): PartFile {
  const rand = seededRandom(streams);
  const data = new Uint8Array(3_000_000);
  for (let i = 0; i < data.length; i++) data[i] = i % 4096 < 2048 ? (i * 7) & 0xff : Math.floor(rand() * 256);
  const payload = gv(PART_PAYLOAD_TYPE).encode([[], [], data, new Uint8Array([0x01, 0x02])]);
  const xz = (bytes: Uint8Array) => execFileSync('xz', ['-c', '-1', `--block-size=${blockSize}`], { input: bytes, maxBuffer: 1 << 26 });
  const half = Math.floor(payload.length / 2);
  const body = streams === 1 ? xz(payload) : Buffer.concat([xz(payload.subarray(0, half)), xz(payload.subarray(half))]);
  const file = new Uint8Array(Buffer.concat([Buffer.from([0x78]), body]));
  const header = {
    ...(parts[0] as PartFile).header,
    index: 0,
    size: file.length,
    uncompressedSize: payload.length,
    checksum: createHash('sha256').update(file).digest('hex'),
    objects: [],
  } as DeltaPartHeader;
  return { name: `xz -1, ${blockSize}-byte blocks, ${streams} stream(s)`, header, file };
}

// Every case runs with each xz backend: the system's `xz` program in a child process, and the
// WebAssembly decoder (XZ Embedded) in a worker thread.
describe.each([
  ['by the xz program', { xzDecoder: 'xz' as const }],
  ['by WebAssembly in a worker thread', { xzDecoder: 'wasm' as const }],
])('DeltaPartDecoder on the fixtures’ real delta parts, xz %s', (_name, mode) => {
  test('there are xz and uncompressed parts to decode', () => {
    expect(parts.length).toBeGreaterThan(3);
    expect(parts.some((p) => p.file[0] === 0x78)).toBe(true);
  });

  test('any chunking decodes to exactly what decodePartFile gives', async () => {
    const rand = seededRandom(20261127);
    for (const p of parts) {
      const expected = await decodePartFile(p.file, p.header.uncompressedSize, p.name);
      for (let round = 0; round < 3; round++) {
        const dec = new DeltaPartDecoder(p.header, p.name, mode);
        await feed(dec, p.file, rand);
        dec.verify();
        same(await dec.finish(), expected);
      }
    }
  });

  test('the payload is decoded into one shared buffer sized from the declared size; a wrong declared size still decodes', async () => {
    const rand = seededRandom(7);
    for (const p of parts) {
      const expected = await decodePartFile(p.file, p.header.uncompressedSize, p.name);
      // Sized from the declared size: one SharedArrayBuffer (the content workers read objects out of it without a copy).
      const dec = new DeltaPartDecoder(p.header, p.name, mode);
      await feed(dec, p.file, rand);
      dec.verify();
      const payload = await dec.finish();
      same(payload, expected);
      expect(payload.data.buffer.constructor.name, p.name).toBe('SharedArrayBuffer');
      // Declared far too small (within the decode bound): the rest goes on in chunks, nothing is lost.
      const small = { ...p.header, uncompressedSize: Math.max(1, Math.floor(p.header.uncompressedSize / 10)) };
      const dec2 = new DeltaPartDecoder(small, p.name, { ...mode, maxPayloadSize: 2 * p.header.uncompressedSize + 65536 });
      await feed(dec2, p.file, rand);
      dec2.verify();
      same(await dec2.finish(), expected);
    }
  });

  test('with payloadInFile the payload stays in the xz program’s file: the same tables and data, read by range; close() releases it', async () => {
    const rand = seededRandom(11);
    const fds = () => readdirSync('/proc/self/fd').length;
    const before = fds();
    for (const p of [...parts, bigPart(1)]) {
      const expected = await decodePartFile(p.file, p.header.uncompressedSize, p.name);
      const dec = new DeltaPartDecoder(p.header, p.name, { ...mode, payloadInFile: true });
      await feed(dec, p.file, rand);
      dec.verify();
      // The payload is the source's to give: finish() (a payload in memory) is refused.
      expect(await codeOf(dec.finish())).toBe('ERR_INVALID_ARGUMENT');
      const src = await dec.finishSource();
      dec.dispose();
      // In a file only where the xz program decoded it (uncompressed parts and the WebAssembly decoder: in memory).
      expect(src.inFile, p.name).toBe(mode.xzDecoder === 'xz' && p.file[0] === 0x78);
      expect(src.modes).toEqual(expected.modes);
      expect(src.xattrs).toEqual(expected.xattrs);
      expect(Buffer.from(src.ops).equals(Buffer.from(expected.ops))).toBe(true);
      expect(src.dataLength).toBe(expected.data.length);
      const buffer = new Uint8Array(new SharedArrayBuffer(expected.data.length + 7));
      for (const [at, n] of [
        [0, expected.data.length],
        [Math.floor(expected.data.length / 3), Math.floor(expected.data.length / 2)],
        [expected.data.length, 0],
      ] as const) {
        const got = await src.readData(at, n, buffer);
        expect(Buffer.from(got).equals(Buffer.from(expected.data.subarray(at, at + n))), `${p.name} [${at}, +${n})`).toBe(true);
      }
      // From a file, the data is read into the caller's buffer: none, or one too small, is refused.
      if (src.inFile && expected.data.length > 0) {
        await expect(src.readData(0, expected.data.length, null)).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
        await expect(src.readData(0, expected.data.length, new Uint8Array(expected.data.length - 1))).rejects.toMatchObject({
          code: 'ERR_INVALID_ARGUMENT',
        });
      }
      src.close();
    }
    // (The WebAssembly decoder's pooled worker threads hold descriptors of their own.)
    if (mode.xzDecoder === 'xz') expect(fds()).toBe(before);
  });

  test('a payload file with malformed framing is a typed error, and its file is closed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ffetch-payload-'));
    try {
      const good = gv(PART_PAYLOAD_TYPE).encode([[[1, 2, 3]], [], new Uint8Array(300), new Uint8Array([0x53])]);
      /** `good` with its last bytes (the framing offsets, 2 bytes each here) replaced by `tail`. */
      const withTail = (tail: number[]) => {
        const b = new Uint8Array(good);
        b.set(tail, b.length - tail.length);
        return b;
      };
      const cases: Array<[string, Uint8Array]> = [
        ['empty', new Uint8Array(0)],
        ['too short for its offsets', good.subarray(0, 2)],
        // The data blob's end pointing past the ops' start.
        ['offsets out of order', withTail([0xff, 0xff, ...good.subarray(good.length - 4)])],
        // A mode table that is not whole (uuu) rows.
        ['mode table cut', withTail([5, 0])],
      ];
      const before = readdirSync('/proc/self/fd').length;
      for (const [name, bytes] of cases) {
        const path = join(dir, name);
        writeFileSync(path, bytes);
        const fd = openSync(path, 'r');
        expect(await codeOf(filePayload(fd, bytes.length, name)), name).toMatch(/^ERR_(FORMAT|GVARIANT_MALFORMED|GVARIANT_TRUNCATED)$/);
      }
      expect(readdirSync('/proc/self/fd').length).toBe(before);
      // The well-formed one reads back.
      writeFileSync(join(dir, 'good'), good);
      const src = await filePayload(openSync(join(dir, 'good'), 'r'), good.length, 'good');
      expect(src.modes).toEqual([{ uid: 0x01000000, gid: 0x02000000, mode: 0x03000000 }]);
      expect(src.dataLength).toBe(300);
      expect([...src.ops]).toEqual([0x53]);
      src.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('an abort while the last bytes are being decoded ends finish() with the abort, and the decoder can be disposed', async () => {
    const p = parts.filter((x) => x.file[0] === 0x78).sort((a, b) => b.file.length - a.file.length)[0] as PartFile;
    const dec = new DeltaPartDecoder(p.header, p.name, mode);
    await feed(dec, p.file, seededRandom(3));
    dec.verify();
    const ac = new AbortController();
    const finished = dec.finish({ signal: ac.signal });
    ac.abort(new Error('stop'));
    await expect(finished).rejects.toThrow('stop');
    dec.dispose();
    // The next decoder (in a worker: the same, pooled thread) still decodes correctly.
    const again = new DeltaPartDecoder(p.header, p.name, mode);
    await feed(again, p.file, seededRandom(4));
    again.verify();
    same(await again.finish(), await decodePartFile(p.file, p.header.uncompressedSize, p.name));
  });

  test('a part whose xz index is longer than the decoder keeps of the tail (tens of thousands of blocks) decodes', async () => {
    const big = bigPart(1, 128);
    // The stream footer's backward size: the index's length.
    const footer = Buffer.from(big.file.subarray(big.file.length - 12));
    expect((footer.readUInt32LE(4) + 1) * 4).toBeGreaterThan(64 * 1024);
    const expected = await decodePartFile(big.file, big.header.uncompressedSize, big.name);
    const dec = new DeltaPartDecoder(big.header, big.name, mode);
    await feed(dec, big.file, seededRandom(19));
    dec.verify();
    same(await dec.finish(), expected);
  });

  test('a 3 MB part of many xz blocks, in one or two streams, decodes; cut short at any point it is ERR_DECOMPRESS', async () => {
    const rand = seededRandom(17);
    for (const big of [bigPart(1), bigPart(2)]) {
      const expected = await decodePartFile(big.file, big.header.uncompressedSize, big.name, mode);
      expect(expected.data.length).toBe(3_000_000);
      const dec = new DeltaPartDecoder(big.header, big.name, mode);
      await feed(dec, big.file, rand);
      dec.verify();
      same(await dec.finish(), expected);
      // Cut inside a block, at a block boundary's neighbourhood, inside the index and the footer.
      for (const keep of [big.file.length / 3, big.file.length / 2 + 1, big.file.length - 40, big.file.length - 5]) {
        const cut = big.file.subarray(0, Math.floor(keep));
        const what = `${big.name} cut to ${cut.length}`;
        expect(await decodeDeclared(big.header, cut, what, mode, rand), what).toBe('ERR_DECOMPRESS');
      }
    }
  });

  test('a restart discards the bytes before it (a 200 after a failed Range resume)', async () => {
    const rand = seededRandom(7);
    for (const p of parts) {
      const dec = new DeltaPartDecoder(p.header, p.name, mode);
      // Half of a corrupted copy, then the real file from byte 0.
      const bad = p.file.slice();
      const at = Math.floor(bad.length / 3);
      bad[at] = (bad[at] as number) ^ 0xff;
      await feed(dec, bad.subarray(0, Math.ceil(bad.length / 2)), rand);
      dec.restart();
      await feed(dec, p.file, rand);
      dec.verify();
      same(await dec.finish(), await decodePartFile(p.file, p.header.uncompressedSize, p.name));
    }
  });

  test('corrupt or short bytes fail verify() with the codes a downloader retries on', async () => {
    const rand = seededRandom(11);
    const p = parts.find((x) => x.file[0] === 0x78) as PartFile;
    const flipped = p.file.slice();
    flipped[flipped.length - 20] = (flipped[flipped.length - 20] as number) ^ 0x01;
    let dec = new DeltaPartDecoder(p.header, p.name, mode);
    await feed(dec, flipped, rand);
    expect(await codeOf(() => dec.verify())).toBe('ERR_CHECKSUM_MISMATCH');
    dec.dispose();
    dec = new DeltaPartDecoder(p.header, p.name, mode);
    await feed(dec, p.file.subarray(0, p.file.length - 1), rand);
    expect(await codeOf(() => dec.verify())).toBe('ERR_SIZE_LIMIT');
    expect(await codeOf(dec.finish())).toBe('ERR_INVALID_ARGUMENT');
    dec.dispose();
  });

  test('bytes that match their (hostile) header but are not xz, or decode beyond the bound, are typed errors', async () => {
    const rand = seededRandom(13);
    const p = parts.find((x) => x.file[0] === 0x78) as PartFile;
    // xz marker, then garbage.
    const garbage = new Uint8Array(4096).map((_, i) => (i * 131 + 7) & 0xff);
    garbage[0] = 0x78;
    expect(await decodeDeclared(p.header, garbage, 'hostile part', mode, rand)).toBe('ERR_DECOMPRESS');
    // A real xz stream cut short.
    const cut = p.file.subarray(0, Math.ceil(p.file.length / 2));
    expect(await decodeDeclared(p.header, cut, 'cut part', mode, rand)).toBe('ERR_DECOMPRESS');
    // A 3 MB stream corrupted near its start: the decoder stops long before the input does, and
    // the rest of the input is still taken (no wait for a decoder that is gone).
    const big = bigPart(1);
    const early = big.file.slice();
    early.fill(0x55, 4000, 4100);
    expect(await decodeDeclared(big.header, early, 'part corrupt near its start', mode, rand)).toBe('ERR_DECOMPRESS');
    // A whole xz stream followed by bytes that are not one.
    const trailing = Buffer.concat([p.file, Buffer.from('not an xz stream')]);
    expect(await decodeDeclared(p.header, trailing, 'part with trailing bytes', mode, rand)).toBe('ERR_DECOMPRESS');
    // An unknown compression byte.
    const unknown = p.file.slice();
    unknown[0] = 0x7a;
    expect(await decodeDeclared(p.header, unknown, 'part with compression z', {}, rand)).toBe('ERR_FORMAT');
    // A real part whose payload is larger than the caller allows: stopped while decoding.
    const dec = new DeltaPartDecoder(p.header, p.name, { ...mode, maxPayloadSize: 1024 });
    await feed(dec, p.file, rand);
    dec.verify();
    expect(await codeOf(dec.finish())).toBe('ERR_SIZE_LIMIT');
  });

  test('a part that inflates far past its limit (256 MB of zeros in 38 KB) is refused, leaving no temporary file', async () => {
    const zeros = execFileSync('sh', ['-c', 'head -c 268435456 /dev/zero | xz -c -9e'], { maxBuffer: 1 << 24 });
    const file = new Uint8Array(Buffer.concat([Buffer.from([0x78]), zeros]));
    const header = { ...(parts[0] as PartFile).header, index: 0, uncompressedSize: 1 << 20, objects: [] } as DeltaPartHeader;
    // The xz program's output goes through a temporary file in the OS temporary directory.
    const dir = mkdtempSync(join(tmpdir(), 'ffetch-xz-tmp-'));
    const saved = process.env.TMPDIR;
    process.env.TMPDIR = dir;
    try {
      const code = await decodeDeclared(header, file, 'zero bomb', { ...mode, maxPayloadSize: 4 << 20 }, seededRandom(7));
      expect(code).toBe('ERR_SIZE_LIMIT');
      expect(readdirSync(dir)).toEqual([]);
    } finally {
      if (saved === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = saved;
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
