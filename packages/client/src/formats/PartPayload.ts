/**
 * A decoded static-delta part payload as the executor reads it: its tables (modes, xattrs, ops)
 * in memory, and its data blob — the bulk of the payload — where it is. In memory
 * ({@link memoryPayload}: an inline part, an uncompressed one, one the WebAssembly decoder
 * made), or in the file the `xz` program decoded it into ({@link filePayload}), from which the
 * executor reads one window of the blob at a time (see partWindows in executeDeltaPart.ts). A
 * part's memory is then its tables and the windows in flight, not its payload.
 *
 * The payload is the GVariant `(a(uuu)aa(ayay)ayay)`: three framing offsets (the ends of the mode
 * table, the xattr table and the data blob, the first at the very end) follow the ops.
 */
import { closeSync } from 'node:fs';
import { FlathubFetchError } from '../errors/FlathubFetchError.js';
import { ErrorCodes } from '../errors/codes.js';
import { containerSize, offsetWidth } from '../gvariant/framing.js';
import { gv } from '../gvariant/schema.js';
import type { DeltaPartPayload } from './DeltaPart.js';
import { bswap32 } from './endian.js';
import { formatError, withContext } from './formatError.js';
import { readAt } from './readAt.js';

const modesSchema = gv('a(uuu)');
const xattrsSchema = gv('aa(ayay)');

export interface PartPayloadSource {
  readonly modes: DeltaPartPayload['modes'];
  readonly xattrs: DeltaPartPayload['xattrs'];
  readonly ops: Uint8Array;
  /** Size of the data blob. */
  readonly dataLength: number;
  /** True when the data blob is in a file: readData() then needs a buffer to read into. */
  readonly inFile: boolean;
  /**
   * Bytes `[offset, offset + length)` of the data blob (the caller checked the range): a view of
   * the payload in memory (`into` unused), or read from the file into the start of `into` (which
   * must hold `length` bytes; a SharedArrayBuffer's, so the content workers read the objects in
   * it without a copy) and returned as a view of it.
   */
  readData(offset: number, length: number, into: Uint8Array | null): Promise<Uint8Array>;
  /** Releases the file (the source is not read again). */
  close(): void;
}

/** A payload decoded into memory, as a source. */
export function memoryPayload(payload: DeltaPartPayload): PartPayloadSource {
  const { data } = payload;
  return {
    modes: payload.modes,
    xattrs: payload.xattrs,
    ops: payload.ops,
    dataLength: data.length,
    inFile: false,
    readData: async (offset, length) => data.subarray(offset, offset + length),
    close: () => undefined,
  };
}

/**
 * The payload of `size` bytes in the open file `fd`, which the source owns from now on (closed
 * by `close()`, or here when the payload is malformed). Its tables are read and checked here:
 * a payload that is not a `(a(uuu)aa(ayay)ayay)` of `size` bytes is ERR_GVARIANT_* / ERR_FORMAT.
 */
export async function filePayload(fd: number, size: number, what: string): Promise<PartPayloadSource> {
  let open = true;
  const close = () => {
    if (!open) return;
    open = false;
    closeSync(fd);
  };
  try {
    const w = offsetWidth(size);
    const table = size - 3 * w;
    if (w === 0 || table < 0) throw formatError(what, `payload of ${size} bytes is too short for its framing offsets`);
    const tail = new Uint8Array(3 * w);
    await readAt(fd, tail, table);
    const offset = (j: number) => {
      let v = 0;
      for (let b = w - 1; b >= 0; b--) v = v * 256 + (tail[tail.length - (j + 1) * w + b] as number);
      return v;
    };
    const modesEnd = offset(0);
    const xattrsEnd = offset(1);
    const dataEnd = offset(2);
    // Normal form, as the in-memory decoder requires: offsets in order, within the body, and of
    // the smallest width (the tables' own checks are their decoders').
    if (!(modesEnd <= xattrsEnd && xattrsEnd <= dataEnd && dataEnd <= table) || containerSize(table, 3) !== size) {
      throw formatError(what, `malformed payload framing (${modesEnd}, ${xattrsEnd}, ${dataEnd} of ${table} bytes)`);
    }
    const head = new Uint8Array(xattrsEnd);
    await readAt(fd, head, 0);
    const ops = new Uint8Array(table - dataEnd);
    await readAt(fd, ops, dataEnd);
    const { modes, xattrs } = withContext(what, () => ({
      modes: modesSchema
        .decode(head.subarray(0, modesEnd))
        .map(([uid, gid, mode]) => ({ uid: bswap32(uid), gid: bswap32(gid), mode: bswap32(mode) })),
      xattrs: xattrsSchema.decode(head.subarray(modesEnd, xattrsEnd)),
    }));
    const dataStart = xattrsEnd;
    return {
      modes,
      xattrs,
      ops,
      dataLength: dataEnd - dataStart,
      inFile: true,
      async readData(offset, length, into) {
        if (into === null || into.length < length) {
          throw new FlathubFetchError(ErrorCodes.INVALID_ARGUMENT, `${what}: readData() needs a buffer of ${length} bytes to read into`, {
            argument: 'into',
            reason: `a buffer of at least ${length} bytes`,
          });
        }
        const out = into.subarray(0, length);
        await readAt(fd, out, dataStart + offset);
        return out;
      },
      close,
    };
  } catch (err) {
    close();
    throw err;
  }
}
