/**
 * Runs the op stream of one static-delta part in memory and yields the objects it produces,
 * each verified against the checksum the part header lists for it.
 *
 * Ops (opcode byte, then LEB128 varints):
 * - `S` open-splice-and-close: metadata `(length, offset)`; content `(mode, xattrs, size, offset)`
 * - `o` open content `(mode, xattrs, size)`; `w` write `(length, offset)` from the read source
 *   when one is set, else from the data blob; `r` set read source `(offset of a 32-byte
 *   checksum in the data blob)`; `R` unset it; `c` close (verify, next object);
 *   `B` bspatch `(offset, length)` of the data blob against the whole read source.
 *
 * Every offset and length is checked before use; a content object's size is bounded by
 * `maxObjectSize`. Objects the caller already has (`has`) are skipped without reading sources.
 */
import { FlathubFetchError } from '../errors/FlathubFetchError.js';
import { ErrorCodes } from '../errors/codes.js';
import { bspatch } from './bspatch.js';
import { type Checksum, checksumFromBytes, sha256Hex } from './checksum.js';
import type { DeltaPartPayload } from './DeltaPart.js';
import type { DeltaObjectRef, DeltaPartHeader } from './DeltaSuperblock.js';
import { contentChecksum, type FileInfo, isSymlink, validateFileInfo } from './FileHeader.js';
import { ObjectType, objectTypeName } from './ObjectType.js';
import { readVarint } from './varint.js';

export type DeltaOutput =
  | { readonly kind: 'metadata'; readonly type: ObjectType; readonly checksum: Checksum; readonly bytes: Uint8Array }
  | { readonly kind: 'content'; readonly type: 1; readonly checksum: Checksum; readonly info: FileInfo; readonly content: Uint8Array };

export interface ExecuteOptions {
  /** Full uncompressed content of a local content object, for `r` (rollsum and bsdiff sources). */
  readSource: (checksum: Checksum) => Uint8Array;
  /** True when the object is already present: it is then skipped, not produced. @default () => false */
  has?: (object: DeltaObjectRef) => boolean;
  /** Largest content object accepted. @default 1 GiB */
  maxObjectSize?: number;
  /** Names the part in errors. @default "delta part N" */
  what?: string;
  /**
   * Hash every produced content object against the part header. `false` leaves that to the
   * caller, which must then verify each emitted object's checksum itself (as
   * `LocalRepo.writeContentBatch` does, off the main thread). Metadata objects are always
   * verified. @default true
   */
  verifyContent?: boolean;
}

/**
 * A stretch of a part's op stream that can run on its own (see partWindows): ops from byte `pc`
 * up to `opsEnd`, producing objects `fromObject` to `toObject - 1`, and reading the data blob
 * only within `[dataStart, dataEnd)`.
 */
export interface PartWindow {
  pc: number;
  opsEnd: number;
  fromObject: number;
  toObject: number;
  dataStart: number;
  dataEnd: number;
}

/** Where a window's data is: bytes `[window.dataStart, window.dataEnd)` of a blob of `dataLength` bytes. */
export interface WindowData {
  window: PartWindow;
  dataLength: number;
}

export interface OpCounts {
  S: number;
  o: number;
  w: number;
  r: number;
  R: number;
  c: number;
  B: number;
}

/**
 * Executes the part, calling `emit` for each produced object in order. Returns the op counts.
 *
 * With `windowed`, it runs one window of the part (see partWindows) and `payload.data` holds
 * only that window's bytes of the data blob; the checks at the end of the op stream are the last
 * window's. Objects produced from the data are views of `payload.data`, not copies.
 */
