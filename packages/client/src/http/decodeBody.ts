/**
 * Streaming Content-Encoding decoders, both from node:zlib (gzip, and zstd where the runtime has
 * it: Node.js 22.15 and later). Output comes in zlib's bounded chunks with backpressure, produced
 * only as the consumer pulls, so a consumer that stops at its size limit never holds more than one
 * chunk past it: decompression bombs cost one buffer, not the bomb. Corrupt or truncated input
 * fails with ERR_DECOMPRESS; errors of the source pass through unchanged.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream';
import * as zlib from 'node:zlib';
import createDebug from 'debug';
import { FlathubFetchError } from '../errors/FlathubFetchError.js';
import { ErrorCodes } from '../errors/codes.js';

export type ContentCoding = 'identity' | 'gzip' | 'zstd';

type Transform = NodeJS.ReadWriteStream & { destroy(): void };
/** node:zlib's zstd decoder, absent before Node.js 22.15 (then zstd is simply not offered). */
const createZstdDecompress = (zlib as { createZstdDecompress?: () => Transform }).createZstdDecompress;

/** Whether this runtime decodes zstd (node:zlib's built-in decoder). */
export const ZSTD_AVAILABLE = typeof createZstdDecompress === 'function';

const debug = createDebug('flathub-fetch:http');
let told = false;

/** The codings this process can decode, best first, for Accept-Encoding. */
export function acceptedEncodings(): string {
  if (!told) {
    told = true;
    debug(
      ZSTD_AVAILABLE ? 'zstd decoder: node:zlib (zstd %s)' : 'no zstd decoder in this Node.js (%s): offering gzip only',
      process.versions.zstd ?? process.version,
    );
  }
  return ZSTD_AVAILABLE ? 'zstd, gzip' : 'gzip';
}

/** Maps a Content-Encoding header to a coding, or null when unsupported. */
export function contentCoding(header: string | undefined): ContentCoding | null {
  const v = (header ?? '').trim().toLowerCase();
  if (v === '' || v === 'identity') return 'identity';
  if (v === 'gzip' || v === 'x-gzip') return 'gzip';
  if (v === 'zstd') return ZSTD_AVAILABLE ? 'zstd' : null;
  return null;
}

export function decodeBody(coding: ContentCoding, source: AsyncIterable<Uint8Array>, what: string): AsyncIterable<Uint8Array> {
  if (coding === 'identity') return source;
  if (coding === 'zstd' && createZstdDecompress === undefined) throw decodeError(what, 'zstd', 'this Node.js has no zstd decoder');
  return inflate(source, coding, what);
}

async function* inflate(source: AsyncIterable<Uint8Array>, coding: 'gzip' | 'zstd', what: string): AsyncGenerator<Uint8Array> {
  let sourceError: { error: unknown } | null = null;
  const tapped = (async function* () {
    try {
      yield* source;
    } catch (error) {
      sourceError = { error };
      throw error;
    }
  })();
  const z = coding === 'gzip' ? zlib.createGunzip() : (createZstdDecompress as () => Transform)();
  pipeline(Readable.from(tapped, { objectMode: false }), z, () => {});
  try {
    for await (const chunk of z as AsyncIterable<Buffer>) yield chunk;
  } catch (err) {
    if (sourceError !== null) throw (sourceError as { error: unknown }).error;
    throw decodeError(what, coding, (err as Error).message, err);
  } finally {
    z.destroy();
  }
}

function decodeError(what: string, format: string, reason: string, cause?: unknown): FlathubFetchError {
  return new FlathubFetchError(ErrorCodes.DECOMPRESS, `${what}: cannot decode ${format} content (${reason})`, { what, format }, { cause });
}
