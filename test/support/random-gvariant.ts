/**
 * Random GVariant types and values for property tests, from a seeded PRNG.
 *
 * Reproducing a failure: every case is generated from (seed, case index) alone, so
 * `GVARIANT_SEED=<seed> GVARIANT_CASE=<index>` regenerates exactly that case (failure messages
 * print this). `GVARIANT_SEED` fixes the run's seed (default: 20261127 under CI=true, else a fresh random seed per run, shown
 * in the test name); `GVARIANT_CASES` scales the number of cases.
 *
 * Coverage: every basic type (valid `o` paths and `g` signatures, including signatures longer
 * than D-Bus's 255), arrays of fixed- and variable-size elements, dictionaries with every basic
 * key type, tuples including `()`, maybes including nested `mm`, and variants nested a few deep.
 * Values are sized by a per-case byte budget so that containers regularly cross the 1/2/4-byte
 * framing-offset boundaries (255 and 65535 bytes). 8-byte offsets need more than 4 GiB and are
 * not generated.
 */
import { randomInt } from 'node:crypto';
import { type GVariantType, parseType } from '../../packages/client/src/gvariant/GVariantType.js';
import { Variant } from '../../packages/client/src/gvariant/Variant.js';

// -- PRNG ---------------------------------------------------------------------------------

/** sfc32, seeded through splitmix32: fast, 32-bit, and identical on every platform. */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number, stream = 0) {
    let s = (seed ^ Math.imul(stream + 1, 0x9e3779b9)) >>> 0;
    const split = (): number => {
      s = (s + 0x9e3779b9) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = split();
    this.b = split();
    this.c = split();
    this.d = split();
    for (let i = 0; i < 12; i++) this.u32();
  }

  u32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1). */
  float(): number {
    return this.u32() / 0x100000000;
  }

  /** Uniform integer in [lo, hi] (inclusive; hi - lo < 2^32). */
  int(lo: number, hi: number): number {
    if (hi <= lo) return lo;
    return lo + Math.floor(this.float() * (hi - lo + 1));
  }

  chance(p: number): boolean {
    return this.float() < p;
  }

  pick<T>(xs: readonly T[]): T {
    return xs[this.int(0, xs.length - 1)] as T;
  }

  /** Picks by weight: `weighted([['a', 3], ['b', 1]])`. */
  weighted<T>(choices: ReadonlyArray<readonly [T, number]>): T {
    let total = 0;
    for (const [, w] of choices) total += w;
    let r = this.float() * total;
    for (const [x, w] of choices) {
      r -= w;
      if (r < 0) return x;
    }
    return (choices[choices.length - 1] as readonly [T, number])[0];
  }

  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i += 4) {
      const v = this.u32();
      out[i] = v;
      if (i + 1 < n) out[i + 1] = v >>> 8;
      if (i + 2 < n) out[i + 2] = v >>> 16;
      if (i + 3 < n) out[i + 3] = v >>> 24;
    }
    return out;
  }

  bigU64(): bigint {
    return (BigInt(this.u32()) << 32n) | BigInt(this.u32());
  }
}

// -- run configuration --------------------------------------------------------------------

export interface PropertyConfig {
  /** The run's seed (GVARIANT_SEED, else random). */
  readonly seed: number;
  /** True when the seed came from GVARIANT_SEED. */
  readonly seedFromEnv: boolean;
  /** Number of cases (GVARIANT_CASES, else the default). */
  readonly cases: number;
  /** GVARIANT_CASE: run only this case index. */
  readonly onlyCase: number | undefined;
}

function envInt(name: string): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return undefined;
  const n = Number(raw.trim());
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`${name}=${raw} is not a non-negative integer`);
  return n;
}

/** Seed and case count for a property test, honouring GVARIANT_SEED / GVARIANT_CASES / GVARIANT_CASE. */
export function propertyConfig(defaultCases: number): PropertyConfig {
  const envSeed = envInt('GVARIANT_SEED');
  const cases = envInt('GVARIANT_CASES') ?? defaultCases;
  return {
    // CI runs a fixed seed (reproducible, never red by chance); local runs explore a fresh one.
    seed: envSeed !== undefined ? envSeed >>> 0 : process.env.CI === 'true' ? 20261127 : randomInt(0, 0x7fffffff),
    seedFromEnv: envSeed !== undefined,
    cases,
    onlyCase: envInt('GVARIANT_CASE'),
  };
}

/** The indices a config runs. */
export function caseIndices(config: PropertyConfig): number[] {
  if (config.onlyCase !== undefined) return [config.onlyCase];
  return Array.from({ length: config.cases }, (_, i) => i);
}

