/**
 * GVariant decoder: compiles a type into a tree of closures once, then reads values in place
 * (`ay` values are zero-copy views into the input).
 *
 * Strict by default: any input that is not the normal form of a value of the type raises
 * ERR_GVARIANT_MALFORMED, and input that ends early raises ERR_GVARIANT_TRUNCATED; both name
 * the byte offset and the type being read. With `strict: false` the decoder tolerates what
 * GLib tolerates without changing meaning — non-zero padding, non-minimal framing-offset
 * width, booleans other than 0/1 — but still refuses anything out of bounds or of the wrong
 * size (where GLib would substitute default values, we raise: see README "Deviations from
 * GLib").
 *
 * Work and allocation are bounded by the input: every element consumes at least one byte or
 * one framing offset, and nesting is limited as GLib limits it: no value may sit 128 or more
 * containers deep, and a variant at depth d may not hold a type of depth 128 - d or more.
 */
import { FlathubFetchError } from '../errors/FlathubFetchError.js';
import { ErrorCodes } from '../errors/codes.js';
import type { Decoded } from './Decoded.js';
import { alignUp, containerSize, offsetWidth } from './framing.js';
import { MAX_DEPTH, parseType, type GVariantType } from './GVariantType.js';
import { isObjectPath, isSignature } from './validate.js';
import { Variant } from './Variant.js';

export interface DecodeOptions {
  /** Refuse non-normal input. @default true */
  strict?: boolean;
  /** Byte order of numeric values (framing offsets are always little-endian). @default true */
  littleEndian?: boolean;
}

interface Ctx {
  readonly bytes: Uint8Array;
  readonly view: DataView;
  readonly strict: boolean;
  readonly le: boolean;
}

type Reader = (ctx: Ctx, start: number, end: number, depth: number) => unknown;

// ignoreBOM: a string may start with U+FEFF, which is data (TextDecoder drops it by default).
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const readers = new Map<string, Reader>();

/** Decodes `bytes` as a value of GVariant type `type`. */
export function decode<const S extends string>(type: S, bytes: Uint8Array, options?: DecodeOptions): Decoded<S> {
  const reader = readerFor(parseType(type));
  const ctx: Ctx = {
    bytes,
    view: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength),
    strict: options?.strict ?? true,
    le: options?.littleEndian ?? true,
  };
  return reader(ctx, 0, bytes.length, 0) as Decoded<S>;
}

export function readerFor(t: GVariantType): Reader {
  let r = readers.get(t.text);
  if (r === undefined) {
    r = compile(t);
    if (readers.size < 4096) readers.set(t.text, r);
  }
  return r;
}

function truncated(t: GVariantType, offset: number, need: number, have: number): never {
  throw new FlathubFetchError(
    ErrorCodes.GVARIANT_TRUNCATED,
    `GVariant "${t.text}" truncated at byte ${offset}: needs ${need} bytes, has ${have}`,
    { type: t.text, offset, need, have },
  );
}

function malformed(t: GVariantType, offset: number, reason: string): never {
  throw new FlathubFetchError(ErrorCodes.GVARIANT_MALFORMED, `GVariant "${t.text}" malformed at byte ${offset}: ${reason}`, {
    type: t.text,
    offset,
    reason,
  });
}

function checkZero(ctx: Ctx, t: GVariantType, from: number, to: number, what: string): void {
  if (!ctx.strict) return;
  for (let i = from; i < to; i++) {
    if (ctx.bytes[i] !== 0) malformed(t, i, `non-zero ${what} byte`);
  }
}

function readOffset(ctx: Ctx, at: number, width: number): number {
  const v = ctx.view;
  switch (width) {
    case 1:
      return v.getUint8(at);
    case 2:
      return v.getUint16(at, true);
    case 4:
      return v.getUint32(at, true);
    default: {
      const hi = v.getUint32(at + 4, true);
      // Anything past 2^53 is beyond any input we can hold: report it as out of bounds.
      if (hi > 0x1fffff) return Number.MAX_SAFE_INTEGER;
      return hi * 0x100000000 + v.getUint32(at, true);
    }
  }
}

