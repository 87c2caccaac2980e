/**
 * xz (.xz container) support for delta parts.
 *
 * `xzUncompressedSize` reads the stream index(es) at the end of the file — the .xz format
 * requires one and liblzma verifies the blocks against it — so the output size is known and
 * bounded before anything is decompressed. Decoding is node-liblzma, i.e. the system's own
 * liblzma (the library `xz -d` uses): measured here at parity with `xz -d`, against 0.5–0.65×
 * for @napi-rs/lzma (pure Rust), lzma-native (bundled xz 5.2) and xz-decompress (wasm); see
 * BENCHMARKS.md. 1 MiB output chunks: the library's small default chunks halve its speed.
 */
import { createUnxz, unxzSync } from 'node-liblzma';
import { FlathubFetchError } from '../errors/FlathubFetchError.js';
import { ErrorCodes } from '../errors/codes.js';

function bad(what: string, reason: string): never {
  throw new FlathubFetchError(ErrorCodes.DECOMPRESS, `${what}: xz data is invalid: ${reason}`, { what, format: 'xz', reason });
}

function readVli(b: Uint8Array, pos: number, end: number, what: string): [number, number] {
  let v = 0;
  let scale = 1;
  for (let i = 0; i < 9; i++) {
    if (pos + i >= end) bad(what, 'index ends inside a number');
    const byte = b[pos + i] as number;
    v += (byte & 0x7f) * scale;
    scale *= 128;
    if ((byte & 0x80) === 0) {
      if (v > Number.MAX_SAFE_INTEGER) bad(what, 'index number beyond 2^53');
      return [v, pos + i + 1];
    }
  }
  return bad(what, 'index number longer than 9 bytes');
}

/**
 * The last stream of xz data that ends at `end`: where it starts (an offset of `data`; negative
 * when it started before `data`, i.e. `data` is only the tail of the xz data — its stream header
 * is then not checked) and its uncompressed size, from its footer and index. `tailOnly`: null
 * when the tail does not hold the whole footer and index.
 */
function lastStream(data: Uint8Array, end: number, what: string, tailOnly = false): { start: number; uncompressed: number } | null {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  // Stream padding: zero bytes in multiples of four, between or after streams.
  while (end >= 4 && view.getUint32(end - 4, true) === 0) end -= 4;
  if (end < 12) return tailOnly ? null : bad(what, 'shorter than an xz stream footer');
  if (data[end - 2] !== 0x59 || data[end - 1] !== 0x5a) bad(what, 'missing stream footer magic');
  const indexSize = (view.getUint32(end - 8, true) + 1) * 4;
  const indexStart = end - 12 - indexSize;
  // (Only the tail of the data, and an index longer than it: nothing to check here.)
  if (indexStart < 0) return tailOnly ? null : bad(what, 'index larger than the stream');
  if (data[indexStart] !== 0) bad(what, 'missing index indicator');
  const [count, first] = readVli(data, indexStart + 1, end - 12, what);
  let pos = first;
  let blocks = 0;
  let uncompressed = 0;
  for (let i = 0; i < count; i++) {
    const [unpadded, p1] = readVli(data, pos, end - 12, what);
    const [size, p2] = readVli(data, p1, end - 12, what);
    pos = p2;
    blocks += Math.ceil(unpadded / 4) * 4;
    uncompressed += size;
    if (uncompressed > Number.MAX_SAFE_INTEGER) bad(what, 'uncompressed size beyond 2^53');
  }
  const start = indexStart - blocks - 12;
  if (start >= 0 && (data[start] !== 0xfd || data[start + 1] !== 0x37 || data[start + 2] !== 0x7a))
    bad(what, 'missing stream header magic');
  return { start, uncompressed };
}

/** Total uncompressed size declared by the .xz index(es), without decompressing. */
export function xzUncompressedSize(data: Uint8Array, what = 'xz data'): number {
  let end = data.length;
  let total = 0;
  let streams = 0;
  while (end > 0) {
    const s = lastStream(data, end, what) as { start: number; uncompressed: number };
    if (s.start < 0) bad(what, streams === 0 ? 'shorter than an xz stream' : 'bytes before the first stream');
    total += s.uncompressed;
    if (total > Number.MAX_SAFE_INTEGER) bad(what, 'uncompressed size beyond 2^53');
    end = s.start;
    streams++;
  }
  return total;
}

/**
 * Checks decoded output against the index of xz data seen only by its tail (a streaming decoder
 * keeps the last bytes): `tail` is the last bytes of `total` bytes of xz data. When the tail
 * reaches back to the start of the data's last stream and that stream is the whole data, the
 * output must be exactly its declared size; otherwise at least that. Catches a stream cut short
 * (which node-liblzma's streaming decoder ends without an error). Throws ERR_DECOMPRESS.
 */