/** The environment that reproduces one case. */
export function reproduce(seed: number, index: number): string {
  return `GVARIANT_SEED=${seed} GVARIANT_CASE=${index}`;
}

// -- types --------------------------------------------------------------------------------

export const BASIC_CHARS = ['b', 'y', 'n', 'q', 'i', 'u', 'x', 't', 'h', 'd', 's', 'o', 'g'] as const;

export interface TypeOptions {
  /** Maximum container nesting below this type. @default 4 */
  maxDepth?: number;
  /** Allow `v`. @default true */
  variants?: boolean;
  /** Allow `m` (signatures must not contain it). @default true */
  maybes?: boolean;
}

/** A random definite type string. */
export function randomType(rng: Rng, options: TypeOptions = {}): string {
  return typeAt(rng, options.maxDepth ?? 4, options.variants ?? true, options.maybes ?? true);
}

function typeAt(rng: Rng, depth: number, variants: boolean, maybes: boolean): string {
  const kind =
    depth <= 0
      ? rng.weighted<string>([
          ['basic', 10],
          ['v', variants ? 1 : 0],
          ['unit', 0.3],
        ])
      : rng.weighted<string>([
          ['basic', 30],
          ['v', variants ? 7 : 0],
          ['array', 20],
          ['dict', 10],
          ['maybe', maybes ? 10 : 0],
          ['mm', maybes ? 2 : 0],
          ['tuple', 16],
          ['unit', 2],
          ['entry', 2],
        ]);
  const sub = (): string => typeAt(rng, depth - 1, variants, maybes);
  switch (kind) {
    case 'basic':
      return rng.pick(BASIC_CHARS);
    case 'v':
      return 'v';
    case 'unit':
      return '()';
    case 'array':
      return `a${sub()}`;
    case 'dict':
      return `a{${rng.pick(BASIC_CHARS)}${sub()}}`;
    case 'entry':
      return `{${rng.pick(BASIC_CHARS)}${sub()}}`;
    case 'maybe':
      return `m${sub()}`;
    case 'mm':
      return `mm${typeAt(rng, depth - 2, variants, maybes)}`;
    default: {
      const n = rng.weighted([
        [1, 4],
        [2, 4],
        [3, 3],
        [4, 2],
        [6, 1],
      ]);
      let s = '(';
      for (let i = 0; i < n; i++) s += sub();
      return `${s})`;
    }
  }
}

// -- values -------------------------------------------------------------------------------

/** A per-case byte budget: mostly small, regularly around 255, sometimes past 65535. */
export function randomBudget(rng: Rng): number {
  return rng.weighted<() => number>([
    [() => rng.int(0, 24), 46],
    [() => rng.int(24, 200), 25],
    [() => rng.int(200, 400), 16],
    [() => rng.int(400, 5000), 10],
    [() => rng.int(66000, 100000), 3],
  ])();
}

const INT_RANGE: Record<string, [number, number]> = {
  y: [0, 0xff],
  n: [-0x8000, 0x7fff],
  q: [0, 0xffff],
  i: [-0x80000000, 0x7fffffff],
  h: [-0x80000000, 0x7fffffff],
  u: [0, 0xffffffff],
};