function compile(t: GVariantType): Reader {
  switch (t.kind) {
    case 'basic':
      return t.fixedSize === null ? compileString(t) : compileFixedBasic(t);
    case 'variant':
      return compileVariant(t);
    case 'array':
      return compileArray(t);
    case 'maybe':
      return compileMaybe(t);
    case 'tuple':
    case 'dict-entry':
      return compileTuple(t, t.members);
  }
}

function fixedSizeCheck(t: GVariantType, size: number, start: number, end: number): void {
  const have = end - start;
  if (have < size) truncated(t, start, size, have);
  // Not only in strict mode: GLib reads a wrongly sized fixed-size value as the default (0, or `()` in a variant).
  if (have > size) malformed(t, start, `fixed-size value of ${size} bytes given ${have} bytes`);
}

/** GLib's nesting limit: no value may sit MAX_DEPTH containers deep (the top-level value is at depth 0). */
function checkChildDepth(t: GVariantType, depth: number, offset: number): void {
  if (depth + 1 >= MAX_DEPTH) malformed(t, offset, `values nested ${MAX_DEPTH} or more containers deep`);
}

/**
 * Depth of a type as GLib counts it (g_variant_type_info_query_depth): basic types and `v` 1,
 * `()` 0, arrays and maybes 1 + element, tuples 1 + deepest member, dict entries 1 + value.
 */
function typeDepth(t: GVariantType): number {
  switch (t.kind) {
    case 'basic':
    case 'variant':
      return 1;
    case 'array':
    case 'maybe':
      return 1 + typeDepth(t.element);
    case 'dict-entry':
      return 1 + typeDepth(t.members[1]);
    case 'tuple': {
      if (t.members.length === 0) return 0;
      let d = 0;
      for (const m of t.members) d = Math.max(d, typeDepth(m));
      return 1 + d;
    }
  }
}

function compileFixedBasic(t: Extract<GVariantType, { kind: 'basic' }>): Reader {
  const size = t.fixedSize as number;
  switch (t.char) {
    case 'b':
      return (ctx, s, e) => {
        fixedSizeCheck(t, 1, s, e);
        const b = ctx.bytes[s] as number;
        if (b > 1 && ctx.strict) malformed(t, s, `boolean byte ${b} is not 0 or 1`);
        return b !== 0;
      };
    case 'y':
      return (ctx, s, e) => {
        fixedSizeCheck(t, 1, s, e);
        return ctx.bytes[s];
      };
    case 'n':
      return (ctx, s, e) => {
        fixedSizeCheck(t, size, s, e);
        return ctx.view.getInt16(s, ctx.le);
      };
    case 'q':
      return (ctx, s, e) => {
        fixedSizeCheck(t, size, s, e);
        return ctx.view.getUint16(s, ctx.le);
      };
    case 'i':
    case 'h':
      return (ctx, s, e) => {
        fixedSizeCheck(t, size, s, e);
        return ctx.view.getInt32(s, ctx.le);
      };
    case 'u':
      return (ctx, s, e) => {
        fixedSizeCheck(t, size, s, e);
        return ctx.view.getUint32(s, ctx.le);
      };
    case 'x':
      return (ctx, s, e) => {
        fixedSizeCheck(t, size, s, e);
        return ctx.view.getBigInt64(s, ctx.le);
      };
    case 't':
      return (ctx, s, e) => {
        fixedSizeCheck(t, size, s, e);
        return ctx.view.getBigUint64(s, ctx.le);
      };
    case 'd':
      return (ctx, s, e) => {
        fixedSizeCheck(t, size, s, e);
        return ctx.view.getFloat64(s, ctx.le);
      };
    default:
      throw new Error(`unreachable basic type ${t.char}`);
  }
}

