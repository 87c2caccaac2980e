/**
 * Property tests of the GVariant codec against GLib itself (through python3-gi, see
 * test/tools/glib_variant.py). Thousands of random types and values, both directions, both byte
 * orders, plus mutated encodings. Skipped visibly without GLib; required when CI=true.
 *
 * Reproduce a failure with the environment its message prints, e.g.
 *   GVARIANT_SEED=123 GVARIANT_CASE=45 npx vitest run packages/client/test/gvariant-glib.test.ts
 * Scale up with GVARIANT_CASES=100000.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { ErrorCodes } from '../src/errors/codes.js';
import { FlathubFetchError } from '../src/errors/FlathubFetchError.js';
import { decode, encode, isValidType, Variant } from '../src/gvariant/index.js';
import { canonical, canonicalJson, type DecodeResult, describeWithGlib, GlibOracle, hex, unhex } from '../../../test/support/glib.js';
import {
  caseIndices,
  caseRng,
  mutate,
  propertyConfig,
  type RandomCase,
  randomCase,
  randomType,
  reproduce,
  Rng,
} from '../../../test/support/random-gvariant.js';

const config = propertyConfig(3000);
const label = `seed ${config.seed}${config.seedFromEnv ? ' from GVARIANT_SEED' : ''}, ${config.onlyCase !== undefined ? `case ${config.onlyCase}` : `${config.cases} cases`}`;
/** A decode slower than this counts as a hang. */
const SLOW_MS = 1000;
const MAX_REPORTED = 12;
/** Per-test timeout: generous for the default size, scaled for GVARIANT_CASES runs. */
const TIMEOUT = Math.max(120_000, config.cases * 40);

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

function attempt(fn: () => unknown): Outcome {
  try {
    return { ok: true, value: fn() };
  } catch (error) {
    return { ok: false, error };
  }
}

/** Why `e` is not an acceptable decode error (a typed MALFORMED/TRUNCATED with a numeric offset), or ''. */
function badDecodeError(e: unknown): string {
  if (!(e instanceof FlathubFetchError))
    return `threw a non-FlathubFetchError: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`;
  if (e.code !== ErrorCodes.GVARIANT_MALFORMED && e.code !== ErrorCodes.GVARIANT_TRUNCATED) return `threw ${e.code}: ${e.message}`;
  const offset = (e.data as { offset?: unknown }).offset;
  if (typeof offset !== 'number' || !Number.isFinite(offset) || offset < 0) return `error data.offset is ${String(offset)}: ${e.message}`;
  if (typeof (e.data as { type?: unknown }).type !== 'string') return `error data.type is missing: ${e.message}`;
  return '';
}

function timed(fn: () => unknown): Outcome & { ms: number } {
  const t0 = performance.now();
  const r = attempt(fn);
  return { ...r, ms: performance.now() - t0 };
}

function clip(s: string, n = 400): string {
  return s.length <= n ? s : `${s.slice(0, n)}…(${s.length} chars)`;
}

function describeCase(c: RandomCase): string {
  return `case #${c.index} [${reproduce(c.seed, c.index)}] type ${c.type}`;
}

/** Where two renderings first differ, with context (values are often too long to show whole). */
function difference(expected: string, got: string): string {
  let i = 0;
  while (i < expected.length && i < got.length && expected[i] === got[i]) i++;
  const from = Math.max(0, i - 60);
  return `first difference at character ${i}:\n  expected …${expected.slice(from, i + 60)}…\n  got      …${got.slice(from, i + 60)}…`;
}

/**
 * Checks `count` items in order with at most `window` in flight: `start(i)` sends item i's
 * requests, so GLib works ahead while earlier items are checked, and memory stays bounded
 * however many cases run.
 */
async function pipelined<J>(count: number, window: number, start: (i: number) => J, check: (job: J) => Promise<void>): Promise<void> {
  const jobs = new Map<number, J>();
  for (let i = 0; i < Math.min(window, count); i++) jobs.set(i, start(i));
  for (let i = 0; i < count; i++) {
    if (i + window < count) jobs.set(i + window, start(i + window));
    const job = jobs.get(i) as J;
    jobs.delete(i);
    await check(job);
  }
}

