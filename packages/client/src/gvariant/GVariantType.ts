/**
 * Parsed GVariant type strings, with each type's alignment and fixed size (GVariant spec
 * §2.3, "Serialisation Format"). Only definite types are accepted (no `*`, `?`, `r`).
 */
import { FlathubFetchError } from '../errors/FlathubFetchError.js';
import { ErrorCodes } from '../errors/codes.js';

export type BasicTypeChar = 'b' | 'y' | 'n' | 'q' | 'i' | 'u' | 'x' | 't' | 'h' | 'd' | 's' | 'o' | 'g';

export type GVariantType =
  | {
      readonly kind: 'basic';
      readonly char: BasicTypeChar;
      readonly text: string;
      readonly alignment: number;
      readonly fixedSize: number | null;
    }
  | { readonly kind: 'variant'; readonly text: 'v'; readonly alignment: 8; readonly fixedSize: null }
  | { readonly kind: 'array'; readonly element: GVariantType; readonly text: string; readonly alignment: number; readonly fixedSize: null }
  | { readonly kind: 'maybe'; readonly element: GVariantType; readonly text: string; readonly alignment: number; readonly fixedSize: null }
  | {
      readonly kind: 'tuple';
      readonly members: readonly GVariantType[];
      readonly text: string;
      readonly alignment: number;
      readonly fixedSize: number | null;
    }
  | {
      readonly kind: 'dict-entry';
      readonly members: readonly [GVariantType, GVariantType];
      readonly text: string;
      readonly alignment: number;
      readonly fixedSize: number | null;
    };

/** GLib's limit on container nesting (G_VARIANT_MAX_RECURSION_DEPTH). */
export const MAX_DEPTH = 128;

const BASIC: Record<BasicTypeChar, [alignment: number, fixedSize: number | null]> = {
  b: [1, 1],
  y: [1, 1],
  n: [2, 2],
  q: [2, 2],
  i: [4, 4],
  u: [4, 4],
  h: [4, 4],
  x: [8, 8],
  t: [8, 8],
  d: [8, 8],
  s: [1, null],
  o: [1, null],
  g: [1, null],
};

const cache = new Map<string, GVariantType>();

/** Parses one complete type string (cached). Throws ERR_GVARIANT_BAD_TYPE. */
export function parseType(text: string): GVariantType {
  let t = cache.get(text);
  if (t === undefined) {
    const [type, end] = parseAt(text, 0, 0);
    if (end !== text.length) badType(text, end, 'trailing characters after a complete type');
    t = type;
    if (cache.size < 4096) cache.set(text, t);
  }
  return t;
}

/**
 * Parses the first complete type at `pos`; returns the type and the position after it.
 * Used for variant payload types and for signatures (`g`).
 */
export function parseTypeAt(text: string, pos: number): [GVariantType, number] {
  return parseAt(text, pos, 0);
}

/** True when `text` is one complete, definite type string. */
export function isValidType(text: string): boolean {
  try {
    parseType(text);
    return true;
  } catch {
    return false;
  }
}

function badType(text: string, offset: number, reason: string): never {
  throw new FlathubFetchError(ErrorCodes.GVARIANT_BAD_TYPE, `invalid GVariant type string "${text}" at character ${offset}: ${reason}`, {
    type: text,
    offset,
    reason,
  });
}

function alignUp(n: number, a: number): number {
  return (n + a - 1) & ~(a - 1);
}

function parseAt(text: string, pos: number, depth: number): [GVariantType, number] {
  if (depth > MAX_DEPTH) badType(text, pos, `nesting deeper than ${MAX_DEPTH}`);
  const c = text[pos];
  if (c === undefined) badType(text, pos, 'unexpected end');
  if (c in BASIC) {
    const [alignment, fixedSize] = BASIC[c as BasicTypeChar];
    return [{ kind: 'basic', char: c as BasicTypeChar, text: c, alignment, fixedSize }, pos + 1];
  }
  switch (c) {
    case 'v':
      return [{ kind: 'variant', text: 'v', alignment: 8, fixedSize: null }, pos + 1];
    case 'a': {
      const [element, end] = parseAt(text, pos + 1, depth + 1);
      return [{ kind: 'array', element, text: text.slice(pos, end), alignment: element.alignment, fixedSize: null }, end];
    }
    case 'm': {
      const [element, end] = parseAt(text, pos + 1, depth + 1);
      return [{ kind: 'maybe', element, text: text.slice(pos, end), alignment: element.alignment, fixedSize: null }, end];
    }
    case '(': {
      const members: GVariantType[] = [];
      let p = pos + 1;
      while (text[p] !== ')') {
        if (p >= text.length) badType(text, p, 'unterminated tuple');
        const [m, end] = parseAt(text, p, depth + 1);
        members.push(m);
        p = end;
      }
      const [alignment, fixedSize] = layoutFixed(members);
      return [{ kind: 'tuple', members, text: text.slice(pos, p + 1), alignment, fixedSize }, p + 1];
    }
    case '{': {
      const [key, kEnd] = parseAt(text, pos + 1, depth + 1);
      if (key.kind !== 'basic') badType(text, pos + 1, 'dictionary key must be a basic type');
      const [value, vEnd] = parseAt(text, kEnd, depth + 1);
      if (text[vEnd] !== '}') badType(text, vEnd, 'dictionary entry must have exactly two members');
      const members = [key, value] as const;
      const [alignment, fixedSize] = layoutFixed(members);
      return [{ kind: 'dict-entry', members, text: text.slice(pos, vEnd + 1), alignment, fixedSize }, vEnd + 1];
    }
    default:
      return badType(text, pos, `unknown type character "${c}"`);
  }
}

/** Alignment and fixed size of a tuple/dict entry (spec: fixed iff all members fixed; `()` is 1 byte). */
function layoutFixed(members: readonly GVariantType[]): [number, number | null] {
  let alignment = 1;
  let size = 0;
  let fixed = true;
  for (const m of members) {
    alignment = Math.max(alignment, m.alignment);
    if (m.fixedSize === null) fixed = false;
    else size = alignUp(size, m.alignment) + m.fixedSize;
  }
  if (!fixed) return [alignment, null];
  if (members.length === 0) return [1, 1];
  return [alignment, alignUp(size, alignment)];
}
