/**
 * bspatch for the patches inside OSTree static deltas (the format of Colin Percival's bsdiff
 * as implemented by mendsley/bsdiff, which libostree embeds): a sequence of control blocks of
 * three 8-byte sign-magnitude little-endian integers (diff length, extra length, old-position
 * seek), each followed by `diff` bytes added modulo 256 to the old data and `extra` literal
 * bytes. No header, no stored sizes, no compression: the new size comes from the delta op.
 *
 * Every length is checked against the output size and the patch length before it is used, so a
 * hostile patch yields ERR_BSPATCH, never an out-of-bounds access or a large allocation (the
 * output buffer is exactly `newSize`, which the caller bounds).
 */
import { FlathubFetchError } from '../errors/FlathubFetchError.js';
import { ErrorCodes } from '../errors/codes.js';

function fail(offset: number, reason: string): never {
  throw new FlathubFetchError(ErrorCodes.BSPATCH, `bsdiff patch invalid at byte ${offset}: ${reason}`, { offset, reason });
}

/** Reads bsdiff's sign-magnitude 64-bit integer; magnitudes beyond 2^53 are rejected. */
function offtin(p: Uint8Array, at: number): number {
  const hiByte = p[at + 7] as number;
  const hi = ((hiByte & 0x7f) << 24) | ((p[at + 6] as number) << 16) | ((p[at + 5] as number) << 8) | (p[at + 4] as number);
  const lo = ((p[at + 3] as number) << 24) | ((p[at + 2] as number) << 16) | ((p[at + 1] as number) << 8) | (p[at] as number);
  if (hi >>> 0 > 0x1fffff) fail(at, 'control value beyond 2^53');
  const mag = (hi >>> 0) * 0x100000000 + (lo >>> 0);
  return hiByte & 0x80 ? -mag : mag;
}

export function bspatch(old: Uint8Array, patch: Uint8Array, newSize: number): Uint8Array {
  if (!Number.isSafeInteger(newSize) || newSize < 0) fail(0, `new size ${newSize} is invalid`);
  const out = new Uint8Array(newSize);
  const oldSize = old.length;
  let newPos = 0;
  let oldPos = 0;
  let p = 0;
  while (newPos < newSize) {
    if (p + 24 > patch.length) fail(p, 'control block truncated');
    const diffLen = offtin(patch, p);
    const extraLen = offtin(patch, p + 8);
    const seek = offtin(patch, p + 16);
    const ctrlAt = p;
    p += 24;
    if (diffLen < 0 || diffLen > 0x7fffffff || extraLen < 0 || extraLen > 0x7fffffff) fail(ctrlAt, 'negative or oversized length');
    if (newPos + diffLen > newSize) fail(ctrlAt, 'diff runs past the new size');
    if (p + diffLen > patch.length) fail(p, 'diff data truncated');
    // Add old bytes where they exist; outside the old data the diff bytes are copied as they are.
    out.set(patch.subarray(p, p + diffLen), newPos);
    const from = Math.max(0, -oldPos);
    const to = Math.min(diffLen, oldSize - oldPos);
    for (let i = from; i < to; i++) out[newPos + i] = ((out[newPos + i] as number) + (old[oldPos + i] as number)) & 0xff;
    p += diffLen;
    newPos += diffLen;
    oldPos += diffLen;
    if (newPos + extraLen > newSize) fail(ctrlAt, 'extra runs past the new size');
    if (p + extraLen > patch.length) fail(p, 'extra data truncated');
    out.set(patch.subarray(p, p + extraLen), newPos);
    p += extraLen;
    newPos += extraLen;
    oldPos += seek;
    if (!Number.isSafeInteger(oldPos)) fail(ctrlAt, 'old position overflows');
  }
  return out;
}