function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

class Failures {
  readonly list: string[] = [];
  add(msg: string): void {
    this.list.push(msg);
  }
  check(what: string): void {
    if (this.list.length === 0) return;
    const shown = this.list.slice(0, MAX_REPORTED).join('\n---\n');
    throw new Error(
      `${this.list.length} failure(s) in ${what} (${label}):\n${shown}${this.list.length > MAX_REPORTED ? `\n… and ${this.list.length - MAX_REPORTED} more` : ''}`,
    );
  }
}

describeWithGlib('GVariant codec vs GLib', () => {
  let glib: GlibOracle;
  const indices = caseIndices(config);
  const caseAt = (i: number): RandomCase => randomCase(config.seed, indices[i] as number);

  beforeAll(async () => {
    glib = await GlibOracle.start();
  }, 60_000);

  afterAll(async () => {
    await glib?.close();
  });

  test(
    `random values: our encoding is GLib's, both byte orders; each side decodes the other's (${label})`,
    async () => {
      const failures = new Failures();
      const sizes = { over255: 0, over65535: 0, max: 0 };
      const start = (i: number) => {
        const c = caseAt(i);
        let ours: Uint8Array | undefined;
        let oursBE: Uint8Array | undefined;
        let encodeError: unknown;
        try {
          ours = encode(c.type, c.value as never);
          oursBE = encode(c.type, c.value as never, { littleEndian: false });
        } catch (e) {
          encodeError = e;
        }
        const fromGlib = glib.encode(c.type, c.value, { byteswap: true });
        const glibReadsOurs = ours === undefined ? undefined : glib.decode(c.type, ours);
        fromGlib.catch(() => {});
        glibReadsOurs?.catch(() => {});
        return { c, ours, oursBE, encodeError, fromGlib, glibReadsOurs };
      };
      await pipelined(indices.length, 200, start, async ({ c, ours, oursBE, encodeError, fromGlib, glibReadsOurs }) => {
        const where = describeCase(c);
        const expected = canonical(c.type, c.value);
        let g: { hex: string; swapped?: string };
        try {
          g = await fromGlib;
        } catch (e) {
          failures.add(`${where}: GLib could not build the value: ${errText(e)}\nvalue ${clip(expected)}`);
          return;
        }
        if (ours === undefined || oursBE === undefined) {
          failures.add(`${where}: encode threw: ${errText(encodeError)}\nvalue ${clip(expected)}`);
          return;
        }
        sizes.max = Math.max(sizes.max, ours.length);
        if (ours.length > 255) sizes.over255++;
        if (ours.length > 65535) sizes.over65535++;
        if (hex(ours) !== g.hex)
          failures.add(`${where}: encode (LE) differs from GLib, ${difference(g.hex, hex(ours))}\nvalue ${clip(expected)}`);
        if (hex(oursBE) !== g.swapped) {
          failures.add(
            `${where}: encode (BE) differs from GLib's byteswap, ${difference(g.swapped ?? '', hex(oursBE))}\nvalue ${clip(expected)}`,
          );
        }
        for (const [order, bytesHex, littleEndian] of [
          ['LE', g.hex, true],
          ['BE', g.swapped ?? '', false],
        ] as const) {
          for (const strict of [true, false]) {
            const r = attempt(() => decode(c.type, unhex(bytesHex), { littleEndian, strict }));
            const what = `decode (${order}, strict ${strict}) of GLib's bytes`;
            if (!r.ok) {
              failures.add(`${where}: ${what} threw: ${errText(r.error)}\nbytes ${clip(bytesHex)}`);
              continue;
            }
            const got = attempt(() => canonical(c.type, r.value));
            if (!got.ok) failures.add(`${where}: ${what}: ${errText(got.error)}`);
            else if (got.value !== expected) failures.add(`${where}: ${what}: ${difference(expected, got.value as string)}`);
          }
        }
        const gd = (await glibReadsOurs) as DecodeResult;
        if (!gd.normal) failures.add(`${where}: GLib says our encoding is not in normal form\nbytes ${clip(hex(ours))}`);
        if (!gd.readable) {
          failures.add(`${where}: GLib cannot read our bytes (too deep)`);
          return;
        }
        const glibValue = canonicalJson(c.type, gd.value);
        if (glibValue !== expected) failures.add(`${where}: GLib reads our bytes differently: ${difference(expected, glibValue)}`);
      });
      console.info(
        `[gvariant-glib] ${indices.length} values (${label}): ${sizes.over255} encodings > 255 bytes, ${sizes.over65535} > 65535 bytes, largest ${sizes.max} bytes`,
      );
      failures.check('encode/decode vs GLib');
      // The generator must keep exercising the 2- and 4-byte framing-offset widths.
      if (config.onlyCase === undefined && config.cases >= 1000) {
        expect(sizes.over255).toBeGreaterThan(config.cases / 20);
        expect(sizes.over65535).toBeGreaterThan(0);
      }
    },
    TIMEOUT,
  );

  test(
    `mutated encodings: strict decode accepts exactly GLib's normal forms, errors are typed (${label})`,
    async () => {
      const failures = new Failures();
      const stats = { mutants: 0, normal: 0, glibQuirk: 0, nonStrictOk: 0 };
      const quirks: string[] = [];
      const start = (i: number) => {
        const c = caseAt(i);
        const out: Array<{ c: RandomCase; type: string; how: string; bytes: Uint8Array; glib: Promise<DecodeResult> }> = [];
        let bytes: Uint8Array;
        try {
          bytes = encode(c.type, c.value as never);
        } catch {
          return out; // reported by the test above
        }
        const rng = caseRng(c.seed, c.index, 1);
        const k = bytes.length > 4096 ? 1 : 4;
        const add = (type: string, how: string, b: Uint8Array) => {
          const p = glib.decode(type, b);
          p.catch(() => {});
          out.push({ c, type, how, bytes: b, glib: p });
        };
        for (let m = 0; m < k; m++) {
          const mutant = mutate(rng, bytes);
          add(c.type, mutant.how, mutant.bytes);
        }
        // Type confusion: the same bytes read as another random type; and a few random bytes.
        if (bytes.length <= 4096) {
          const other = randomType(rng, { maxDepth: rng.int(0, 3) });
          add(other, `read as "${other}"`, bytes);
          const noise = rng.bytes(rng.int(0, 12));
          add(c.type, `random bytes ${hex(noise)}`, noise);
        }
        return out;
      };
      await pipelined(indices.length, 100, start, async (mutants) => {
        for (const { c, type, how, bytes, glib: pending } of mutants) {
          stats.mutants++;
          const where = `${describeCase(c)}, mutant "${how}"\nbytes ${clip(hex(bytes))}`;
          const strict = timed(() => decode(type, bytes));
          const loose = timed(() => decode(type, bytes, { strict: false }));
          for (const [mode, r] of [
            ['strict', strict],
            ['non-strict', loose],
          ] as const) {
            if (r.ms > SLOW_MS) failures.add(`${where}: ${mode} decode took ${r.ms.toFixed(0)} ms`);
            if (!r.ok) {
              const bad = badDecodeError(r.error);
              if (bad !== '') failures.add(`${where}: ${mode} decode ${bad}`);
            }
          }
          const g = await pending;
          // GLib's is_normal_form() also passes a few byte strings that its own serialiser never
          // writes: a variable-size tuple of 0 bytes whose members can all be empty ("(asas)" as
          // "", serialised "00"), also nested. The codec promises encode(decode(x)) == x, so it
          // refuses those: the oracle is "GLib says normal AND GLib serialises the value as x".
          const canonicalBytes = g.normalHex === hex(bytes);
          const glibAccepts = g.normal && canonicalBytes;
          if (glibAccepts) stats.normal++;
          if (g.normal && !canonicalBytes) {
            stats.glibQuirk++;
            if (quirks.length < 5)
              quirks.push(`"${type}" ${clip(hex(bytes), 80) || '(empty)'} (GLib serialises it as ${clip(g.normalHex ?? '', 80)})`);
          }
          if (strict.ok !== glibAccepts) {
            const ours = strict.ok ? 'accepted' : `refused (${errText(strict.error)})`;
            const theirs = `${g.normal ? 'normal' : 'not normal'}${g.normal && !canonicalBytes ? `, serialised as ${clip(g.normalHex ?? '')}` : ''}`;
            failures.add(`${where}: strict decode ${ours} but GLib says ${theirs}`);
            continue;
          }
          if (!g.readable) continue; // GLib would abort reading it (only possible near the depth limit)
          const glibValue = canonicalJson(type, g.value);
          if (strict.ok) {
            const ours = attempt(() => canonical(type, strict.value));
            if (!ours.ok) failures.add(`${where}: strict decode: ${errText(ours.error)}`);
            else if (ours.value !== glibValue)
              failures.add(`${where}: strict decode differs from GLib's reading: ${difference(glibValue, ours.value as string)}`);
          }
          if (loose.ok) {
            stats.nonStrictOk++;
            // Non-strict decoding tolerates non-normal framing without changing meaning, and raises
            // where GLib would substitute defaults: whatever it returns, GLib reads the same.
            const ours = attempt(() => canonical(type, loose.value));
            if (!ours.ok) failures.add(`${where}: non-strict decode: ${errText(ours.error)}`);
            else if (ours.value !== glibValue)
              failures.add(`${where}: non-strict decode differs from GLib's reading: ${difference(glibValue, ours.value as string)}`);
          }
        }
      });
      console.info(
        `[gvariant-glib] ${stats.mutants} mutants (${label}): ${stats.normal} still normal, ${stats.nonStrictOk} accepted by non-strict decode, ${stats.glibQuirk} GLib-normal but not GLib's own serialisation${quirks.length > 0 ? `: ${quirks.join('; ')}` : ''}`,
      );
      failures.check('mutation testing');
    },
    TIMEOUT,
  );

  test('framing-offset width boundaries: 255/256 and 65535/65536 bytes, minimal and wider-than-needed offsets', async () => {
    const failures = new Failures();
    // Value families whose encodings grow one byte per step of L, each with framing offsets.
    const families: Array<[string, (L: number) => unknown]> = [
      ['as', (L) => ['x'.repeat(L)]],
      ['as', (L) => ['x'.repeat(L), '']],
      ['as', (L) => ['ab', 'x'.repeat(L), 'c']],
      ['(ss)', (L) => ['x'.repeat(L), 'y']],
      ['(sas)', (L) => ['x'.repeat(L), ['a', 'b']]],
      ['aay', (L) => [new Uint8Array(L).fill(7), new Uint8Array(1)]],
      [
        'a(sy)',
        (L) => [
          ['x'.repeat(L), 1],
          ['', 2],
        ],
      ],
      ['a{sv}', (L) => [['k', new Variant('s', 'x'.repeat(L))]]],
      ['(ayi)', (L) => [new Uint8Array(L).fill(1), -1]],
      ['mas', (L) => ['x'.repeat(L), 'y']],
      ['(sv)', (L) => ['x'.repeat(L), new Variant('ay', new Uint8Array(3))]],
    ];
    const checks: Array<{ type: string; value: unknown; ours: Uint8Array; p: Promise<{ hex: string }> }> = [];
    for (const [type, make] of families) {
      const base = encode(type, make(0) as never).length;
      for (const boundary of [255, 65535]) {
        for (let L = Math.max(0, boundary - base - 12); L <= boundary - base + 12; L++) {
          const value = make(L);
          const ours = encode(type, value as never);
          const p = glib.encode(type, value);
          p.catch(() => {});
          checks.push({ type, value, ours, p });
        }
      }
    }
    const widths = new Set<number>();
    for (const { type, value, ours, p } of checks) {
      const g = await p;
      if (hex(ours) !== g.hex) failures.add(`${type} of ${ours.length} bytes: encode differs from GLib (GLib ${g.hex.length / 2} bytes)`);
      const back = attempt(() => canonical(type, decode(type, ours)));
      if (!back.ok || back.value !== canonical(type, value)) failures.add(`${type} of ${ours.length} bytes: decode does not round-trip`);
      widths.add(ours.length <= 255 ? 1 : ours.length <= 65535 ? 2 : 4);
    }
    expect([...widths].sort()).toEqual([1, 2, 4]);

    // Re-framed 'as' values: the same strings with every offset width, including wider than
    // needed. Only the minimal width is normal form (GLib agrees); non-strict reads them all.
    const reframed: Array<{ bytes: Uint8Array; p: Promise<DecodeResult>; what: string }> = [];
    for (const body of [[250], [251, 1], [252], [253], [254], [255], [65531], [65532], [65533], [65534], [65535]]) {
      const strings = body.map((n) => 'x'.repeat(n - 1));
      const bodyBytes = encode('as', strings as never).subarray(
        0,
        body.reduce((a, b) => a + b, 0),
      );
      for (const w of [1, 2, 4]) {
        const ends: number[] = [];
        let acc = 0;
        for (const n of body) {
          acc += n;
          ends.push(acc);
        }
        if (ends.some((e) => e >= 2 ** (8 * w))) continue;
        const bytes = new Uint8Array(bodyBytes.length + w * ends.length);
        bytes.set(bodyBytes);
        const dv = new DataView(bytes.buffer);
        ends.forEach((e, i) => {
          const at = bodyBytes.length + i * w;
          if (w === 1) dv.setUint8(at, e);
          else if (w === 2) dv.setUint16(at, e, true);
          else dv.setUint32(at, e, true);
        });
        const p = glib.decode('as', bytes);
        p.catch(() => {});
        reframed.push({ bytes, p, what: `as body [${body.join(',')}] with ${w}-byte offsets (${bytes.length} bytes)` });
      }
    }
    for (const { bytes, p, what } of reframed) {
      const g = await p;
      const glibAccepts = g.normal && g.normalHex === hex(bytes);
      const strict = attempt(() => decode('as', bytes));
      if (strict.ok !== glibAccepts)
        failures.add(`${what}: strict decode ${strict.ok ? 'accepts' : 'refuses'}, GLib ${g.normal ? 'normal' : 'not normal'}`);
      const loose = attempt(() => decode('as', bytes, { strict: false }));
      if (loose.ok && canonical('as', loose.value) !== canonicalJson('as', g.value))
        failures.add(`${what}: non-strict decode differs from GLib`);
      if (!loose.ok && badDecodeError(loose.error) !== '') failures.add(`${what}: non-strict ${badDecodeError(loose.error)}`);
    }
    failures.check('framing boundaries');
  }, 60_000);

  test(`type strings: parseType accepts exactly GLib's definite types (${label})`, async () => {
    const failures = new Failures();
    const rng = new Rng(config.seed, 0x7157);
    const alphabet = [...'bynqiuxthdsogvam(){}*?r'];
    const samples = new Set<string>([
      '',
      '()',
      '{sv}',
      '{vs}',
      '{ass}',
      'a{sv}',
      'a{s}',
      'a{svv}',
      '(',
      ')',
      'a',
      'm',
      'mm',
      'ma',
      '{}',
      '{s',
      '((i)',
      'r',
      '*',
      '?',
      'ar',
      'm*',
      'a{?s}',
      'ii',
      'a(i))',
      'e',
      'aé',
    ]);
    for (const k of [126, 127, 128, 129, 130]) {
      samples.add(`${'a'.repeat(k)}y`);
      samples.add(`${'m'.repeat(k)}y`);
      samples.add(`${'('.repeat(k)}y${')'.repeat(k)}`);
      samples.add(`${'('.repeat(k)}${')'.repeat(k)}`);
      samples.add(`${'a{s'.repeat(k)}y${'}'.repeat(k)}`);
      samples.add(`${'a'.repeat(k)}{sy}`);
      samples.add(`${'a'.repeat(k)}()`);
    }
    const n = config.onlyCase !== undefined ? 200 : Math.max(200, config.cases);
    for (let i = 0; i < n; i++) {
      if (rng.chance(0.5)) {
        let s = '';
        const len = rng.int(1, 8);
        for (let j = 0; j < len; j++) s += rng.pick(alphabet);
        samples.add(s);
      } else {
        // A valid type with one character changed, inserted or removed.
        const t = [...randomType(rng, { maxDepth: 3 })];
        const p = rng.int(0, t.length - 1);
        const op = rng.int(0, 2);
        if (op === 0) t[p] = rng.pick(alphabet);
        else if (op === 1) t.splice(p, 0, rng.pick(alphabet));
        else t.splice(p, 1);
        samples.add(t.join(''));
      }
    }
    const pending = [...samples].map((s) => ({ s, p: glib.typeInfo(s) }));
    let valid = 0;
    for (const { s, p } of pending) {
      const g = await p;
      const ours = isValidType(s);
      if (ours) valid++;
      if (ours !== (g.valid && g.definite))
        failures.add(`type string "${clip(s, 80)}": ours ${ours ? 'valid' : 'invalid'}, GLib valid=${g.valid} definite=${g.definite}`);
    }
    expect(valid).toBeGreaterThan(samples.size / 10);
    failures.check('type strings');
  }, 60_000);

  test("nesting depth: variants, arrays, tuples and maybes at and beyond GLib's limit of 128", async () => {
    const failures = new Failures();
    const wrapVariant = (inner: Uint8Array, type: string): Uint8Array => {
      const out = new Uint8Array(inner.length + 1 + type.length);
      out.set(inner);
      out.set(Buffer.from(type, 'ascii'), inner.length + 1);
      return out;
    };
    // `glibBug`: GLib's answer is wrong there and the codec must refuse regardless.
    const inputs: Array<{ type: string; bytes: Uint8Array; what: string; glibBug?: string }> = [];
    // gvs_variant_is_normal() tests `depth < 128 - child_type_depth` in unsigned arithmetic, so a
    // child type of depth 129 (128 arrays around a byte) wraps around and passes, while depth 128
    // fails; g_variant_get_child_value() meanwhile reads such a child as `()`.
    const underflow = 'GLib 2.74 is_normal_form() underflows (128 - 129) for a variant holding a type of depth 129';
    for (const n of [1, 2, 64, 126, 127, 128, 129, 200]) {
      // n variants nested in each other around a byte.
      let b: Uint8Array = new Uint8Array([5]);
      let t = 'y';
      for (let i = 0; i < n; i++) {
        b = wrapVariant(b, t);
        t = 'v';
      }
      inputs.push({ type: 'v', bytes: b.slice(), what: `${n} nested variants` });
    }
    for (const k of [120, 125, 126, 127, 128]) {
      // A variant holding a deep type, populated and empty; and that type at top level.
      const deep = `${'a'.repeat(k)}y`;
      let populated: Uint8Array = new Uint8Array([9]);
      for (let i = 1; i < k; i++) populated = encodeArrayOfOne(populated);
      inputs.push({ type: deep, bytes: populated, what: `top-level ${deep.length}-char array type, populated` });
      const glibBug = k === 128 ? underflow : undefined;
      inputs.push({
        type: 'v',
        bytes: wrapVariant(populated, deep),
        what: `variant of ${deep.length}-char array type, populated`,
        glibBug,
      });
      inputs.push({
        type: 'v',
        bytes: wrapVariant(new Uint8Array(0), deep),
        what: `variant of ${deep.length}-char array type, empty`,
        glibBug,
      });
      inputs.push({
        type: 'av',
        bytes: encodeArrayOfOne(wrapVariant(new Uint8Array(0), deep)),
        what: `av holding a ${deep.length}-char array type, empty`,
        glibBug,
      });
      const deepMaybe = `${'m'.repeat(k)}y`;
      const maybeBytes = new Uint8Array(k); // Just(Just(…Just(7))): the byte, then one NUL per variable-size level
      maybeBytes[0] = 7;
      inputs.push({ type: deepMaybe, bytes: maybeBytes, what: `${k} nested maybes, innermost Just` });
      const deepTuple = `${'('.repeat(k)}y${')'.repeat(k)}`;
      inputs.push({ type: deepTuple, bytes: new Uint8Array([3]), what: `${k} nested tuples` });
      inputs.push({ type: 'v', bytes: wrapVariant(new Uint8Array([3]), deepTuple), what: `variant of ${k} nested tuples` });
    }
    // Variants nested around types whose depth GLib counts unusually: `()` is 0 deep, and a
    // dict entry counts its value only.
    for (const [inner, innerType] of [
      [new Uint8Array(0), 'a{s()}'],
      [new Uint8Array(0), 'a()'],
      [Uint8Array.of(0), '()'],
      [encode('{s()}', ['', []]), '{s()}'],
      [new Uint8Array(0), 'aa{sa{s()}}'],
    ] as const) {
      for (const n of [123, 124, 125, 126, 127, 128]) {
        let b = wrapVariant(inner, innerType);
        for (let i = 1; i < n; i++) b = wrapVariant(b, 'v');
        inputs.push({ type: 'v', bytes: b, what: `${n} nested variants around ${innerType}` });
      }
    }
    // The deepest static type: 128 arrays around a byte, populated all the way down (depth 128).
    let b128: Uint8Array = new Uint8Array([1]);
    for (let i = 1; i < 128; i++) b128 = encodeArrayOfOne(b128);
    inputs.push({ type: `${'a'.repeat(128)}y`, bytes: b128, what: '128 nested arrays, populated' });
    let e128: Uint8Array = new Uint8Array(0);
    for (let i = 1; i < 128; i++) e128 = encodeArrayOfOne(e128);
    inputs.push({ type: `${'a'.repeat(128)}y`, bytes: e128, what: '128 nested arrays, innermost empty' });
    const pending = inputs.map((x) => {
      const p = glib.decode(x.type, x.bytes);
      p.catch(() => {});
      return { ...x, p };
    });
    for (const { type, bytes, what, p, glibBug } of pending) {
      const g = await p;
      if (glibBug !== undefined) {
        for (const strict of [true, false]) {
          const r = attempt(() => decode(type, bytes, { strict }));
          if (r.ok) failures.add(`${what}: ${strict ? 'strict' : 'non-strict'} decode accepts (${glibBug})`);
          else if (badDecodeError(r.error) !== '') failures.add(`${what}: ${badDecodeError(r.error)}`);
        }
        continue;
      }
      const glibAccepts = g.normal && g.normalHex === hex(bytes);
      const strict = attempt(() => decode(type, bytes));
      if (strict.ok !== glibAccepts)
        failures.add(
          `${what}: strict decode ${strict.ok ? 'accepts' : `refuses (${errText(strict.error)})`}, GLib ${g.normal ? 'normal' : 'not normal'}`,
        );
      else if (strict.ok && g.readable && canonical(type, strict.value) !== canonicalJson(type, g.value))
        failures.add(`${what}: values differ`);
      if (!strict.ok && badDecodeError(strict.error) !== '') failures.add(`${what}: ${badDecodeError(strict.error)}`);
      const loose = attempt(() => decode(type, bytes, { strict: false }));
      if (!loose.ok && badDecodeError(loose.error) !== '') failures.add(`${what}: non-strict ${badDecodeError(loose.error)}`);
      if (loose.ok && g.readable && canonical(type, loose.value) !== canonicalJson(type, g.value))
        failures.add(`${what}: non-strict value differs from GLib's`);
    }
    failures.check('nesting depth');
  }, 60_000);
});

/** The normal form of a one-element array of a variable-size element whose encoding is `inner`. */
function encodeArrayOfOne(inner: Uint8Array): Uint8Array {
  const n = inner.length;
  const w = n + 1 <= 0xff ? 1 : 2;
  const out = new Uint8Array(n + w);
  out.set(inner);
  if (w === 1) out[n] = n;
  else new DataView(out.buffer).setUint16(n, n, true);
  return out;
}
