export { gv, type Schema } from './schema.js';
export { decode, type DecodeOptions } from './decode.js';
export { encode, ByteWriter, type EncodeOptions } from './encode.js';
export { parseType, isValidType, MAX_DEPTH, type GVariantType, type BasicTypeChar } from './GVariantType.js';
export { Variant } from './Variant.js';
export type { Decoded, Encodable } from './Decoded.js';
export { dictGet, vardictGet, dictToMap } from './dict.js';
