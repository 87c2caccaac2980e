/**
 * xz (.xz container) support for delta parts.
 *
 * `xzUncompressedSize` reads the stream index(es) at the end of the file — the .xz format
 * requires one and decoders verify the blocks against it — so the output size is known and
 * bounded before anything is decompressed. Decoding is streaming, by the backend xzDecoders.ts
 * picks (the system's `xz` program, or WebAssembly in a worker thread); the output is bounded as
 * it is produced, whatever the index claims.
 */
import { FlathubFetchError } from '../errors/FlathubFetchError.js';
import { ErrorCodes } from '../errors/codes.js';
import { type XzDecoderChoice, startXzStream } from './xzDecoders.js';
import type { XzStreamError } from './xzOutput.js';
import { throwIfAborted } from '../errors/abortError.js';

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
 * output must be exactly its declared size; otherwise at least that. Catches a stream cut short.
 * Throws ERR_DECOMPRESS.
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

/** Input slice fed to the decoder at a time (the whole input is in memory already). */
const SLICE = 1024 * 1024;

/**
 * Decompresses a complete .xz file, refusing (before decoding) output larger than `limit`, and
 * bounded by the declared size while decoding: the index can lie (decoders check it only after
 * every block), so output beyond it stops the decoder (memory stays at the declared size).
 */
export async function decompressXz(
  data: Uint8Array,
  limit: number,
  what = 'xz data',
  options: { xzDecoder?: XzDecoderChoice; signal?: AbortSignal } = {},
): Promise<Uint8Array> {
  const { signal } = options;
  const size = checkLimit(data, limit, what);
  throwIfAborted(signal, what);
  const shared = new SharedArrayBuffer(size);
  const { stream } = startXzStream(shared, size, options.xzDecoder ?? 'auto');
  const onAbort = () => stream.destroy();
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    for (let off = 0; off < data.length; off += SLICE) {
      await stream.push(data.subarray(off, off + SLICE));
      throwIfAborted(signal, what);
    }
    const out = await stream.finish();
    if (out.outSize !== size) bad(what, `decoded ${out.outSize} bytes, index declares ${size}`);
    return new Uint8Array(shared);
  } catch (err) {
    throwIfAborted(signal, what);
    if (err instanceof FlathubFetchError) throw err;
    const e = err as XzStreamError;
    if (e.kind === 'too-large') bad(what, `decodes to more than the ${size} bytes its index declares`);
    return bad(what, e.message ?? String(err));
  } finally {
    signal?.removeEventListener('abort', onAbort);
    stream.destroy();
  }
}
