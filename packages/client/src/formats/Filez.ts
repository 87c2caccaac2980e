/**
 * Whole `.filez` objects (archive-mode content): framed header + raw deflate of the content.
 * Inflation is bounded by the size the header declares; the result is checked against it.
 */
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { FlathubFetchError } from '../errors/FlathubFetchError.js';
import { ErrorCodes } from '../errors/codes.js';
import type { Checksum } from './checksum.js';
import { contentChecksum, encodeFilezHeader, type FileInfo, isSymlink, parseFilezHeader } from './FileHeader.js';
import { formatError } from './formatError.js';
import { exactInflateOptions } from './inflateOptions.js';

export interface FilezOptions {
  /** Largest content accepted, in bytes. @default 2 ** 32 */
  maxSize?: number;
}

/** Decodes a `.filez`: header and inflated content (empty for symlinks). */
export function readFilez(bytes: Uint8Array, what = 'filez', options: FilezOptions = {}): { info: FileInfo; content: Uint8Array } {
  const { info, payloadOffset } = parseFilezHeader(bytes, what);
  const max = options.maxSize ?? 2 ** 32;
  if (info.size > max) throw declaredSizeError(what, info.size, max);
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
    const out = inflateRawSync(payload, exactInflateOptions(size));
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'ERR_BUFFER_TOO_LARGE') throw inflatesBeyondError(what, size);
    throw deflateError(what, (err as Error).message, err);
  }
}

/** ERR_SIZE_LIMIT: a content object declares more bytes than `limit` allows (a policy limit). */
export function declaredSizeError(what: string, size: number, limit: number): FlathubFetchError {
  return new FlathubFetchError(ErrorCodes.SIZE_LIMIT, `${what}: declared size ${size} exceeds the limit ${limit}`, { what, size, limit });
}

/** ERR_SIZE_LIMIT: the content inflates beyond the size its header declares (corrupt bytes). */
export function inflatesBeyondError(what: string, size: number): FlathubFetchError {
  return new FlathubFetchError(ErrorCodes.SIZE_LIMIT, `${what}: content inflates beyond the declared ${size} bytes`, {
    what,
    size,
    limit: size,
  });
}

/** ERR_DECOMPRESS: the raw-deflate payload of a `.filez` does not inflate. */
export function deflateError(what: string, message: string, cause?: unknown): FlathubFetchError {
  return new FlathubFetchError(
    ErrorCodes.DECOMPRESS,
    `${what}: deflate data is invalid (${message})`,
    { what, format: 'deflate' },
    cause === undefined ? undefined : { cause },
  );
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
