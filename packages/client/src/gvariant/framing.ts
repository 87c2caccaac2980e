/** Framing-offset arithmetic shared by the decoder and the encoder (GVariant spec §2.3.6). */

/** Width in bytes of the framing offsets of a container of `size` bytes. */
export function offsetWidth(size: number): 0 | 1 | 2 | 4 | 8 {
  if (size === 0) return 0;
  if (size <= 0xff) return 1;
  if (size <= 0xffff) return 2;
  if (size <= 0xffffffff) return 4;
  return 8;
}

/** Total size of a container whose body is `body` bytes followed by `n` framing offsets (smallest width that fits). */
export function containerSize(body: number, n: number): number {
  if (n === 0) return body;
  if (body + n <= 0xff) return body + n;
  if (body + 2 * n <= 0xffff) return body + 2 * n;
  if (body + 4 * n <= 0xffffffff) return body + 4 * n;
  return body + 8 * n;
}

export function alignUp(n: number, alignment: number): number {
  const m = alignment - 1;
  return (n + m) & ~m;
}