function compileString(t: Extract<GVariantType, { kind: 'basic' }>): Reader {
  return (ctx, s, e) => {
    if (e <= s) truncated(t, s, 1, 0);
    if (ctx.bytes[e - 1] !== 0) malformed(t, e - 1, 'string is not NUL-terminated');
    const raw = ctx.bytes.subarray(s, e - 1);
    const nul = raw.indexOf(0);
    if (nul !== -1) malformed(t, s + nul, 'NUL byte inside string');
    let text: string;
    try {
      text = decodeUtf8(raw);
    } catch {
      return malformed(t, s, 'string is not valid UTF-8');
    }
    if (t.char === 'o' && !isObjectPath(text)) malformed(t, s, `"${text}" is not a valid object path`);
    if (t.char === 'g' && !isSignature(text)) malformed(t, s, `"${text}" is not a valid signature`);
    return text;
  };
}

/** UTF-8, validated by Node's TextDecoder (native; a JS ASCII fast path does not beat it, even for short strings). */
function decodeUtf8(raw: Uint8Array): string {
  return utf8.decode(raw);
}

function compileVariant(t: GVariantType): Reader {
  return (ctx, s, e, depth) => {
    if (e <= s) truncated(t, s, 1, 0);
    let z = e - 1;
    while (z >= s && ctx.bytes[z] !== 0) z--;
    if (z < s) malformed(t, s, 'variant has no NUL separator before its type string');
    let typeText = '';
    for (let i = z + 1; i < e; i++) typeText += String.fromCharCode(ctx.bytes[i] as number);
    let child: GVariantType;
    try {
      // One complete type (trailing characters throw); cached: summaries repeat a few variant types thousands of times.
      child = parseType(typeText);
    } catch {
      return malformed(t, z + 1, `variant type string "${typeText}" is not one complete type`);
    }
    // GLib: a variant at depth d may hold only types of depth < MAX_DEPTH - d (else it reads `()`).
    if (depth + 1 >= MAX_DEPTH || depth + typeDepth(child) >= MAX_DEPTH) {
      malformed(t, s, `variant holding "${child.text}" nests deeper than ${MAX_DEPTH} levels`);
    }
    // The child starts at the variant's start, which is 8-aligned, so absolute alignment holds.
    return new Variant(child.text, readerFor(child)(ctx, s, z, depth + 1));
  };
}

function compileArray(t: Extract<GVariantType, { kind: 'array' }>): Reader {
  const el = t.element;
  if (el.kind === 'basic' && el.char === 'y') {
    return (ctx, s, e, depth) => {
      if (e > s) checkChildDepth(t, depth, s);
      return ctx.bytes.subarray(s, e);
    };
  }
  const read = readerFor(el);
  if (el.fixedSize !== null) {
    const es = el.fixedSize;
    return (ctx, s, e, depth) => {
      const size = e - s;
      if (size % es !== 0) malformed(t, s, `array of ${size} bytes is not a multiple of element size ${es}`);
      const n = size / es;
      if (n > 0) checkChildDepth(t, depth, s);
      const out = new Array<unknown>(n);
      for (let i = 0; i < n; i++) out[i] = read(ctx, s + i * es, s + (i + 1) * es, depth + 1);
      return out;
    };
  }
  const align = el.alignment;
  return (ctx, s, e, depth) => {
    const size = e - s;
    if (size === 0) return [];
    const w = offsetWidth(size);
    if (size < w) truncated(t, s, w, size);
    const tableStart = readOffset(ctx, e - w, w);
    if (tableStart > size - w) truncated(t, e - w, tableStart + w, size);
    const tableBytes = size - tableStart;
    if (tableBytes % w !== 0) malformed(t, s + tableStart, `framing-offset table of ${tableBytes} bytes is not a multiple of ${w}`);
    const n = tableBytes / w;
    if (ctx.strict && containerSize(tableStart, n) !== size) malformed(t, s, 'framing offsets are wider than needed');
    checkChildDepth(t, depth, s);
    const out = new Array<unknown>(n);
    let pos = s;
    const table = s + tableStart;
    for (let i = 0; i < n; i++) {
      const start = alignUp(pos - s, align) + s;
      const end = s + readOffset(ctx, table + i * w, w);
      if (end > table) truncated(t, end, end - s, tableStart);
      if (end < start) malformed(t, table + i * w, `element ${i} ends (${end - s}) before it starts (${start - s})`);
      checkZero(ctx, t, pos, start, 'padding');
      out[i] = read(ctx, start, end, depth + 1);
      pos = end;
    }
    return out;
  };
}

