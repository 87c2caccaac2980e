/**
 * Static-delta superblocks: `(a{sv}tayay<commit>aya(uayttay)a(yaytt))` — metadata, timestamp
 * (big-endian), from (empty = from scratch), to, the target commit, prerequisite deltas,
 * part headers and fallback objects.
 *
 * Part-header and fallback sizes (and the part version) are in the generating host's byte
 * order. `ostree.endianness` in the metadata says which ('l' or 'B'); without it we use
 * libostree's heuristic (_ostree_delta_get_endianness). A signed superblock is wrapped in
 * `(taya{sv})` whose first 8 bytes are "OSTSGNDT".
 */
import { FlathubFetchError } from '../errors/FlathubFetchError.js';
import { ErrorCodes } from '../errors/codes.js';
import { gv } from '../gvariant/schema.js';
import { type Checksum, checksumFromBytes } from './checksum.js';
import { type Commit, COMMIT_TYPE, parseCommit } from './Commit.js';
import { deltaDirectory, deltaPartPath } from './paths.js';
import { bswap32, bswap64 } from './endian.js';
import { formatError, withContext } from './formatError.js';
import { objectTypeFromByte, type ObjectType } from './ObjectType.js';
import { lookup, type VarDict } from './VarDict.js';

export const SUPERBLOCK_TYPE = `(a{sv}tayay${COMMIT_TYPE}aya(uayttay)a(yaytt))`;
export const SIGNED_SUPERBLOCK_TYPE = '(taya{sv})';
const schema = gv(SUPERBLOCK_TYPE);
const signedSchema = gv(SIGNED_SUPERBLOCK_TYPE);
const MAGIC = new TextEncoder().encode('OSTSGNDT');

/** libostree refuses superblocks larger than this (OSTREE_MAX_METADATA_SIZE-like cap for deltas). */
export const MAX_SUPERBLOCK_SIZE = 128 * 1024 * 1024;

export interface DeltaObjectRef {
  type: ObjectType;
  checksum: Checksum;
}

export interface DeltaPartHeader {
  index: number;
  version: number;
  /** SHA-256 of the part file as served (compression byte included). */
  checksum: Checksum;
  /** Size of the part file (compressed). */
  size: number;
  /** Total uncompressed size of the objects it produces. */
  uncompressedSize: number;
  /** Objects the part produces, in op order. */
  objects: DeltaObjectRef[];
}

export interface DeltaFallback {
  type: ObjectType;
  checksum: Checksum;
  /** Size of the loose object as served (`.filez` for content). */
  size: number;
  uncompressedSize: number;
}

export interface DeltaSuperblock {
  metadata: VarDict;
  timestamp: bigint;
  from: Checksum | null;
  to: Checksum;
  commit: Commit;
  /** The target commit object, bytes exactly as in the superblock (its checksum is `to`). */
  commitBytes: Uint8Array;
  parts: DeltaPartHeader[];
  fallbacks: DeltaFallback[];
  /** True when the generator's byte order differs from little-endian readers'. */
  byteSwapped: boolean;
  /** How byte order was decided. */
  endianness: 'little' | 'big';
  endiannessSource: 'metadata' | 'heuristic';
  /** Prerequisite deltas (raw; always empty from current generators). */
  prerequisites: Uint8Array;
  /** Signatures when the file was an OSTSGNDT-signed superblock. */
  signatures: VarDict | null;
  /** Inline parts (`--inline`): part index → part file bytes (compression byte + payload). */
  inlineParts: Map<number, Uint8Array>;
}

/** True when `bytes` starts with the signed-superblock magic. */
export function isSignedSuperblock(bytes: Uint8Array): boolean {
  return bytes.length >= 8 && MAGIC.every((b, i) => bytes[i] === b);
}

