/**
 * GVariant encoder: writes the normal form of a value (the form GLib's serialiser produces),
 * so `encode(t, decode(t, bytes))` reproduces normal-form `bytes` exactly.
 */
import { FlathubFetchError } from '../errors/FlathubFetchError.js';
import { ErrorCodes } from '../errors/codes.js';
import type { Encodable } from './Decoded.js';
import { alignUp } from './framing.js';
import { parseType, type GVariantType } from './GVariantType.js';
import { isObjectPath, isSignature } from './validate.js';
import { Variant } from './Variant.js';

export interface EncodeOptions {
  /** Byte order of numeric values (framing offsets are always little-endian). @default true */
  littleEndian?: boolean;
}

type Writer = (w: ByteWriter, value: unknown, path: string) => void;

const writers = new Map<string, Writer>();
const utf8 = new TextEncoder();
/** In a `u` regex a surrogate pair is one code point, so this matches only unpaired surrogates. */
const LONE_SURROGATE = /\p{Cs}/u;

/** A growable output buffer. Positions are absolute; the start is taken as 8-aligned. */
export class ByteWriter {
  buf: Uint8Array;
  view: DataView;
  pos = 0;
  readonly le: boolean;

  constructor(capacity = 256, littleEndian = true) {
    this.buf = new Uint8Array(capacity);
    this.view = new DataView(this.buf.buffer);
    this.le = littleEndian;
  }

