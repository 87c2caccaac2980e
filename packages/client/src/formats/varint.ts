/** Unsigned LEB128 varints as used by static-delta op streams (at most 10 bytes). */
export interface VarintResult {
  value: number;
  next: number;
}

/**
 * Reads a varint at `pos`. Returns null when the input ends first or the varint is longer
 * than 10 bytes; values beyond 2^53 are returned as Infinity (always out of any bound).
 */
export function readVarint(bytes: Uint8Array, pos: number): VarintResult | null {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < 10; i++) {
    const b = bytes[pos + i];
    if (b === undefined) return null;
    value += (b & 0x7f) * scale;
    scale *= 128;
    if ((b & 0x80) === 0) return { value: value > Number.MAX_SAFE_INTEGER ? Number.POSITIVE_INFINITY : value, next: pos + i + 1 };
  }
  return null;
}

export function writeVarint(value: number): Uint8Array {
  const out: number[] = [];
  let v = value;
  do {
    let b = v % 128;
    v = Math.floor(v / 128);
    if (v > 0) b |= 0x80;
    out.push(b);
  } while (v > 0);
  return Uint8Array.from(out);
}
