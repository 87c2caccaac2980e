/** `Variant` (a decoded GVariant `v`) lives in Decoded.ts, beside the type it is defined with. */
export { Variant } from './Decoded.js';
