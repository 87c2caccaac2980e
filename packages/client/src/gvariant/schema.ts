/**
 * `gv('(a{sv}aya(say)sstayay)')` — a typed codec for one GVariant type string. The type string
 * is parsed and compiled once; `decode`/`encode` carry the TypeScript type derived from it.
 */
import type { Decoded, Encodable } from './Decoded.js';
import { type DecodeOptions, decode } from './decode.js';
import { type EncodeOptions, encode } from './encode.js';
import { type GVariantType, parseType } from './GVariantType.js';

export interface Schema<S extends string> {
  readonly type: S;
  readonly info: GVariantType;
  decode(bytes: Uint8Array, options?: DecodeOptions): Decoded<S>;
  encode(value: Encodable<S>, options?: EncodeOptions): Uint8Array;
}

export function gv<const S extends string>(type: S): Schema<S> {
  const info = parseType(type);
  return {
    type,
    info,
    decode: (bytes, options) => decode(type, bytes, options),
    encode: (value, options) => encode(type, value, options),
  };
}