const PATH_CHARS = [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_'];

/** Code-point pools for strings: ASCII, controls, 2-, 3- and 4-byte UTF-8, noncharacters. Never NUL or lone surrogates. */
const CODE_POINTS: ReadonlyArray<readonly [readonly [number, number], number]> = [
  [[0x20, 0x7e], 60],
  [[0x01, 0x1f], 4],
  [[0x7f, 0x7ff], 10],
  [[0x800, 0xd7ff], 8],
  [[0xe000, 0xfffd], 4],
  [[0xfdd0, 0xfdef], 1],
  [[0xfffe, 0xffff], 1],
  [[0xfeff, 0xfeff], 1], // a BOM, which TextDecoder drops by default
  [[0x10000, 0x10ffff], 8],
];

function randomString(rng: Rng, maxBytes: number): string {
  const target = rng.int(0, Math.max(0, maxBytes));
  let s = '';
  let bytes = 0;
  // Large strings: repeat a random chunk (keeps generation cheap) with random edits.
  if (target > 4096) {
    const chunk = randomString(rng, 512);
    const unit = Math.max(1, Buffer.byteLength(chunk));
    s = chunk.repeat(Math.max(1, Math.floor(target / unit)));
    return s;
  }
  while (bytes < target) {
    const [lo, hi] = rng.weighted(CODE_POINTS);
    const cp = rng.int(lo, hi);
    s += String.fromCodePoint(cp);
    bytes += cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
  }
  return s;
}

function randomObjectPath(rng: Rng, maxBytes: number): string {
  if (maxBytes < 3 || rng.chance(0.15)) return '/';
  let s = '';
  const target = rng.int(2, maxBytes);
  while (s.length + 2 <= target) {
    s += '/';
    const len = rng.int(1, Math.min(12, target - s.length));
    for (let i = 0; i < len; i++) s += rng.pick(PATH_CHARS);
  }
  return s === '' ? '/' : s;
}

function randomSignature(rng: Rng, maxBytes: number): string {
  // Sometimes longer than D-Bus's 255-byte limit, which GLib does not impose.
  const target = maxBytes > 300 && rng.chance(0.3) ? rng.int(256, Math.min(maxBytes, 600)) : rng.int(0, Math.min(maxBytes, 40));
  let s = '';
  while (s.length < target) s += randomType(rng, { maxDepth: 3, maybes: false });
  return s;
}

function randomDouble(rng: Rng): number {
  const kind = rng.int(0, 9);
  switch (kind) {
    case 0:
      return rng.pick([0, -0, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.NaN, Number.MIN_VALUE, -Number.MAX_VALUE, 1, -1]);
    case 1:
      return rng.int(-1000, 1000);
    case 2:
      return (rng.float() - 0.5) * 1e6;
    default: {
      // Arbitrary bit patterns (NaNs among them: JS canonicalises those, as both sides do).
      const dv = new DataView(new ArrayBuffer(8));
      dv.setUint32(0, rng.u32());
      dv.setUint32(4, rng.u32());
      return dv.getFloat64(0);
    }
  }
}

function randomInt32ish(rng: Rng, lo: number, hi: number): number {
  return rng.chance(0.2) ? rng.pick([lo, hi, 0, lo === 0 ? 1 : -1, hi - 1]) : rng.int(lo, hi);
}

export interface ValueOptions {
  /** How many more variants may nest inside this value. @default 3 */
  variantDepth?: number;
}

/** A random value of `type` (the codec's JS mapping), roughly `budget` bytes when serialised. */
export function randomValue(rng: Rng, type: string | GVariantType, budget: number, options: ValueOptions = {}): unknown {
  return genValue(rng, typeof type === 'string' ? parseType(type) : type, Math.max(0, budget), options.variantDepth ?? 3);
}

function genValue(rng: Rng, t: GVariantType, budget: number, vdepth: number): unknown {
  switch (t.kind) {
    case 'basic': {
      const range = INT_RANGE[t.char];
      if (range !== undefined) return randomInt32ish(rng, range[0], range[1]);
      switch (t.char) {
        case 'b':
          return rng.chance(0.5);
        case 'x': {
          if (rng.chance(0.2)) return rng.pick([-(2n ** 63n), 2n ** 63n - 1n, 0n, -1n]);
          return BigInt.asIntN(64, rng.bigU64());
        }
        case 't':
          if (rng.chance(0.2)) return rng.pick([0n, 2n ** 64n - 1n, 2n ** 63n]);
          return rng.bigU64();
        case 'd':
          return randomDouble(rng);
        case 's':
          return randomString(rng, budget);
        case 'o':
          return randomObjectPath(rng, budget);
        default:
          return randomSignature(rng, budget);
      }
    }
    case 'variant': {
      const ct = randomType(rng, { maxDepth: vdepth > 0 ? 3 : 0, variants: vdepth > 0 });
      return new Variant(ct, genValue(rng, parseType(ct), Math.max(0, budget - ct.length - 1), vdepth - 1));
    }
    case 'array': {
      const el = t.element;
      if (el.kind === 'basic' && el.char === 'y') return rng.bytes(rng.int(0, budget));
      const minSize = Math.max(1, minEncodedSize(el) + (el.fixedSize === null ? 1 : 0));
      const maxN = Math.min(Math.floor(budget / minSize), 3000);
      const n = maxN <= 4 || rng.chance(0.4) ? rng.int(0, Math.min(4, Math.max(maxN, 1))) : rng.int(1, maxN);
      const each = Math.floor(budget / Math.max(n, 1));
      const out = new Array<unknown>(n);
      for (let i = 0; i < n; i++) out[i] = genValue(rng, el, each, vdepth);
      return out;
    }
    case 'maybe': {
      if (rng.chance(0.25)) return null;
      const inner = genValue(rng, t.element, budget, vdepth);
      return t.element.kind === 'maybe' ? [inner] : inner;
    }
    case 'tuple':
    case 'dict-entry': {
      const weights = t.members.map(() => rng.float() + 0.05);
      const total = weights.reduce((a, b) => a + b, 0);
      return t.members.map((m, i) => genValue(rng, m, Math.floor((budget * (weights[i] as number)) / total), vdepth));
    }
  }
}

/** A lower bound (roughly) on the encoded size of a value of `t`, to keep arrays near their budget. */
function minEncodedSize(t: GVariantType): number {
  if (t.fixedSize !== null) return t.fixedSize;
  switch (t.kind) {
    case 'basic':
      return t.char === 'o' ? 2 : 1;
    case 'variant':
      return 6; // NUL, a type string, a small value
    case 'array':
    case 'maybe':
      return 0;
    default: {
      let sum = 0;
      t.members.forEach((m, i) => {
        sum += minEncodedSize(m) + (m.fixedSize === null && i < t.members.length - 1 ? 1 : 0);
      });
      return sum;
    }
  }
}

// -- whole cases --------------------------------------------------------------------------

export interface RandomCase {
  readonly seed: number;
  readonly index: number;
  readonly type: string;
  readonly value: unknown;
  readonly budget: number;
}

/** Case `index` of the run with `seed`: a function of (seed, index) only. */
export function randomCase(seed: number, index: number): RandomCase {
  const rng = new Rng(seed, index);
  const type = randomType(rng, { maxDepth: rng.int(0, 4) });
  const budget = randomBudget(rng);
  return { seed, index, type, value: randomValue(rng, type, budget), budget };
}

/** A PRNG for work derived from a case (e.g. mutations), independent of the value stream. */
export function caseRng(seed: number, index: number, purpose: number): Rng {
  return new Rng(seed ^ Math.imul(purpose + 1, 0x27d4eb2f), index);
}

// -- mutations ----------------------------------------------------------------------------

export interface Mutant {
  readonly bytes: Uint8Array;
  /** What was done, e.g. "set byte 12 to 0x7f; truncate to 30". */
  readonly how: string;
}

/**
 * One to three random edits of a valid encoding: byte overwrites and bit flips (biased toward
 * the end, where framing offsets live), ±1 nudges of the last bytes, truncations, extensions,
 * insertions and deletions.
 */
export function mutate(rng: Rng, input: Uint8Array): Mutant {
  let b = input.slice();
  const how: string[] = [];
  const edits = rng.weighted([
    [1, 6],
    [2, 3],
    [3, 1],
  ]);
  for (let e = 0; e < edits; e++) {
    const n = b.length;
    const pos = (): number => (n === 0 ? 0 : rng.chance(0.5) ? rng.int(Math.max(0, n - 8), n - 1) : rng.int(0, n - 1));
    const op =
      n === 0
        ? 'extend'
        : rng.weighted([
            ['set', 24],
            ['bit', 14],
            ['nudge', 14],
            ['truncate', 16],
            ['extend', 12],
            ['insert', 10],
            ['delete', 10],
          ]);
    switch (op) {
      case 'set': {
        const p = pos();
        const v = rng.chance(0.3) ? rng.pick([0, 1, 0xff, 0x80]) : rng.int(0, 255);
        b[p] = v;
        how.push(`set byte ${p} to 0x${v.toString(16)}`);
        break;
      }
      case 'bit': {
        const p = pos();
        const bit = rng.int(0, 7);
        b[p] = (b[p] as number) ^ (1 << bit);
        how.push(`flip bit ${bit} of byte ${p}`);
        break;
      }
      case 'nudge': {
        const p = rng.int(Math.max(0, n - 4), n - 1);
        const d = rng.chance(0.5) ? 1 : -1;
        b[p] = ((b[p] as number) + d) & 0xff;
        how.push(`add ${d} to byte ${p}`);
        break;
      }
      case 'truncate': {
        const len = rng.chance(0.5) ? n - 1 : rng.int(0, n - 1);
        b = b.slice(0, len);
        how.push(`truncate to ${len}`);
        break;
      }
      case 'extend': {
        const k = rng.int(1, 4);
        const extra = rng.chance(0.5) ? new Uint8Array(k) : rng.bytes(k);
        const next = new Uint8Array(n + k);
        next.set(b);
        next.set(extra, n);
        b = next;
        how.push(`append ${Buffer.from(extra).toString('hex')}`);
        break;
      }
      case 'insert': {
        const p = rng.int(0, n);
        const v = rng.chance(0.5) ? 0 : rng.int(0, 255);
        const next = new Uint8Array(n + 1);
        next.set(b.subarray(0, p));
        next[p] = v;
        next.set(b.subarray(p), p + 1);
        b = next;
        how.push(`insert 0x${v.toString(16)} at ${p}`);
        break;
      }
      default: {
        const p = pos();
        const next = new Uint8Array(n - 1);
        next.set(b.subarray(0, p));
        next.set(b.subarray(p + 1), p);
        b = next;
        how.push(`delete byte ${p}`);
      }
    }
  }
  return { bytes: b, how: how.join('; ') };
}
