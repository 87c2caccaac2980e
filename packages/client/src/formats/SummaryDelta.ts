/**
 * Flatpak summary deltas (`summaries/<old>-<new>.delta`, gunzipped): "xadf", u32le op count,
 * ops (u32le: kind in the top 4 bits, size in the low 28), then literal data. Kind 0 copies
 * `size` bytes of the old subsummary at the cursor and advances it, kind 1 skips `size` old
 * bytes, kind 2 copies the next `size` literal bytes. Output is bounded by `maxSize`.
 */
import { FlathubFetchError } from '../errors/FlathubFetchError.js';
import { ErrorCodes } from '../errors/codes.js';
import { formatError } from './formatError.js';

const MAGIC = [0x78, 0x61, 0x64, 0x66]; // "xadf"

export function applySummaryDelta(old: Uint8Array, delta: Uint8Array, maxSize = 64 * 1024 * 1024, what = 'summary delta'): Uint8Array {
  if (delta.length < 8 || MAGIC.some((b, i) => delta[i] !== b)) throw formatError(what, 'missing "xadf" magic');
  const view = new DataView(delta.buffer, delta.byteOffset, delta.byteLength);
  const nOps = view.getUint32(4, true);
  const opsEnd = 8 + nOps * 4;
  if (nOps > (delta.length - 8) / 4) throw formatError(what, `${nOps} ops do not fit in ${delta.length} bytes`);
  // First pass: validate and size the output, so nothing is allocated from unchecked numbers.
  let total = 0;
  let oldPos = 0;
  let dataPos = opsEnd;
  for (let i = 0; i < nOps; i++) {
    const op = view.getUint32(8 + i * 4, true);
    const kind = op >>> 28;
    const size = op & 0x0fffffff;
    if (kind === 0) {
      if (oldPos + size > old.length) throw formatError(what, `op ${i} copies past the end of the old summary`);
      oldPos += size;
      total += size;
    } else if (kind === 1) {
      if (oldPos + size > old.length) throw formatError(what, `op ${i} skips past the end of the old summary`);
      oldPos += size;
    } else if (kind === 2) {
      if (dataPos + size > delta.length) throw formatError(what, `op ${i} reads past the end of the delta data`);
      dataPos += size;
      total += size;
    } else {
      throw formatError(what, `op ${i} has unknown kind ${kind}`);
    }
    if (total > maxSize) {
      throw new FlathubFetchError(ErrorCodes.SIZE_LIMIT, `${what}: output exceeds ${maxSize} bytes`, { what, size: total, limit: maxSize });
    }
  }
  if (dataPos !== delta.length) throw formatError(what, `${delta.length - dataPos} unused bytes after the data`);
  const out = new Uint8Array(total);
  let o = 0;
  oldPos = 0;
  dataPos = opsEnd;
  for (let i = 0; i < nOps; i++) {
    const op = view.getUint32(8 + i * 4, true);
    const kind = op >>> 28;
    const size = op & 0x0fffffff;
    if (kind === 0) {
      out.set(old.subarray(oldPos, oldPos + size), o);
      o += size;
      oldPos += size;
    } else if (kind === 1) {
      oldPos += size;
    } else {
      out.set(delta.subarray(dataPos, dataPos + size), o);
      o += size;
      dataPos += size;
    }
  }
  return out;
}
