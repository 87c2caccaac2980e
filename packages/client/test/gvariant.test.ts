/**
 * Deterministic unit tests of the GVariant codec (no GLib needed). Every byte string here was
 * produced by GLib 2.74 (g_variant_get_data / g_variant_byteswap) and hard-coded; the examples
 * are those of the GVariant specification's "Examples" section plus a few of our own. The
 * property tests against GLib itself are in gvariant-glib.test.ts.
 */
import { describe, expect, expectTypeOf, test } from 'vitest';
import { ErrorCodes } from '../src/errors/codes.js';
import { FlathubFetchError } from '../src/errors/FlathubFetchError.js';
import { containerSize, offsetWidth } from '../src/gvariant/framing.js';
import { ByteWriter, decode, encode, gv, isValidType, parseType, Variant } from '../src/gvariant/index.js';

function h(hex: string): Uint8Array {
  return Uint8Array.from(Buffer.from(hex.replace(/\s+/g, ''), 'hex'));
}

function hexOf(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

/** The FlathubFetchError `fn` throws (fails the test if it throws anything else or nothing). */
function thrown(fn: () => unknown): FlathubFetchError {
  try {
    fn();
  } catch (e) {
    if (e instanceof FlathubFetchError) return e;
    throw new Error(`expected a FlathubFetchError, got ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
  }
  throw new Error('expected a FlathubFetchError, nothing was thrown');
}

/** Strings of `n` ASCII characters. */
const xs = (n: number): string => 'x'.repeat(n);

/** [type, value, little-endian bytes, big-endian bytes (when they differ)] */
const EXAMPLES: Array<[string, unknown, string, string?]> = [
  // The GVariant specification's worked examples.
  ['s', 'hello world', '68 65 6c 6c 6f 20 77 6f 72 6c 64 00'],
  ['ms', 'hello world', '68 65 6c 6c 6f 20 77 6f 72 6c 64 00 00'],
  ['ab', [true, false], '01 00'],
  ['as', ['hello', 'world'], '68 65 6c 6c 6f 00 77 6f 72 6c 64 00 06 0c'],
  ['as', ['i', 'can', 'has', 'strings?'], '69 00 63 61 6e 00 68 61 73 00 73 74 72 69 6e 67 73 3f 00 02 06 0a 13'],
  ['(si)', ['foo', -1], '66 6f 6f 00 ff ff ff ff 04'],
  [
    'a(si)',
    [
      ['hi', -2],
      ['bye', -1],
    ],
    '68 69 00 00 fe ff ff ff 03 00 00 00 62 79 65 00 ff ff ff ff 04 09 15',
    '68 69 00 00 ff ff ff fe 03 00 00 00 62 79 65 00 ff ff ff ff 04 09 15',
  ],
  ['{si}', ['a key', 514], '61 20 6b 65 79 00 00 00 02 02 00 00 06', '61 20 6b 65 79 00 00 00 00 00 02 02 06'],
  [
    '((ys)as)',
    [
      [0x69, 'can'],
      ['has', 'strings?'],
    ],
    '69 63 61 6e 00 68 61 73 00 73 74 72 69 6e 67 73 3f 00 04 0d 05',
  ],
  ['ay', h('0405'), '04 05'],
  ['ai', [4, 258], '04 00 00 00 02 01 00 00', '00 00 00 04 00 00 01 02'],
  // More shapes: maybes (nested too), variants, dictionaries, units, every fixed-size number.
  ['(sb)', ['x', true], '78 00 01 02'],
  ['mas', ['a', 'b'], '61 00 62 00 02 04 00'],
  ['mas', [], '00'],
  ['mas', null, ''],
  ['mi', 3, '03 00 00 00', '00 00 00 03'],
  ['mmb', null, ''],
  ['mmb', [null], '00'],
  ['mmb', [true], '01 00'],
  ['mms', [null], '00'],
  ['mms', ['a'], '61 00 00 00'],
  ['v', new Variant('s', 'hi'), '68 69 00 00 73'],
  [
    'a{sv}',
    [['k', new Variant('u', 7)]],
    '6b 00 00 00 00 00 00 00 07 00 00 00 00 75 02 0f',
    '6b 00 00 00 00 00 00 00 00 00 00 07 00 75 02 0f',
  ],
  ['aai', [[1], [2, 3]], '01 00 00 00 02 00 00 00 03 00 00 00 04 0c', '00 00 00 01 00 00 00 02 00 00 00 03 04 0c'],
  ['(yqut)', [1, 2, 3, 4n], '01 00 02 00 03 00 00 00 04 00 00 00 00 00 00 00', '01 00 00 02 00 00 00 03 00 00 00 00 00 00 00 04'],
  ['()', [], '00'],
  ['a()', [[], []], '00 00'],
  ['(ay)', [h('')], ''],
  [
    '(nqiuxtd)',
    [-2, 3, -4, 5, -6n, 7n, 1.5],
    'fe ff 03 00 fc ff ff ff 05 00 00 00 00 00 00 00 fa ff ff ff ff ff ff ff 07 00 00 00 00 00 00 00 00 00 00 00 00 00 f8 3f',
    'ff fe 00 03 ff ff ff fc 00 00 00 05 00 00 00 00 ff ff ff ff ff ff ff fa 00 00 00 00 00 00 00 07 3f f8 00 00 00 00 00 00',
  ],
  [
    // An OSTree commit: metadata, parent, related, subject, body, timestamp (big-endian in OSTree), root dirtree, root dirmeta.
    '(a{sv}aya(say)sstayay)',
    [[['k', new Variant('b', true)]], h('0102'), [['n', h('aa')]], 'subject', 'body', 1501517526n, h(''), h('03')],
    '6b 00 00 00 00 00 00 00 01 00 62 02 0c 01 02 6e 00 aa 02 04 73 75 62 6a 65 63 74 00 62 6f 64 79 00 00 00 00 00 00 00 00 d6 56 7f 59 00 00 00 00 03 30 21 1c 14 0f 0d',
    '6b 00 00 00 00 00 00 00 01 00 62 02 0c 01 02 6e 00 aa 02 04 73 75 62 6a 65 63 74 00 62 6f 64 79 00 00 00 00 00 00 00 00 00 00 00 00 59 7f 56 d6 03 30 21 1c 14 0f 0d',
  ],
];

describe('specification examples (bytes from GLib)', () => {
  test.each(EXAMPLES.map(([t, v, le, be]) => ({ t, v, le: le.replace(/\s+/g, ''), be: (be ?? le).replace(/\s+/g, '') })))(
    '$t',
    ({ t, v, le, be }) => {
      expect(hexOf(encode(t, v as never))).toBe(le);
      expect(hexOf(encode(t, v as never, { littleEndian: false }))).toBe(be);
      expect(decode(t, h(le))).toEqual(v);
      expect(decode(t, h(be), { littleEndian: false })).toEqual(v);
      expect(decode(t, h(le), { strict: false })).toEqual(v);
    },
  );

  test('ay decodes as a zero-copy view', () => {
    const buf = h('0003616263000506');
    const [, bytes] = decode('(yay)', buf) as [number, Uint8Array];
    expect(bytes.buffer).toBe(buf.buffer);
    expect(hexOf(bytes)).toBe('03616263000506');
  });

  test('gv() schemas carry the codec', () => {
    const commitish = gv('(sa{sv})');
    const bytes = commitish.encode(['s', [['a', new Variant('x', 5n)]]]);
    expect(commitish.decode(bytes)).toEqual(['s', [['a', new Variant('x', 5n)]]]);
    expect(commitish.info.kind).toBe('tuple');
  });
});

describe('framing offsets: width from the container size', () => {
  test.each([
    // the total size and the last bytes: the end of the last member, then the framing offsets
    { type: 'as', value: [xs(253)], size: 255, tail: '00fe' },
    { type: 'as', value: [xs(254)], size: 257, tail: '00ff00' },
    { type: 'as', value: [xs(65532)], size: 65535, tail: '00fdff' },
    { type: 'as', value: [xs(65533)], size: 65538, tail: '00feff0000' },
    { type: '(ss)', value: [xs(251), 'y'], size: 255, tail: '7900fc' },
    { type: '(ss)', value: [xs(252), 'y'], size: 257, tail: '7900fd00' },
    { type: '(ss)', value: [xs(65530), 'y'], size: 65535, tail: '7900fbff' },
    { type: '(ss)', value: [xs(65531), 'y'], size: 65538, tail: '7900fcff0000' },
    { type: 'a(sy)', value: [[xs(250), 1]], size: 254, tail: '0001fbfd' },
    { type: 'a(sy)', value: [[xs(251), 1]], size: 255, tail: '0001fcfe' },
  ])('$type: $size bytes', ({ type, value, size, tail }) => {
    const bytes = encode(type, value as never);
    expect(bytes.length).toBe(size);
    expect(hexOf(bytes.subarray(bytes.length - tail.length / 2))).toBe(tail);
    expect(decode(type, bytes)).toEqual(value);
  });

  test('wider offsets than needed are not normal form: strict refuses, non-strict reads them', () => {
    // ["xxx…" (253 chars)] needs 255 bytes with a 1-byte offset; with a 2-byte offset it is 256.
    const body = encode('as', [xs(253)]).subarray(0, 254);
    const wide = new Uint8Array(256);
    wide.set(body);
    wide.set([254, 0], 254);
    const e = thrown(() => decode('as', wide));
    expect(e.code).toBe(ErrorCodes.GVARIANT_MALFORMED);
    expect(decode('as', wide, { strict: false })).toEqual([xs(253)]);
  });

  test('offsetWidth and containerSize at every boundary, including 8-byte offsets (> 4 GiB)', () => {
    expect([0, 1, 255, 256, 65535, 65536, 2 ** 32 - 1, 2 ** 32].map(offsetWidth)).toEqual([0, 1, 1, 2, 2, 4, 4, 8]);
    expect(containerSize(0, 0)).toBe(0);
    expect(containerSize(254, 1)).toBe(255);
    expect(containerSize(255, 1)).toBe(257);
    expect(containerSize(65533, 1)).toBe(65535);
    expect(containerSize(65534, 1)).toBe(65538);
    expect(containerSize(2 ** 32 - 5, 1)).toBe(2 ** 32 - 1);
    expect(containerSize(2 ** 32 - 4, 1)).toBe(2 ** 32 + 4);
  });

  test('8-byte framing offsets are written little-endian (hand-made: a real one needs a > 4 GiB body)', () => {
    const w = new ByteWriter(16);
    w.offsets([5, 2 ** 32 + 7], 2 ** 32, false);
    expect(hexOf(w.result())).toBe('0500000000000000' + '0700000001000000');
  });
});

describe('byte order', () => {
  test('only numbers are swapped; framing offsets stay little-endian', () => {
    const v: [number, string, bigint] = [0x01020304, 'ab', 0x0102030405060708n];
    expect(hexOf(encode('(isx)', v))).toBe('04030201616200000807060504030201' + '07');
    expect(hexOf(encode('(isx)', v, { littleEndian: false }))).toBe('01020304616200000102030405060708' + '07');
    expect(decode('(isx)', h('01020304616200000102030405060708 07'), { littleEndian: false })).toEqual(v);
  });

  test('doubles keep -0, infinities and NaN', () => {
    for (const d of [-0, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.MIN_VALUE, Number.NaN]) {
      for (const littleEndian of [true, false]) {
        expect(Object.is(decode('d', encode('d', d, { littleEndian }), { littleEndian }), d)).toBe(true);
      }
    }
  });
});

describe('TypeScript types follow the type string', () => {
  test('decode', () => {
    // `.returns` checks the instantiated signature without calling it; `.branded` compares the
    // resolved types deeply (the plain identity check trips over the recursive conditional type).
    expectTypeOf(decode<'(a{sv}aya(say)sstayay)'>).returns.branded.toEqualTypeOf<
      [Array<[string, Variant]>, Uint8Array, Array<[string, Uint8Array]>, string, string, bigint, Uint8Array, Uint8Array]
    >();
    expectTypeOf(decode<'(a(say)a(sayay))'>).returns.branded.toEqualTypeOf<
      [Array<[string, Uint8Array]>, Array<[string, Uint8Array, Uint8Array]>]
    >();
    expectTypeOf(decode<'(uuua(ayay))'>).returns.branded.toEqualTypeOf<[number, number, number, Array<[Uint8Array, Uint8Array]>]>();
    expectTypeOf(decode<'mmb'>).returns.branded.toEqualTypeOf<[boolean | null] | null>();
    expectTypeOf(decode<'ms'>).returns.branded.toEqualTypeOf<string | null>();
    expectTypeOf(decode<'()'>).returns.branded.toEqualTypeOf<[]>();
    expectTypeOf(decode<'{yv}'>).returns.branded.toEqualTypeOf<[number, Variant]>();
    expectTypeOf(decode<'aat'>).returns.branded.toEqualTypeOf<bigint[][]>();
    expectTypeOf(decode<'(bynqiuxthdsog)'>).returns.branded.toEqualTypeOf<
      [boolean, number, number, number, number, number, bigint, bigint, number, number, string, string, string]
    >();
    expectTypeOf(decode<string>).returns.branded.toEqualTypeOf<unknown>();
    // A wrong expectation must be a type error (so the checks above are live under tsc).
    // @ts-expect-error "ms" decodes to string | null
    expectTypeOf(decode<'ms'>).returns.branded.toEqualTypeOf<string>();
  });

  test('encode accepts number for x/t, and rejects the wrong shape at compile time', () => {
    expect(() => encode('(xt)', [1, 2n])).not.toThrow();
    // @ts-expect-error a string is not a uint32
    expect(() => encode('u', 'no')).toThrow(FlathubFetchError);
    // @ts-expect-error a tuple needs all its members
    expect(() => encode('(si)', ['a'])).toThrow(FlathubFetchError);
  });
});

describe('invalid type strings: ERR_GVARIANT_BAD_TYPE', () => {
  test.each([
    ['', 0],
    ['a', 1],
    ['m', 1],
    ['(', 1],
    ['(i', 2],
    ['a(i))', 4],
    ['ii', 1],
    ['{}', 1],
    ['{s}', 2],
    ['{sii}', 3],
    ['{ai}', 1],
    ['{vs}', 1],
    ['z', 0],
    ['*', 0],
    ['?', 0],
    ['r', 0],
    ['ar', 1],
    [`${'a'.repeat(129)}y`, 129],
  ])('%j', (type, offset) => {
    const e = thrown(() => parseType(type));
    expect(e.code).toBe(ErrorCodes.GVARIANT_BAD_TYPE);
    expect(e.data).toMatchObject({ type, offset });
    expect(isValidType(type)).toBe(false);
    expect(thrown(() => decode(type, new Uint8Array(1))).code).toBe(ErrorCodes.GVARIANT_BAD_TYPE);
    expect(thrown(() => encode(type, null as never)).code).toBe(ErrorCodes.GVARIANT_BAD_TYPE);
  });

  test('nesting: 128 levels are valid, 129 are not (GLib limit)', () => {
    expect(isValidType(`${'a'.repeat(128)}y`)).toBe(true);
    expect(isValidType(`${'('.repeat(128)}${')'.repeat(128)}`)).toBe(true);
    expect(isValidType(`${'('.repeat(128)}y${')'.repeat(128)}`)).toBe(true);
    expect(isValidType(`${'('.repeat(129)}y${')'.repeat(129)}`)).toBe(false);
    expect(isValidType(`${'m'.repeat(129)}y`)).toBe(false);
  });
});

describe('encode errors: ERR_GVARIANT_BAD_VALUE names the value path', () => {
  test.each([
    ['y', 256, '$'],
    ['n', 1.5, '$'],
    ['u', -1, '$'],
    ['t', -1n, '$'],
    ['x', 2n ** 63n, '$'],
    ['x', 2 ** 60, '$'],
    ['b', 1, '$'],
    ['d', '1', '$'],
    ['s', 'a\0b', '$'],
    ['s', 'a\ud800', '$'],
    ['as', ['\u{1f389}', '\udfffb'], '$[1]'],
    ['o', 'a/b', '$'],
    ['o', '/a/', '$'],
    ['g', 'ma', '$'],
    ['g', '(', '$'],
    ['ay', [1, 2], '$'],
    ['as', 'abc', '$'],
    ['(si)', ['a', 'x'], '$[1]'],
    ['(ii)', [1], '$'],
    ['a{sv}', [['k', 5]], '$[0][1]'],
    ['a{sv}', [['k', new Variant('u', -1)]], '$[0][1]<u>'],
    ['av', [new Variant('(i', 1)], '$[0]'],
    ['mmi', 5, '$'],
    ['mmi', [[7]], '$!!'],
    ['a(sas)', [['a', ['b', 3]]], '$[0][1][1]'],
  ] as const)('%s %s at %s', (type, value, path) => {
    const e = thrown(() => encode(type, value as never));
    expect(e.code).toBe(ErrorCodes.GVARIANT_BAD_VALUE);
    expect(e.data).toMatchObject({ type: expect.any(String), path });
    expect(e.message).toContain(path);
  });

  test('signatures have no D-Bus 255-byte limit (GLib has none)', () => {
    const sig = 'a{sv}'.repeat(60);
    expect(decode('g', encode('g', sig))).toBe(sig);
  });
});

describe('decode errors', () => {
  test('truncated and malformed input name the type and byte offset', () => {
    const t = thrown(() => decode('(ii)', h('01000000')));
    expect(t.code).toBe(ErrorCodes.GVARIANT_TRUNCATED);
    expect(t.data).toMatchObject({ type: '(ii)', offset: 0 });
    const m = thrown(() => decode('s', h('6162')));
    expect(m.code).toBe(ErrorCodes.GVARIANT_MALFORMED);
    expect(m.data).toMatchObject({ type: 's', offset: 1 });
  });

  test('non-normal but readable input: strict refuses, non-strict reads it as GLib does', () => {
    // non-zero padding after "hi\0" before the int
    expect(thrown(() => decode('(si)', h('686900ff0500000003'))).code).toBe(ErrorCodes.GVARIANT_MALFORMED);
    expect(decode('(si)', h('686900ff0500000003'), { strict: false })).toEqual(['hi', 5]);
    // boolean 2
    expect(thrown(() => decode('b', h('02'))).code).toBe(ErrorCodes.GVARIANT_MALFORMED);
    expect(decode('b', h('02'), { strict: false })).toBe(true);
  });

  test('wrongly sized fixed-size values are refused even when non-strict (GLib reads them as 0 or `()`)', () => {
    expect(thrown(() => decode('i', h('0100000000'), { strict: false })).code).toBe(ErrorCodes.GVARIANT_MALFORMED);
    expect(thrown(() => decode('v', h('0100000000 0069'), { strict: false })).code).toBe(ErrorCodes.GVARIANT_MALFORMED);
    expect(thrown(() => decode('i', h('010000'), { strict: false })).code).toBe(ErrorCodes.GVARIANT_TRUNCATED);
  });

  test('strings: UTF-8, no inner NUL, a leading BOM is data', () => {
    expect(decode('s', h('efbbbf6100'))).toBe('\ufeffa');
    expect(decode('s', encode('s', '\ufeff\u00e9\u{1f389}'))).toBe('\ufeff\u00e9\u{1f389}');
    expect(thrown(() => decode('s', h('ff00'))).code).toBe(ErrorCodes.GVARIANT_MALFORMED);
    expect(thrown(() => decode('s', h('610000'))).code).toBe(ErrorCodes.GVARIANT_MALFORMED);
    expect(thrown(() => decode('s', h('eda08000'))).code).toBe(ErrorCodes.GVARIANT_MALFORMED); // a UTF-16 surrogate
    expect(thrown(() => decode('o', h('2f612f00'))).code).toBe(ErrorCodes.GVARIANT_MALFORMED);
    expect(thrown(() => decode('g', h('6d6900'))).code).toBe(ErrorCodes.GVARIANT_MALFORMED);
  });

  test('a 0-byte variable-size tuple is refused, though GLib calls "(asas)" of 0 bytes normal', () => {
    // GLib's own serialisation of ([], []) is "00" (one framing offset): the 0-byte form is not it.
    expect(hexOf(encode('(asas)', [[], []]))).toBe('00');
    for (const strict of [true, false]) {
      for (const type of ['(asas)', '(ss)', '(sas)', '(say)']) {
        const e = thrown(() => decode(type, new Uint8Array(0), { strict }));
        expect([ErrorCodes.GVARIANT_MALFORMED, ErrorCodes.GVARIANT_TRUNCATED]).toContain(e.code);
      }
    }
  });
});

describe('nesting depth (GLib: no value 128 containers deep)', () => {
  /** n variants nested around the byte 5. */
  function nestedVariants(n: number): Uint8Array {
    let b = Uint8Array.of(5);
    let t = 'y';
    for (let i = 0; i < n; i++) {
      b = Uint8Array.from([...b, 0, ...Buffer.from(t)]);
      t = 'v';
    }
    return b;
  }
  /** k arrays around a byte array holding `inner` (the normal form of [[…[inner]…]]). */
  function nestedArrays(k: number, inner: number[]): Uint8Array {
    let b = Uint8Array.from(inner);
    for (let i = 1; i < k; i++) b = Uint8Array.from([...b, b.length]);
    return b;
  }

  test('127 nested variants decode; 128 do not (strict or not)', () => {
    let v = decode('v', nestedVariants(127)) as unknown;
    let depth = 0;
    while (v instanceof Variant) {
      v = v.value;
      depth++;
    }
    expect([depth, v]).toEqual([127, 5]);
    for (const strict of [true, false]) {
      expect(thrown(() => decode('v', nestedVariants(128), { strict })).code).toBe(ErrorCodes.GVARIANT_MALFORMED);
    }
  });

  test('a variant at depth d holds only types of depth < 128 - d', () => {
    const empty = (type: string) => Uint8Array.from([0, ...Buffer.from(type)]);
    expect(decode('v', empty(`${'a'.repeat(126)}y`))).toEqual(new Variant(`${'a'.repeat(126)}y`, []));
    expect(thrown(() => decode('v', empty(`${'a'.repeat(127)}y`))).code).toBe(ErrorCodes.GVARIANT_MALFORMED);
    // In an array the variant is at depth 1.
    const inArray = (type: string) => Uint8Array.from([...empty(type), type.length + 1]);
    expect(decode('av', inArray(`${'a'.repeat(125)}y`))).toHaveLength(1);
    expect(thrown(() => decode('av', inArray(`${'a'.repeat(126)}y`))).code).toBe(ErrorCodes.GVARIANT_MALFORMED);
  });

  test('GLib counts `()` as 0 deep and a dict entry by its value only', () => {
    // n variants around an empty a{s()} (type depth 2): the innermost variant is at depth n - 1.
    const around = (n: number) => {
      let b = Uint8Array.from([0, ...Buffer.from('a{s()}')]);
      for (let i = 1; i < n; i++) b = Uint8Array.from([...b, 0, 0x76]);
      return b;
    };
    expect(decode('v', around(126))).toBeInstanceOf(Variant);
    expect(thrown(() => decode('v', around(127))).code).toBe(ErrorCodes.GVARIANT_MALFORMED);
  });

  test('the deepest static type decodes unless a value sits at depth 128', () => {
    const type = `${'a'.repeat(128)}y`;
    expect(decode(type, nestedArrays(128, []))).toBeInstanceOf(Array);
    expect(thrown(() => decode(type, nestedArrays(128, [1]))).code).toBe(ErrorCodes.GVARIANT_MALFORMED);
    expect(decode(`${'a'.repeat(127)}y`, nestedArrays(127, [1]))).toBeInstanceOf(Array);
  });
});

describe('hostile framing offsets: typed errors, no large allocations', () => {
  test('a 16-byte a(ss) whose last offset claims a huge table', () => {
    for (const last of [0x00, 0x01, 0x0f, 0x10, 0x7f, 0xff]) {
      const b = new Uint8Array(16).fill(0x61);
      b[15] = last;
      for (const strict of [true, false]) {
        const e = thrown(() => decode('a(ss)', b, { strict }));
        expect([ErrorCodes.GVARIANT_MALFORMED, ErrorCodes.GVARIANT_TRUNCATED]).toContain(e.code);
        expect(typeof e.data.offset).toBe('number');
      }
    }
  });

  test('4-byte offsets claiming ~4 GiB fail fast', () => {
    for (const type of ['as', 'a(ss)', '(ss)', 'aay', 'a{sv}']) {
      const b = new Uint8Array(70_000).fill(0x61);
      new DataView(b.buffer).setUint32(b.length - 4, 0xfffffff0, true);
      const t0 = performance.now();
      const e = thrown(() => decode(type, b));
      expect(performance.now() - t0).toBeLessThan(100);
      expect([ErrorCodes.GVARIANT_MALFORMED, ErrorCodes.GVARIANT_TRUNCATED]).toContain(e.code);
    }
  });

  test('a table start near the end makes as many elements as the input has offsets, and they fail', () => {
    const b = new Uint8Array(70_000);
    new DataView(b.buffer).setUint32(b.length - 4, 4, true); // table from byte 4: 17499 offsets of 0
    const t0 = performance.now();
    const e = thrown(() => decode('as', b));
    expect(performance.now() - t0).toBeLessThan(100);
    expect([ErrorCodes.GVARIANT_MALFORMED, ErrorCodes.GVARIANT_TRUNCATED]).toContain(e.code);
  });
});
