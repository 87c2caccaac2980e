/**
 * Type-level GVariant: `Decoded<'(a{sv}aya(say)sstayay)'>` is the TypeScript type of a decoded
 * OSTree commit. The mapping is the codec's:
 *
 * | GVariant | TypeScript |
 * | --- | --- |
 * | b | boolean |
 * | y n q i u h d | number |
 * | x t | bigint (encode also accepts number) |
 * | s o g | string |
 * | ay | Uint8Array (a zero-copy view into the input) |
 * | aT | T[] |
 * | a{KV} | Array<[K, V]> (order and duplicates preserved; see `dictGet`) |
 * | (ABC) | [A, B, C] |
 * | {KV} | [K, V] |
 * | mT | T \| null; when T is itself a maybe, Just is a one-element array `[T]` |
 * | v | Variant |
 */
import { FlathubFetchError } from '../errors/FlathubFetchError.js';
import { ErrorCodes } from '../errors/codes.js';

type NumberChar = 'y' | 'n' | 'q' | 'i' | 'u' | 'h' | 'd';
type BigChar = 'x' | 't';
type StringChar = 's' | 'o' | 'g';

type One<S extends string> = S extends `b${infer R}`
  ? [boolean, R]
  : S extends `${NumberChar}${infer R}`
    ? [number, R]
    : S extends `${BigChar}${infer R}`
      ? [bigint, R]
      : S extends `${StringChar}${infer R}`
        ? [string, R]
        : S extends `v${infer R}`
          ? [Variant, R]
          : S extends `ay${infer R}`
            ? [Uint8Array, R]
            : S extends `a${infer R}`
              ? One<R> extends [infer T, infer R2 extends string]
                ? [T[], R2]
                : never
              : S extends `mm${infer R}`
                ? One<`m${R}`> extends [infer T, infer R2 extends string]
                  ? [[T] | null, R2]
                  : never
                : S extends `m${infer R}`
                  ? One<R> extends [infer T, infer R2 extends string]
                    ? [T | null, R2]
                    : never
                  : S extends `(${infer R}`
                    ? Members<R, []>
                    : S extends `{${infer R}`
                      ? Members<R, [], '}'>
                      : never;

type Members<S extends string, Acc extends unknown[], Close extends string = ')'> = S extends `${Close}${infer R}`
  ? [Acc, R]
  : One<S> extends [infer T, infer R extends string]
    ? Members<R, [...Acc, T], Close>
    : never;

/** The decoded TypeScript type of GVariant type string `S` (`unknown` when S is not a literal). */
export type Decoded<S extends string> = string extends S ? unknown : One<S> extends [infer T, ''] ? T : never;

/** What `encode` accepts for type string `S`: as Decoded, but `x`/`t` also take number. */
export type Encodable<S extends string> = string extends S ? unknown : WidenBig<Decoded<S>>;

type WidenBig<T> = T extends bigint
  ? bigint | number
  : T extends Uint8Array
    ? Uint8Array
    : T extends Variant
      ? Variant
      : T extends readonly unknown[]
        ? { [K in keyof T]: WidenBig<T[K]> }
        : T;

/**
 * A decoded GVariant `v`: the contained value's type string and its decoded value.
 * `get()` narrows the value by asserting the type string. (Here, beside `Decoded`, because the
 * two types are defined by each other.)
 */
export class Variant<T = unknown> {
  readonly type: string;
  readonly value: T;

  constructor(type: string, value: T) {
    this.type = type;
    this.value = value;
  }

  /** The value, after checking that the variant holds type `type`. Throws ERR_GVARIANT_MALFORMED otherwise. */
  get<S extends string>(type: S): Decoded<S> {
    if (this.type !== type) {
      throw new FlathubFetchError(ErrorCodes.GVARIANT_MALFORMED, `variant holds type "${this.type}", expected "${type}"`, {
        type,
        offset: -1,
        reason: `variant holds ${this.type}`,
      });
    }
    return this.value as Decoded<S>;
  }

  /** The value if the variant holds `type`, else undefined. */
  tryGet<S extends string>(type: S): Decoded<S> | undefined {
    return this.type === type ? (this.value as Decoded<S>) : undefined;
  }
}