export function checkXzEnd(tail: Uint8Array, total: number, outSize: number, what = 'xz data'): void {
  const s = lastStream(tail, tail.length, what, tail.length < total);
  if (s === null) return;
  const wholeData = s.start >= 0 && total - tail.length + s.start === 0;
  if (wholeData ? outSize !== s.uncompressed : outSize < s.uncompressed) {
    bad(what, `decoded ${outSize} bytes, the stream's index declares ${s.uncompressed}`);
  }
}

function checkLimit(data: Uint8Array, limit: number, what: string): number {
  const size = xzUncompressedSize(data, what);
  if (size > limit) {
    throw new FlathubFetchError(ErrorCodes.SIZE_LIMIT, `${what}: decompresses to ${size} bytes, limit ${limit}`, { what, size, limit });
  }
  return size;
}

function checkOutput(out: Buffer, size: number, what: string): Uint8Array {
  if (out.length !== size) bad(what, `decoded ${out.length} bytes, index declares ${size}`);
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

/** Decompresses a complete .xz file, refusing (before decoding) output larger than `limit`. */
export function decompressXz(data: Uint8Array, limit: number, what = 'xz data'): Uint8Array {
  const size = checkLimit(data, limit, what);
  let out: Buffer;
  try {
    out = unxzSync(asBuffer(data), { chunkSize: chunkFor(size) });
  } catch (err) {
    return bad(what, (err as Error).message);
  }
  return checkOutput(out, size, what);
}

const CHUNK = 1024 * 1024;
/** xz's best compression ratio, about 7000:1 (a long run of zeros); slices are sized by it. */
const XZ_MAX_RATIO = 7000;
/** How much excess output a lying stream can make the decoder produce (and drop) before it stops. */
const XZ_SLACK = 512 * 1024 * 1024;
const MIN_SLICE = 4 * 1024;
const MAX_SLICE = 4 * 1024 * 1024;

/** Output chunk: 1 MiB, or less for a smaller declared output (the decoder allocates a whole chunk up front). */
const chunkFor = (size: number) => Math.max(16 * 1024, Math.min(CHUNK, size));

function asBuffer(data: Uint8Array): Buffer {
  return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

/**
 * The same on libuv's thread pool, so decoding overlaps network and other work — and bounded by
 * the declared size: the index can lie (liblzma checks it only after decoding every block), so
 * output is copied into a buffer of the declared size as it streams and anything beyond it is
 * dropped (memory stays at the declared size plus one chunk), and the input is fed in slices small
 * enough that even xz's best ratio (~7000:1, a run of zeros) cannot decode more than XZ_SLACK of
 * excess before decoding stops (bounded CPU).
 */
export async function decompressXzAsync(data: Uint8Array, limit: number, what = 'xz data', signal?: AbortSignal): Promise<Uint8Array> {
  const size = checkLimit(data, limit, what);
  signal?.throwIfAborted();
  const input = asBuffer(data);
  const out = new Uint8Array(size);
  let produced = 0;
  let excess = false;
  const engine = createUnxz({ chunkSize: chunkFor(size) });
  engine.on('data', (chunk: unknown) => {
    const c = chunk as Buffer;
    if (excess || produced + c.length > size) {
      excess = true;
      return;
    }
    out.set(c, produced);
    produced += c.length;
  });
  const failed = new Promise<never>((_, reject) => engine.once('error', reject));
  failed.catch(() => {});
  const step = <T>(p: Promise<T>) => Promise.race([p, failed]);
  try {
    for (let off = 0; off < input.length && !excess; ) {
      signal?.throwIfAborted();
      const len = Math.min(MAX_SLICE, Math.max(MIN_SLICE, Math.floor((size - produced + XZ_SLACK) / XZ_MAX_RATIO)));
      const slice = input.subarray(off, off + len);
      await step(new Promise<void>((resolve, reject) => engine.write(slice, (err) => (err ? reject(err) : resolve()))));
      off += slice.length;
    }
    if (!excess) await step(new Promise<void>((resolve) => engine.end(() => resolve())));
  } catch (err) {
    if (signal?.aborted) throw signal.reason;
    return bad(what, (err as Error).message);
  } finally {
    engine.destroy();
  }
  if (excess) bad(what, `decodes to more than the ${size} bytes its index declares`);
  signal?.throwIfAborted();
  if (produced !== size) bad(what, `decoded ${produced} bytes, index declares ${size}`);
  return out;
}
