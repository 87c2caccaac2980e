/**
 * Content-object headers.
 *
 * - The checksum header `(uuuusa(ayay))`: uid, gid, mode, rdev (big-endian), symlink target,
 *   xattrs. A content object's checksum is SHA-256 over `u32be(len) ‖ 4 zero bytes ‖ header ‖
 *   content` (content is empty for symlinks).
 * - The archive (`.filez`) header `(tuuuusa(ayay))`: the same with the uncompressed size
 *   first, framed the same way and followed by the raw-deflate compressed content.
 */
import { createHash } from 'node:crypto';
import { gv } from '../gvariant/schema.js';
import type { Checksum } from './checksum.js';
import { bswap32, bswap64 } from './endian.js';
import { formatError, withContext } from './formatError.js';

export type Xattrs = Array<[Uint8Array, Uint8Array]>;

export const FILE_HEADER_TYPE = '(uuuusa(ayay))';
export const FILEZ_HEADER_TYPE = '(tuuuusa(ayay))';
const headerSchema = gv(FILE_HEADER_TYPE);
const filezSchema = gv(FILEZ_HEADER_TYPE);

export const S_IFMT = 0o170000;
export const S_IFREG = 0o100000;
export const S_IFLNK = 0o120000;
export const S_IFDIR = 0o040000;

export interface FileInfo {
  uid: number;
  gid: number;
  /** Full st_mode: S_IFREG or S_IFLNK plus permission bits. */
  mode: number;
  rdev: number;
  /** Target for symlinks, "" for regular files. */
  symlinkTarget: string;
  xattrs: Xattrs;
  /** Content size in bytes (0 for symlinks). */
  size: number;
}

export function isSymlink(info: Pick<FileInfo, 'mode'>): boolean {
  return (info.mode & S_IFMT) === S_IFLNK;
}

export function isRegular(info: Pick<FileInfo, 'mode'>): boolean {
  return (info.mode & S_IFMT) === S_IFREG;
}

/** The serialised checksum header of a content object. */
export function encodeFileHeader(info: FileInfo): Uint8Array {
  return headerSchema.encode([
    bswap32(info.uid),
    bswap32(info.gid),
    bswap32(info.mode),
    bswap32(info.rdev),
    info.symlinkTarget,
    info.xattrs,
  ]);
}

/** `u32be(len) ‖ 00000000 ‖ variant`: how ostree frames a header before content. */
export function frameHeader(variant: Uint8Array): Uint8Array {
  const out = new Uint8Array(8 + variant.length);
  new DataView(out.buffer).setUint32(0, variant.length, false);
  out.set(variant, 8);
  return out;
}

/** Incremental content checksum: feed the header once, then the content in chunks. */
export function contentHasher(info: FileInfo): { update(chunk: Uint8Array): void; digest(): Checksum } {
  const h = createHash('sha256');
  h.update(frameHeader(encodeFileHeader(info)));
  return {
    update: (chunk) => void h.update(chunk),
    digest: () => h.digest('hex'),
  };
}

/** Checksum of a content object from its metadata and full content. */
export function contentChecksum(info: FileInfo, content: Uint8Array): Checksum {
  const h = contentHasher(info);
  if (!isSymlink(info)) h.update(content);
  return h.digest();
}

/** Checks the rules ostree applies to content objects: regular file or symlink, rdev 0, sane symlink. */
export function validateFileInfo(info: FileInfo, what: string): void {
  const fmt = info.mode & S_IFMT;
  if (fmt !== S_IFREG && fmt !== S_IFLNK) throw formatError(what, `mode 0${info.mode.toString(8)} is neither a regular file nor a symlink`);
  if (info.rdev !== 0) throw formatError(what, `rdev ${info.rdev} is not 0`);
  if (fmt === S_IFLNK) {
    if (info.symlinkTarget.length === 0) throw formatError(what, 'symlink has an empty target');
    if (info.size !== 0) throw formatError(what, `symlink declares ${info.size} content bytes`);
  } else if (info.symlinkTarget.length !== 0) {
    throw formatError(what, 'regular file has a symlink target');
  }
}

/** Encodes the `.filez` header (framed), to be followed by raw-deflate content. */
export function encodeFilezHeader(info: FileInfo): Uint8Array {
  return frameHeader(
    filezSchema.encode([
      bswap64(BigInt(info.size)),
      bswap32(info.uid),
      bswap32(info.gid),
      bswap32(info.mode),
      bswap32(info.rdev),
      info.symlinkTarget,
      info.xattrs,
    ]),
  );
}

/**
 * `encodeFilezHeader` of another size, from the header of the same file info with any size: the
 * size is the variant's first member (8 bytes, big-endian, right after the 8-byte frame), and
 * nothing else in the header depends on it.
 */
export function withFilezSize(header: Uint8Array, size: number): Uint8Array {
  const out = header.slice();
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  view.setUint32(8, Math.floor(size / 0x1_0000_0000), false);
  view.setUint32(12, size >>> 0, false);
  return out;
}

/**
 * Reads a framed header at the start of `bytes` (`.filez`, or a content stream in a delta).
 * Returns the file info and where the payload starts.
 */
export function parseFilezHeader(bytes: Uint8Array, what = 'filez'): { info: FileInfo; payloadOffset: number } {
  return withContext(what, () => {
    if (bytes.length < 8) throw formatError(what, `${bytes.length} bytes is shorter than the 8-byte header frame`);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const len = view.getUint32(0, false);
    if (view.getUint32(4, false) !== 0) throw formatError(what, 'header frame padding is not zero');
    if (len > bytes.length - 8) throw formatError(what, `header length ${len} exceeds the ${bytes.length - 8} bytes available`);
    const [size, uid, gid, mode, rdev, target, xattrs] = filezSchema.decode(bytes.subarray(8, 8 + len));
    const sz = bswap64(size);
    if (sz > BigInt(Number.MAX_SAFE_INTEGER)) throw formatError(what, `declared size ${sz} is absurd`);
    const info: FileInfo = {
      size: Number(sz),
      uid: bswap32(uid),
      gid: bswap32(gid),
      mode: bswap32(mode),
      rdev: bswap32(rdev),
      symlinkTarget: target,
      xattrs,
    };
    validateFileInfo(info, what);
    return { info, payloadOffset: 8 + len };
  });
}