export function executeDeltaPart(
  header: DeltaPartHeader,
  payload: Pick<DeltaPartPayload, 'modes' | 'xattrs' | 'ops' | 'data'>,
  emit: (object: DeltaOutput) => void,
  options: ExecuteOptions,
  windowed?: WindowData,
): OpCounts {
  const what = options.what ?? `delta part ${header.index}`;
  const has = options.has ?? (() => false);
  const maxObject = options.maxObjectSize ?? 1024 ** 3;
  const verifyContent = options.verifyContent ?? true;
  const { ops, data } = payload;
  const dataLength = windowed?.dataLength ?? data.length;
  const dataStart = windowed?.window.dataStart ?? 0;
  const opsEnd = windowed?.window.opsEnd ?? ops.length;
  const lastWindow = opsEnd === ops.length;
  const counts: OpCounts = { S: 0, o: 0, w: 0, r: 0, R: 0, c: 0, B: 0 };
  let pc = windowed?.window.pc ?? 0;
  let objIndex = windowed?.window.fromObject ?? 0;
  let opStart = 0;
  let opName = '';

  const fail = (reason: string, code: (typeof ErrorCodes)[keyof typeof ErrorCodes] = ErrorCodes.DELTA_OP): never => {
    throw new FlathubFetchError(code, `${what}: op ${opName || '?'} at byte ${opStart}: ${reason}`, {
      part: header.index,
      offset: opStart,
      op: opName,
      reason,
    });
  };
  const arg = (): number => {
    const r = readVarint(ops, pc);
    if (r === null) return fail('truncated or overlong varint');
    pc = r.next;
    return r.value;
  };
  const slice = (off: number, len: number, src: Uint8Array, name: string): Uint8Array => {
    if (!(off >= 0 && len >= 0 && off + len <= src.length)) fail(`${name} range [${off}, +${len}) is outside ${src.length} bytes`);
    return src.subarray(off, off + len);
  };
  /** Bytes of the data blob (`off` counts from the blob's start, wherever the window is). */
  const dataSlice = (off: number, len: number, name: string): Uint8Array => {
    if (!(off >= 0 && len >= 0 && off + len <= dataLength)) fail(`${name} range [${off}, +${len}) is outside ${dataLength} bytes`);
    const at = off - dataStart;
    // partWindows puts every in-bounds range an op of the window reads inside it.
    if (at < 0 || at + len > data.length) fail(`${name} range [${off}, +${len}) is outside the window read for it`);
    return data.subarray(at, at + len);
  };

  // State of the content object being written by o/w/B/c. Its buffer is made by the first `w`
  // (none when a bspatch makes the whole object), and is a view, not a copy, when that write
  // covers the whole object (the payload's buffer is then what the writers read from).
  let current: { ref: DeltaObjectRef; info: FileInfo; skip: boolean; buf: Uint8Array | null; written: number } | null = null;
  let source: Uint8Array | null = null;
  let sourceChecksum: Checksum | null = null;

  const nextRef = (): DeltaObjectRef => {
    const ref = header.objects[objIndex];
    if (ref === undefined) return fail(`opens object ${objIndex} but the part lists ${header.objects.length}`);
    return ref;
  };
  const fileInfo = (modeIdx: number, xattrIdx: number, size: number, ref: DeltaObjectRef): FileInfo => {
    const m = payload.modes[modeIdx];
    const x = payload.xattrs[xattrIdx];
    if (m === undefined) return fail(`mode index ${modeIdx} out of ${payload.modes.length}`);
    if (x === undefined) return fail(`xattr index ${xattrIdx} out of ${payload.xattrs.length}`);
    if (size > maxObject) fail(`object ${ref.checksum} declares ${size} bytes, limit ${maxObject}`, ErrorCodes.SIZE_LIMIT);
    return { uid: m.uid, gid: m.gid, mode: m.mode, rdev: 0, symlinkTarget: '', xattrs: x, size };
  };
  const mismatch = (ref: DeltaObjectRef, actual: string): never =>
    fail(`produced ${objectTypeName(ref.type)} ${actual}, expected ${ref.checksum}`, ErrorCodes.CHECKSUM_MISMATCH);
  const finishContent = (ref: DeltaObjectRef, info: FileInfo, content: Uint8Array): void => {
    try {
      validateFileInfo(info, `${what} object ${ref.checksum}`);
    } catch (err) {
      fail((err as Error).message);
    }
    if (verifyContent) {
      const actual = contentChecksum(info, content);
      if (actual !== ref.checksum) mismatch(ref, actual);
    }
    emit({ kind: 'content', type: ObjectType.FILE, checksum: ref.checksum, info, content: isSymlink(info) ? new Uint8Array(0) : content });
  };
  const unsetSource = () => {
    source = null;
    sourceChecksum = null;
  };

  while (pc < opsEnd) {
    opStart = pc;
    const code = ops[pc++] as number;
    opName = String.fromCharCode(code);
    switch (opName) {
      case 'S': {
        counts.S++;
        if (current !== null) fail('previous object is still open');
        const ref = nextRef();
        if (ref.type !== ObjectType.FILE) {
          const len = arg();
          const off = arg();
          const bytes = dataSlice(off, len, 'metadata');
          if (!has(ref)) {
            const actual = sha256Hex(bytes);
            if (actual !== ref.checksum) mismatch(ref, actual);
            emit({ kind: 'metadata', type: ref.type, checksum: ref.checksum, bytes });
          }
        } else {
          const modeIdx = arg();
          const xattrIdx = arg();
          const size = arg();
          const off = arg();
          const bytes = dataSlice(off, size, 'content');
          if (!has(ref)) {
            const info = fileInfo(modeIdx, xattrIdx, size, ref);
            if (isSymlink(info)) {
              let target: string;
              try {
                target = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
              } catch {
                return fail(`symlink target of ${ref.checksum} is not UTF-8`);
              }
              finishContent(ref, { ...info, symlinkTarget: target, size: 0 }, new Uint8Array(0));
            } else {
              finishContent(ref, info, bytes);
            }
          }
        }
        unsetSource();
        objIndex++;
        break;
      }
      case 'o': {
        counts.o++;
        if (current !== null) fail('previous object is still open');
        const ref = nextRef();
        if (ref.type !== ObjectType.FILE) fail(`opens ${objectTypeName(ref.type)} ${ref.checksum} as content`);
        const modeIdx = arg();
        const xattrIdx = arg();
        const size = arg();
        const skip = has(ref);
        const info = fileInfo(modeIdx, xattrIdx, size, ref);
        current = { ref, info, skip, buf: null, written: 0 };
        break;
      }
      case 'w': {
        counts.w++;
        const len = arg();
        const off = arg();
        if (current === null) return fail('no object is open');
        const bytes = source !== null ? slice(off, len, source, `read source ${sourceChecksum}`) : dataSlice(off, len, 'data');
        if (!current.skip) {
          const size = current.info.size;
          if (current.written + len > size) fail(`writes past the declared size ${size}`);
          if (current.buf === null && len === size) current.buf = bytes;
          else {
            current.buf ??= new Uint8Array(size);
            current.buf.set(bytes, current.written);
          }
          current.written += len;
        }
        break;
      }
      case 'r': {
        counts.r++;
        const off = arg();
        const csum = checksumFromBytes(dataSlice(off, 32, 'read-source checksum'));
        if (current === null || !current.skip) {
          try {
            source = options.readSource(csum);
          } catch (err) {
            throw new FlathubFetchError(
              ErrorCodes.NOT_FOUND,
              `${what}: read source ${csum} is not available: ${(err as Error).message}`,
              {
                what: `read source ${csum}`,
                object: csum,
              },
              { cause: err },
            );
          }
        } else {
          source = new Uint8Array(0);
        }
        sourceChecksum = csum;
        break;
      }
      case 'R':
        counts.R++;
        unsetSource();
        break;
      case 'B': {
        counts.B++;
        const off = arg();
        const len = arg();
        const patch = dataSlice(off, len, 'bsdiff patch');
        if (current === null) return fail('no object is open');
        if (source === null) return fail('bspatch without a read source');
        if (!current.skip) {
          current.buf = bspatch(source, patch, current.info.size);
          current.written = current.info.size;
        }
        break;
      }
      case 'c': {
        counts.c++;
        if (current !== null) {
          if (!current.skip) {
            if (current.written !== current.info.size)
              fail(`object ${current.ref.checksum} got ${current.written} of ${current.info.size} bytes`);
            finishContent(current.ref, current.info, current.buf ?? new Uint8Array(0));
          }
          current = null;
          objIndex++;
        } else {
          fail('close without an open object');
        }
        unsetSource();
        break;
      }
      default:
        fail(`unknown opcode 0x${code.toString(16).padStart(2, '0')}`);
    }
  }
  if (!lastWindow) {
    if (current !== null || objIndex !== windowed?.window.toObject) fail('the window does not end between objects');
    return counts;
  }
  if (current !== null) fail('op stream ends with an object still open');
  if (objIndex !== header.objects.length) {
    opName = 'end';
    fail(`produced ${objIndex} objects, the part lists ${header.objects.length}`);
  }
  return counts;
}

