/**
 * OSTree stores several numbers big-endian inside otherwise host-order (little-endian)
 * GVariants: commit timestamps, dirmeta and file-header uid/gid/mode/rdev/size, per-ref
 * timestamps. These swap a value read little-endian into its big-endian meaning and back.
 */
export function bswap32(v: number): number {
  return (((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | ((v >>> 24) & 0xff)) >>> 0;
}

const scratch = new DataView(new ArrayBuffer(8));

export function bswap64(v: bigint): bigint {
  // A DataView round trip: one native swap instead of a bigint operation per byte.
  scratch.setBigUint64(0, BigInt.asUintN(64, v), true);
  return scratch.getBigUint64(0, false);
}

/** bigint → number, or a FORMAT-style RangeError when it is not a safe integer. */
export function toSafeNumber(v: bigint, what: string): number {
  if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < 0n) throw new RangeError(`${what} ${v} is out of range`);
  return Number(v);
}