export function parseDeltaSuperblock(bytes: Uint8Array, what = 'delta superblock'): DeltaSuperblock {
  return withContext(what, () => {
    if (bytes.length > MAX_SUPERBLOCK_SIZE) {
      throw new FlathubFetchError(ErrorCodes.SIZE_LIMIT, `${what}: ${bytes.length} bytes exceeds ${MAX_SUPERBLOCK_SIZE}`, {
        what,
        size: bytes.length,
        limit: MAX_SUPERBLOCK_SIZE,
      });
    }
    let body = bytes;
    let signatures: VarDict | null = null;
    if (isSignedSuperblock(bytes)) {
      const [, inner, sigs] = signedSchema.decode(bytes);
      body = inner;
      signatures = sigs;
    }
    const [metadata, ts, from, to, commitTuple, prerequisites, rawParts, rawFallbacks] = schema.decode(body);
    const toCsum = checksumFromBytes(to, 'target commit');
    const fromCsum = from.length === 0 ? null : checksumFromBytes(from, 'from commit');
    const commitBytes = gv(COMMIT_TYPE).encode(commitTuple);
    const commit = parseCommit(commitBytes, `${what} commit`);

    const marker = lookup(metadata, 'ostree.endianness');
    let endianness: 'little' | 'big';
    let source: 'metadata' | 'heuristic';
    if (marker !== undefined) {
      if (marker.type !== 'y') throw formatError(what, `ostree.endianness has type ${marker.type}`);
      const c = String.fromCharCode(marker.value as number);
      if (c === 'l') endianness = 'little';
      else if (c === 'B') endianness = 'big';
      else throw formatError(what, `ostree.endianness is "${c}", expected "l" or "B"`);
      source = 'metadata';
    } else {
      endianness = guessSwapped(rawParts) ? 'big' : 'little';
      source = 'heuristic';
    }
    const swapped = endianness === 'big';
    const u32 = (v: number) => (swapped ? bswap32(v) : v);
    const u64 = (v: bigint, field: string) => {
      const x = swapped ? bswap64(v) : v;
      if (x > BigInt(Number.MAX_SAFE_INTEGER)) throw formatError(what, `${field} ${x} is absurd`);
      return Number(x);
    };

    const parts = rawParts.map(([version, csum, size, usize, objects], index): DeltaPartHeader => {
      if (objects.length % 33 !== 0)
        throw formatError(what, `part ${index} object list of ${objects.length} bytes is not a multiple of 33`);
      // One hex conversion for the whole list (thousands of objects per part); labels only on error.
      const hex = Buffer.from(objects.buffer, objects.byteOffset, objects.byteLength).toString('hex');
      const list: DeltaObjectRef[] = new Array(objects.length / 33);
      for (let i = 0, k = 0; i < objects.length; i += 33, k++) {
        const byte = objects[i] as number;
        const type = byte >= 1 && byte <= 9 ? (byte as ObjectType) : objectTypeFromByte(byte, `part ${index} object ${k} type`);
        list[k] = { type, checksum: hex.slice(2 * i + 2, 2 * i + 66) };
      }
      const v = u32(version);
      if (v !== 0) throw formatError(what, `part ${index} has unsupported version ${v}`);
      return {
        index,
        version: v,
        checksum: checksumFromBytes(csum, `part ${index} checksum`),
        size: u64(size, `part ${index} size`),
        uncompressedSize: u64(usize, `part ${index} uncompressed size`),
        objects: list,
      };
    });
    const fallbacks = rawFallbacks.map(
      ([type, csum, size, usize], i): DeltaFallback => ({
        type: objectTypeFromByte(type, `fallback ${i} type`),
        checksum: checksumFromBytes(csum, `fallback ${i} checksum`),
        size: u64(size, `fallback ${i} size`),
        uncompressedSize: u64(usize, `fallback ${i} uncompressed size`),
      }),
    );

    const inlineParts = new Map<number, Uint8Array>();
    for (const p of parts) {
      const v = lookup(metadata, deltaPartPath(fromCsum, toCsum, p.index));
      if (v === undefined) continue;
      if (v.type !== '(yay)') throw formatError(what, `inline part ${p.index} has type ${v.type}, expected (yay)`);
      const [comp, payload] = v.value as [number, Uint8Array];
      const file = new Uint8Array(1 + payload.length);
      file[0] = comp;
      file.set(payload, 1);
      inlineParts.set(p.index, file);
    }
    return {
      metadata,
      timestamp: bswap64(ts),
      from: fromCsum,
      to: toCsum,
      commit,
      commitBytes,
      parts,
      fallbacks,
      byteSwapped: swapped,
      endianness,
      endiannessSource: source,
      prerequisites,
      signatures,
      inlineParts,
    };
  });
}

/**
 * libostree's heuristic when `ostree.endianness` is absent: a part whose compressed size
 * exceeds its uncompressed size by more than 1.2×, or an absurd average object size, means
 * the numbers were written by a host of the other byte order.
 */
function guessSwapped(parts: ReadonlyArray<readonly [number, Uint8Array, bigint, bigint, Uint8Array]>): boolean {
  let total = 0n;
  let objects = 0n;
  for (const [, , size, usize, objs] of parts) {
    if (size > usize && Number(size) / Number(usize) > 1.2) return true;
    total += size;
    objects += BigInt(Math.floor(objs.length / 33));
  }
  return objects > 0n && total / objects > 0xffffffffn;
}

/** Detached metadata of the target commit, carried in the superblock metadata under `deltas/…/commitmeta`. */
export function superblockCommitMeta(sb: DeltaSuperblock): VarDict | null {
  const key = `${deltaDirectory(sb.from, sb.to)}commitmeta`;
  const v = lookup(sb.metadata, key);
  if (v === undefined || v.type !== 'a{sv}') return null;
  return v.value as VarDict;
}
