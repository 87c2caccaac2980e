/**
 * OSTree checksums: SHA-256, written as 64 lowercase hex characters in object paths and refs,
 * and as "modified base64" (standard base64 of the 32 bytes, no padding, '/' → '_') in
 * static-delta paths.
 */
import { createHash } from 'node:crypto';
import { FlathubFetchError } from '../errors/FlathubFetchError.js';
import { ErrorCodes } from '../errors/codes.js';

/** A 64-character lowercase hex SHA-256 checksum. */
export type Checksum = string & { readonly __checksum?: never };

const HEX64 = /^[0-9a-f]{64}$/;

export function isChecksum(value: unknown): value is Checksum {
  return typeof value === 'string' && HEX64.test(value);
}

/** Validates a hex checksum (case-insensitive input is normalised to lowercase). */
export function parseChecksum(value: string, what = 'checksum'): Checksum {
  const lower = value.toLowerCase();
  if (!HEX64.test(lower)) {
    throw new FlathubFetchError(ErrorCodes.BAD_CHECKSUM, `${what} "${value}" is not 64 hex characters`, { value, what });
  }
  return lower;
}

/** 32 raw bytes → hex. Throws ERR_BAD_CHECKSUM when the length is not 32. */
export function checksumFromBytes(bytes: Uint8Array, what = 'checksum'): Checksum {
  if (bytes.length !== 32) {
    throw new FlathubFetchError(ErrorCodes.BAD_CHECKSUM, `${what} has ${bytes.length} bytes, expected 32`, {
      value: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex'),
      what,
    });
  }
  return Buffer.from(bytes.buffer, bytes.byteOffset, 32).toString('hex');
}

/** hex → 32 raw bytes. */
export function checksumToBytes(checksum: string): Uint8Array {
  return new Uint8Array(Buffer.from(parseChecksum(checksum), 'hex'));
}

/** Modified base64 used in delta paths: 43 characters, '/' replaced by '_', no '=' padding. */
export function toModifiedBase64(checksum: string): string {
  return Buffer.from(parseChecksum(checksum), 'hex').toString('base64').slice(0, 43).replace(/\//g, '_');
}

export function fromModifiedBase64(text: string): Checksum {
  if (!/^[A-Za-z0-9+_]{43}$/.test(text)) {
    throw new FlathubFetchError(ErrorCodes.BAD_CHECKSUM, `"${text}" is not a modified-base64 checksum (43 characters)`, {
      value: text,
      what: 'modified base64 checksum',
    });
  }
  const bytes = Buffer.from(`${text.replace(/_/g, '/')}=`, 'base64');
  return checksumFromBytes(bytes);
}

/** SHA-256 of the concatenation of `chunks`, as hex. */
export function sha256Hex(...chunks: Uint8Array[]): Checksum {
  const h = createHash('sha256');
  for (const c of chunks) h.update(c);
  return h.digest('hex');
}