/**
 * Cuts a part's op stream into windows (see PartWindow) whose data each spans at most
 * `maxBytes` where the ops allow it: a window ends only between objects with no read source set,
 * so one object's data may span more. The walk reads ops as the executor does; ranges out of
 * bounds are left out (the executor refuses them), and at an op it cannot read (one the
 * executor refuses too) it stops: the last window runs to the end of the stream.
 */
export function partWindows(header: DeltaPartHeader, ops: Uint8Array, dataLength: number, maxBytes: number): PartWindow[] {
  const windows: PartWindow[] = [];
  /** The window being filled; its span is empty while lo >= hi. */
  let cur = { pc: 0, fromObject: 0, lo: Number.POSITIVE_INFINITY, hi: 0 };
  /** The ops since the last boundary: where they start, the objects before them, their span. */
  let unitPc = 0;
  let unitFrom = 0;
  let lo = Number.POSITIVE_INFINITY;
  let hi = 0;
  let obj = 0;
  let open = false;
  let sourceSet = false;
  let pc = 0;
  let broken = false;
  const arg = (): number => {
    const r = readVarint(ops, pc);
    if (r === null) {
      broken = true;
      return 0;
    }
    pc = r.next;
    return r.value;
  };
  const reads = (off: number, len: number) => {
    if (broken || off + len > dataLength) return;
    lo = Math.min(lo, off);
    hi = Math.max(hi, off + len);
  };
  const mergeUnit = () => {
    if (lo < hi) {
      cur.lo = Math.min(cur.lo, lo);
      cur.hi = Math.max(cur.hi, hi);
    }
  };
  while (pc < ops.length && !broken) {
    const op = String.fromCharCode(ops[pc++] as number);
    if (op === 'S') {
      const ref = header.objects[obj];
      if (ref === undefined || open) break;
      if (ref.type === ObjectType.FILE) {
        arg();
        arg();
        const size = arg();
        reads(arg(), size);
      } else {
        const len = arg();
        reads(arg(), len);
      }
      obj++;
      sourceSet = false;
    } else if (op === 'o') {
      if (open) break;
      open = true;
      arg();
      arg();
      arg();
    } else if (op === 'w') {
      const len = arg();
      const off = arg();
      if (!sourceSet) reads(off, len);
    } else if (op === 'r') {
      reads(arg(), 32);
      sourceSet = true;
    } else if (op === 'B') {
      const off = arg();
      reads(off, arg());
    } else if (op === 'R') {
      sourceSet = false;
    } else if (op === 'c') {
      if (!open) break;
      open = false;
      sourceSet = false;
      obj++;
    } else {
      break;
    }
    if (broken || open || sourceSet) continue;
    // Between objects: the ops since the last boundary join this window, or start the next.
    if (cur.lo < cur.hi && lo < hi && Math.max(cur.hi, hi) - Math.min(cur.lo, lo) > maxBytes) {
      windows.push({ pc: cur.pc, opsEnd: unitPc, fromObject: cur.fromObject, toObject: unitFrom, dataStart: cur.lo, dataEnd: cur.hi });
      cur = { pc: unitPc, fromObject: unitFrom, lo, hi };
    } else {
      mergeUnit();
    }
    unitPc = pc;
    unitFrom = obj;
    lo = Number.POSITIVE_INFINITY;
    hi = 0;
  }
  mergeUnit();
  const span = cur.lo < cur.hi ? { dataStart: cur.lo, dataEnd: cur.hi } : { dataStart: 0, dataEnd: 0 };
  windows.push({ pc: cur.pc, opsEnd: ops.length, fromObject: cur.fromObject, toObject: header.objects.length, ...span });
  return windows;
}
