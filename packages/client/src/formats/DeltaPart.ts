/**
 * Static-delta part files. A part file is the serialised `(yay)`: one compression byte
 * (0 = none, 'x' = xz) then the payload, which uncompressed is
 * `(a(uuu)aa(ayay)ayay)`: mode table (uid, gid, mode, big-endian), xattr table, data blob, ops.
 */
import { FlathubFetchError } from '../errors/FlathubFetchError.js';
import { ErrorCodes } from '../errors/codes.js';
import { gv } from '../gvariant/schema.js';
import { sha256Hex } from './checksum.js';
import type { DeltaPartHeader } from './DeltaSuperblock.js';
import { bswap32 } from './endian.js';
import type { Xattrs } from './FileHeader.js';
import { formatError, withContext } from './formatError.js';
import { decompressXz } from './xz.js';
import type { XzDecoderChoice } from './xzDecoders.js';

export const PART_PAYLOAD_TYPE = '(a(uuu)aa(ayay)ayay)';
const schema = gv(PART_PAYLOAD_TYPE);

export interface DeltaPartPayload {
  modes: Array<{ uid: number; gid: number; mode: number }>;
  xattrs: Xattrs[];
  /** The data blob ops splice from. */
  data: Uint8Array;
  ops: Uint8Array;
}

export type PartCompression = 'none' | 'xz';

export interface PartDecodeOptions {
  /**
   * Largest uncompressed payload accepted. The part header's uncompressed size counts the
   * objects produced, not the payload (libostree 2026.3 bounded by it and broke real
   * deltas), so the default is generous: 2 × that size + 64 MiB.
   */
  maxPayloadSize?: number;
  /**
   * Which xz decoder runs (see xzDecoders.ts): the system's `xz` program when found, else the
   * WebAssembly decoder ('auto'), or one of them. @default 'auto'
   */
  xzDecoder?: XzDecoderChoice;
}

export function partCompression(file: Uint8Array, what = 'delta part'): PartCompression {
  const c = file[0];
  if (c === 0) return 'none';
  if (c === 0x78) return 'xz';
  if (c === undefined) throw formatError(what, 'empty part file');
  throw formatError(what, `unsupported compression byte 0x${c.toString(16).padStart(2, '0')}`);
}

/** Checks a part file against its header: size and SHA-256 of the bytes as served. */
export function verifyPartFile(file: Uint8Array, header: DeltaPartHeader, what = `delta part ${header.index}`): void {
  if (file.length !== header.size) {
    throw new FlathubFetchError(ErrorCodes.SIZE_LIMIT, `${what}: ${file.length} bytes, superblock declares ${header.size}`, {
      what,
      size: file.length,
      limit: header.size,
    });
  }
  const actual = sha256Hex(file);
  if (actual !== header.checksum) throw partMismatch(what, header.checksum, actual);
}

export function partMismatch(what: string, expected: string, actual: string): FlathubFetchError {
  return new FlathubFetchError(ErrorCodes.CHECKSUM_MISMATCH, `${what}: checksum ${actual} does not match the superblock's ${expected}`, {
    what,
    expected,
    actual,
  });
}

/** Payload bound: the header's uncompressed size counts objects, not the payload (see options). */
export function payloadLimit(uncompressedSize: number, options: PartDecodeOptions): number {
  return options.maxPayloadSize ?? 2 * uncompressedSize + 64 * 1024 * 1024;
}

export function checkedPayload(payload: Uint8Array, limit: number, what: string): DeltaPartPayload {
  if (payload.length > limit) {
    throw new FlathubFetchError(ErrorCodes.SIZE_LIMIT, `${what}: payload of ${payload.length} bytes exceeds ${limit}`, {
      what,
      size: payload.length,
      limit,
    });
  }
  return parsePartPayload(payload, what);
}

/** Decompresses (bounded, off this thread) and decodes a complete part file. */
export async function decodePartFile(
  file: Uint8Array,
  uncompressedSize: number,
  what = 'delta part',
  options: PartDecodeOptions & { signal?: AbortSignal } = {},
): Promise<DeltaPartPayload> {
  const limit = payloadLimit(uncompressedSize, options);
  const body = file.subarray(1);
  return checkedPayload(partCompression(file, what) === 'xz' ? await decompressXz(body, limit, what, options) : body, limit, what);
}

export function parsePartPayload(payload: Uint8Array, what = 'delta part payload'): DeltaPartPayload {
  return withContext(what, () => {
    const [modes, xattrs, data, ops] = schema.decode(payload);
    return {
      modes: modes.map(([uid, gid, mode]) => ({ uid: bswap32(uid), gid: bswap32(gid), mode: bswap32(mode) })),
      xattrs,
      data,
      ops,
    };
  });
}