  reserve(n: number): void {
    const need = this.pos + n;
    if (need <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < need) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  align(a: number): void {
    const target = alignUp(this.pos, a);
    if (target !== this.pos) {
      this.reserve(target - this.pos);
      this.buf.fill(0, this.pos, target);
      this.pos = target;
    }
  }

  bytes(b: Uint8Array): void {
    this.reserve(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  byte(v: number): void {
    this.reserve(1);
    this.buf[this.pos++] = v;
  }

  offsets(list: readonly number[], body: number, reverse: boolean): void {
    const n = list.length;
    if (n === 0) return;
    const width = body + n <= 0xff ? 1 : body + 2 * n <= 0xffff ? 2 : body + 4 * n <= 0xffffffff ? 4 : 8;
    this.reserve(n * width);
    for (let i = 0; i < n; i++) {
      const v = list[reverse ? n - 1 - i : i] as number;
      const at = this.pos;
      switch (width) {
        case 1:
          this.buf[at] = v;
          break;
        case 2:
          this.view.setUint16(at, v, true);
          break;
        case 4:
          this.view.setUint32(at, v, true);
          break;
        default:
          this.view.setBigUint64(at, BigInt(v), true);
      }
      this.pos += width;
    }
  }

  result(): Uint8Array {
    return this.buf.subarray(0, this.pos);
  }
}

/** Encodes `value` as GVariant type `type` in normal form. Throws ERR_GVARIANT_BAD_VALUE when it does not fit. */
export function encode<const S extends string>(type: S, value: Encodable<S>, options?: EncodeOptions): Uint8Array {
  const w = new ByteWriter(256, options?.littleEndian ?? true);
  writerFor(parseType(type))(w, value, '$');
  return w.result();
}

/** Appends `value` to an existing writer, aligned for its type. */
export function encodeInto(w: ByteWriter, type: GVariantType, value: unknown, path = '$'): void {
  w.align(type.alignment);
  writerFor(type)(w, value, path);
}

function writerFor(t: GVariantType): Writer {
  let r = writers.get(t.text);
  if (r === undefined) {
    r = compile(t);
    if (writers.size < 4096) writers.set(t.text, r);
  }
  return r;
}

function bad(t: GVariantType, path: string, reason: string): never {
  throw new FlathubFetchError(ErrorCodes.GVARIANT_BAD_VALUE, `cannot encode ${path} as GVariant "${t.text}": ${reason}`, {
    type: t.text,
    path,
    reason,
  });
}

const INT_RANGES: Record<string, [number, number]> = {
  y: [0, 0xff],
  n: [-0x8000, 0x7fff],
  q: [0, 0xffff],
  i: [-0x80000000, 0x7fffffff],
  h: [-0x80000000, 0x7fffffff],
  u: [0, 0xffffffff],
};

function compile(t: GVariantType): Writer {
  switch (t.kind) {
    case 'basic':
      return compileBasic(t);
    case 'variant':
      return (w, v, path) => {
        if (!(v instanceof Variant)) bad(t, path, 'expected a Variant');
        let child: GVariantType;
        try {
          child = parseType(v.type);
        } catch {
          return bad(t, path, `variant type "${v.type}" is not a complete type`);
        }
        writerFor(child)(w, v.value, `${path}<${v.type}>`);
        w.byte(0);
        w.bytes(utf8.encode(child.text));
      };
    case 'array':
      return compileArray(t);
    case 'maybe': {
      const el = t.element;
      const write = writerFor(el);
      const wrapped = el.kind === 'maybe';
      return (w, v, path) => {
        if (v === null || v === undefined) return;
        let inner = v;
        if (wrapped) {
          if (!Array.isArray(v) || v.length !== 1) bad(t, path, 'Just of a maybe must be a one-element array');
          inner = v[0];
        }
        write(w, inner, `${path}!`);
        if (el.fixedSize === null) w.byte(0);
      };
    }
    case 'tuple':
    case 'dict-entry':
      return compileTuple(t, t.members);
  }
}

function compileBasic(t: Extract<GVariantType, { kind: 'basic' }>): Writer {
  const c = t.char;
  const range = INT_RANGES[c];
  if (range !== undefined) {
    const [lo, hi] = range;
    const size = t.fixedSize as number;
    return (w, v, path) => {
      if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi)
        bad(t, path, `expected an integer in [${lo}, ${hi}], got ${String(v)}`);
      w.reserve(size);
      const at = w.pos;
      if (c === 'y') w.buf[at] = v;
      else if (c === 'n') w.view.setInt16(at, v, w.le);
      else if (c === 'q') w.view.setUint16(at, v, w.le);
      else if (c === 'u') w.view.setUint32(at, v, w.le);
      else w.view.setInt32(at, v, w.le);
      w.pos += size;
    };
  }
  switch (c) {
    case 'b':
      return (w, v, path) => {
        if (typeof v !== 'boolean') bad(t, path, 'expected a boolean');
        w.byte(v ? 1 : 0);
      };
    case 'x':
    case 't':
      return (w, v, path) => {
        let b: bigint;
        if (typeof v === 'bigint') b = v;
        else if (typeof v === 'number' && Number.isSafeInteger(v)) b = BigInt(v);
        else return bad(t, path, 'expected a bigint or a safe integer');
        const ok = c === 't' ? b >= 0n && b <= 0xffffffffffffffffn : b >= -(2n ** 63n) && b < 2n ** 63n;
        if (!ok) bad(t, path, `${b} is out of range`);
        w.reserve(8);
        if (c === 't') w.view.setBigUint64(w.pos, b, w.le);
        else w.view.setBigInt64(w.pos, b, w.le);
        w.pos += 8;
      };
    case 'd':
      return (w, v, path) => {
        if (typeof v !== 'number') bad(t, path, 'expected a number');
        w.reserve(8);
        w.view.setFloat64(w.pos, v, w.le);
        w.pos += 8;
      };
    default:
      return (w, v, path) => {
        if (typeof v !== 'string') bad(t, path, 'expected a string');
        if (v.includes('\0')) bad(t, path, 'string contains a NUL character');
        // TextEncoder would silently turn a lone surrogate into U+FFFD: refuse instead.
        if (LONE_SURROGATE.test(v)) bad(t, path, 'string contains a lone UTF-16 surrogate (not valid Unicode)');
        if (c === 'o' && !isObjectPath(v)) bad(t, path, `"${v}" is not a valid object path`);
        if (c === 'g' && !isSignature(v)) bad(t, path, `"${v}" is not a valid signature`);
        w.reserve(v.length * 3 + 1);
        const { written } = utf8.encodeInto(v, w.buf.subarray(w.pos));
        w.pos += written;
        w.buf[w.pos++] = 0;
      };
  }
}

function compileArray(t: Extract<GVariantType, { kind: 'array' }>): Writer {
  const el = t.element;
  if (el.kind === 'basic' && el.char === 'y') {
    return (w, v, path) => {
      if (!(v instanceof Uint8Array)) bad(t, path, 'expected a Uint8Array');
      w.bytes(v);
    };
  }
  const write = writerFor(el);
  const fixed = el.fixedSize !== null;
  return (w, v, path) => {
    if (!Array.isArray(v)) bad(t, path, 'expected an array');
    const start = w.pos;
    const ends: number[] = fixed ? [] : new Array<number>(v.length);
    for (let i = 0; i < v.length; i++) {
      w.align(el.alignment);
      write(w, v[i], `${path}[${i}]`);
      if (!fixed) ends[i] = w.pos - start;
    }
    if (!fixed) w.offsets(ends, w.pos - start, false);
  };
}

function compileTuple(t: GVariantType, members: readonly GVariantType[]): Writer {
  const writes = members.map((m) => writerFor(m));
  const n = members.length;
  return (w, v, path) => {
    if (!Array.isArray(v) || v.length !== n) bad(t, path, `expected an array of ${n} members`);
    const start = w.pos;
    if (n === 0) {
      w.byte(0);
      return;
    }
    const ends: number[] = [];
    for (let i = 0; i < n; i++) {
      const m = members[i] as GVariantType;
      w.align(m.alignment);
      (writes[i] as Writer)(w, v[i], `${path}[${i}]`);
      if (m.fixedSize === null && i !== n - 1) ends.push(w.pos - start);
    }
    if (t.fixedSize !== null) w.align(t.alignment);
    else w.offsets(ends, w.pos - start, true);
  };
}
