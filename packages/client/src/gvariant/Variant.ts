/**
 * A decoded GVariant `v`: the contained value's type string and its decoded value.
 * `get()` narrows the value by asserting the type string.
 */
import { FlathubFetchError } from '../errors/FlathubFetchError.js';
import { ErrorCodes } from '../errors/codes.js';
import type { Decoded } from './Decoded.js';

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