function compileMaybe(t: Extract<GVariantType, { kind: 'maybe' }>): Reader {
  const el = t.element;
  const read = readerFor(el);
  const wrap = el.kind === 'maybe';
  if (el.fixedSize !== null) {
    const es = el.fixedSize;
    return (ctx, s, e, depth) => {
      if (e === s) return null;
      if (e - s !== es) malformed(t, s, `maybe of ${e - s} bytes: Nothing is 0 bytes, Just is ${es}`);
      checkChildDepth(t, depth, s);
      const v = read(ctx, s, e, depth + 1);
      return wrap ? [v] : v;
    };
  }
  return (ctx, s, e, depth) => {
    if (e === s) return null;
    if (ctx.bytes[e - 1] !== 0) malformed(t, e - 1, 'Just of a variable-size value lacks its trailing NUL byte');
    checkChildDepth(t, depth, s);
    const v = read(ctx, s, e - 1, depth + 1);
    return wrap ? [v] : v;
  };
}

function compileTuple(t: GVariantType, members: readonly GVariantType[]): Reader {
  const reads = members.map((m) => readerFor(m));
  const n = members.length;
  if (t.fixedSize !== null) {
    const size = t.fixedSize;
    if (n === 0) {
      return (ctx, s, e) => {
        fixedSizeCheck(t, 1, s, e);
        checkZero(ctx, t, s, s + 1, 'unit');
        return [];
      };
    }
    // Precompute member offsets: a fixed-size tuple has a fixed layout.
    const layout: number[] = [];
    let p = 0;
    for (const m of members) {
      p = alignUp(p, m.alignment);
      layout.push(p);
      p += m.fixedSize as number;
    }
    const bodyEnd = p;
    return (ctx, s, e, depth) => {
      fixedSizeCheck(t, size, s, e);
      checkChildDepth(t, depth, s);
      const out = new Array<unknown>(n);
      let pos = s;
      for (let i = 0; i < n; i++) {
        const ms = s + (layout[i] as number);
        checkZero(ctx, t, pos, ms, 'padding');
        pos = ms + ((members[i] as GVariantType).fixedSize as number);
        out[i] = (reads[i] as Reader)(ctx, ms, pos, depth + 1);
      }
      checkZero(ctx, t, s + bodyEnd, s + size, 'trailing padding');
      return out;
    };
  }
  // Variable-size tuple: one framing offset per variable-size member except the last member.
  let k = 0;
  const offsetIndex: number[] = members.map((m, i) => (m.fixedSize === null && i !== n - 1 ? k++ : -1));
  return (ctx, s, e, depth) => {
    const size = e - s;
    const w = size === 0 ? 1 : offsetWidth(size); // an empty container still needs its k offsets: truncated
    const table = e - k * w;
    if (table < s) truncated(t, s, k * w, size);
    checkChildDepth(t, depth, s);
    const out = new Array<unknown>(n);
    let pos = s;
    for (let i = 0; i < n; i++) {
      const m = members[i] as GVariantType;
      const ms = alignUp(pos - s, m.alignment) + s;
      let me: number;
      if (m.fixedSize !== null) {
        me = ms + m.fixedSize;
        if (me > table) truncated(m, ms, m.fixedSize, Math.max(0, table - ms));
      } else if (i === n - 1) {
        me = table;
        if (ms > me) truncated(m, ms, ms - me, 0);
      } else {
        const j = offsetIndex[i] as number;
        me = s + readOffset(ctx, e - (j + 1) * w, w);
        if (me > table) truncated(m, me, me - s, table - s);
        if (me < ms) malformed(t, e - (j + 1) * w, `member ${i} ends (${me - s}) before it starts (${ms - s})`);
      }
      checkZero(ctx, t, pos, ms, 'padding');
      out[i] = (reads[i] as Reader)(ctx, ms, me, depth + 1);
      pos = me;
    }
    if (ctx.strict) {
      if (pos !== table) malformed(t, pos, `${table - pos} unused bytes after the last member`);
      if (k > 0 && containerSize(table - s, k) !== size) malformed(t, s, 'framing offsets are wider than needed');
    }
    return out;
  };
}
