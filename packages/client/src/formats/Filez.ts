/**
 * Whole `.filez` objects (archive-mode content): framed header + raw deflate of the content.
 * Inflation is bounded by the size the header declares; the result is checked against it.
 */
import { constants, deflateRawSync, inflateRawSync } from 'node:zlib';
import { FlathubFetchError } from '../errors/FlathubFetchError.js';
import { ErrorCodes } from '../errors/codes.js';
import type { Checksum } from './checksum.js';
import { contentChecksum, encodeFilezHeader, type FileInfo, isSymlink, parseFilezHeader } from './FileHeader.js';
import { formatError } from './formatError.js';

export interface FilezOptions {
  /** Largest content accepted, in bytes. @default 2 ** 32 */
  maxSize?: number;
}

/** Decodes a `.filez`: header and inflated content (empty for symlinks). */
export function readFilez(bytes: Uint8Array, what = 'filez', options: FilezOptions = {}): { info: FileInfo; content: Uint8Array } {
  const { info, payloadOffset } = parseFilezHeader(bytes, what);
  const max = options.maxSize ?? 2 ** 32;
  if (info.size > max) {
    throw new FlathubFetchError(ErrorCodes.SIZE_LIMIT, `${what}: declared size ${info.size} exceeds the limit ${max}`, {
      what,
      size: info.size,
      limit: max,
    });
  }
  const payload = bytes.subarray(payloadOffset);
  if (isSymlink(info)) {
    if (payload.length !== 0 && inflateBounded(payload, 0, what).length !== 0) throw formatError(what, 'symlink has content bytes');
    return { info, content: new Uint8Array(0) };
  }
  const content = inflateBounded(payload, info.size, what);
  if (content.length !== info.size) throw formatError(what, `content is ${content.length} bytes, header declares ${info.size}`);
  return { info, content };
}

/** Inflates raw deflate, refusing to produce more than `size` bytes. */
export function inflateBounded(payload: Uint8Array, size: number, what: string): Uint8Array {
  if (payload.length === 0) return new Uint8Array(0);
  try {
    const out = inflateRawSync(payload, { maxOutputLength: Math.max(size, 1), finishFlush: constants.Z_SYNC_FLUSH });
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'ERR_BUFFER_TOO_LARGE') {
      throw new FlathubFetchError(ErrorCodes.SIZE_LIMIT, `${what}: content inflates beyond the declared ${size} bytes`, {
        what,
        size,
        limit: size,
      });
    }
    throw new FlathubFetchError(
      ErrorCodes.DECOMPRESS,
      `${what}: deflate data is invalid (${(err as Error).message})`,
      { what, format: 'deflate' },
      { cause: err },
    );
  }
}

/** Encodes content as a `.filez` (raw deflate, level 6 as ostree writes it). */
export function writeFilez(info: FileInfo, content: Uint8Array, level = 6): Uint8Array {
  const header = encodeFilezHeader({ ...info, size: isSymlink(info) ? 0 : content.length });
  if (isSymlink(info)) return header;
  const z = deflateRawSync(content, { level });
  const out = new Uint8Array(header.length + z.length);
  out.set(header, 0);
  out.set(z, header.length);
  return out;
}

/** Decodes a `.filez` and returns its content checksum (what its object name must be). */
export function filezChecksum(bytes: Uint8Array, what = 'filez', options?: FilezOptions): Checksum {
  const { info, content } = readFilez(bytes, what, options);
  return contentChecksum(info, content);
}
