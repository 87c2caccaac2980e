/**
 * Streaming Content-Encoding decoders (gzip via node:zlib, zstd via zstd-napi). Output comes in
 * bounded pieces (zlib's 16 KiB chunks with backpressure; zstd one 128 KiB output buffer per
 * step), produced only as the consumer pulls, so a consumer that stops at its size limit never
 * holds more than one piece past it: decompression bombs cost one buffer, not the bomb.
 * Corrupt input fails with ERR_DECOMPRESS; errors of the source pass through unchanged.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { FlathubFetchError } from '../errors/FlathubFetchError.js';
import { ErrorCodes } from '../errors/codes.js';
import { type ZstdBinding, zstdBinding } from './zstdBinding.js';

export type ContentCoding = 'identity' | 'gzip' | 'zstd';

/** The codings this process can decode, best first, for Accept-Encoding. */
export function acceptedEncodings(): string {
  return zstdBinding() === null ? 'gzip' : 'zstd, gzip';
}

/** Maps a Content-Encoding header to a coding, or null when unsupported. */
export function contentCoding(header: string | undefined): ContentCoding | null {
  const v = (header ?? '').trim().toLowerCase();
  if (v === '' || v === 'identity') return 'identity';
  if (v === 'gzip' || v === 'x-gzip') return 'gzip';
  if (v === 'zstd') return zstdBinding() === null ? null : 'zstd';
  return null;
}

export function decodeBody(coding: ContentCoding, source: AsyncIterable<Uint8Array>, what: string): AsyncIterable<Uint8Array> {
  if (coding === 'identity') return source;
  if (coding === 'gzip') return gunzip(source, what);
  const binding = zstdBinding();
  if (binding === null) throw decodeError(what, 'zstd', 'zstd-napi is not available');
  return unzstd(source, binding, what);
}

async function* gunzip(source: AsyncIterable<Uint8Array>, what: string): AsyncGenerator<Uint8Array> {
  let sourceError: { error: unknown } | null = null;
  const tapped = (async function* () {
    try {
      yield* source;
    } catch (error) {
      sourceError = { error };
      throw error;
    }
  })();
  const z = createGunzip();
  pipeline(Readable.from(tapped, { objectMode: false }), z, () => {});
  try {
    for await (const chunk of z as AsyncIterable<Buffer>) yield chunk;
  } catch (err) {
    if (sourceError !== null) throw (sourceError as { error: unknown }).error;
    throw decodeError(what, 'gzip', (err as Error).message, err);
  } finally {
    z.destroy();
  }
}

async function* unzstd(source: AsyncIterable<Uint8Array>, binding: ZstdBinding, what: string): AsyncGenerator<Uint8Array> {
  const dctx = new binding.DCtx();
  const size = binding.dStreamOutSize();
  let inFrame = false;
  for await (const chunk of source) {
    let src = chunk;
    for (;;) {
      const dst = Buffer.allocUnsafe(size);
      let step: [number, number, number];
      try {
        step = dctx.decompressStream(dst, src);
      } catch (err) {
        throw decodeError(what, 'zstd', (err as Error).message, err);
      }
      const [ret, produced, consumed] = step;
      src = src.subarray(consumed);
      inFrame = ret !== 0;
      // Copy small outputs so a caller keeping chunks does not pin 128 KiB each.
      if (produced > 0) yield produced < size >> 2 ? new Uint8Array(dst.subarray(0, produced)) : dst.subarray(0, produced);
      if (src.length === 0 && (produced < size || ret === 0)) break;
    }
  }
  if (inFrame) throw decodeError(what, 'zstd', 'data ends inside a zstd frame');
}

function decodeError(what: string, format: string, reason: string, cause?: unknown): FlathubFetchError {
  return new FlathubFetchError(ErrorCodes.DECOMPRESS, `${what}: cannot decode ${format} content (${reason})`, { what, format }, { cause });
}
