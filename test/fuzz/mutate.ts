/** Seeded input mutation for parser fuzzing (bit flips, byte sets, truncation, insertion, splicing, length-field bumps). */
export { seededRandom as rng } from '../../packages/client/src/testing/Fault.js';

const INTERESTING = [0, 1, 0x7f, 0x80, 0xff, 0xfe, 0x20, 0x40];

export function mutate(input: Uint8Array, rand: () => number): Uint8Array {
  const pick = (n: number) => Math.floor(rand() * n);
  let out = new Uint8Array(input);
  const rounds = 1 + pick(4);
  for (let r = 0; r < rounds; r++) {
    if (out.length === 0) return new Uint8Array([pick(256)]);
    switch (pick(7)) {
      case 0: {
        const i = pick(out.length);
        out[i] = (out[i] as number) ^ (1 << pick(8));
        break;
      }
      case 1:
        out[pick(out.length)] = INTERESTING[pick(INTERESTING.length)] as number;
        break;
      case 2:
        out = out.slice(0, pick(out.length));
        break;
      case 3: {
        const i = pick(out.length + 1);
        const ins = new Uint8Array(1 + pick(16)).map(() => pick(256));
        const next = new Uint8Array(out.length + ins.length);
        next.set(out.subarray(0, i));
        next.set(ins, i);
        next.set(out.subarray(i), i + ins.length);
        out = next;
        break;
      }
      case 4: {
        // Framing offsets live at the end of GVariant containers: hit them harder.
        const i = out.length - 1 - pick(Math.min(out.length, 8));
        out[i] = pick(256);
        break;
      }
      case 5: {
        const a = pick(out.length);
        const len = pick(Math.min(64, out.length - a) + 1);
        const b = pick(out.length);
        out.copyWithin(b, a, a + len);
        break;
      }
      default: {
        // Big declared numbers: set 4 bytes to 0xff.
        const i = pick(Math.max(1, out.length - 4));
        out.fill(0xff, i, Math.min(out.length, i + 4));
      }
    }
  }
  return out;
}
