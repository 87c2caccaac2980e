/**
 * The one error base class of flathub-fetch. Every error the library throws on purpose is
 * a `FlathubFetchError` with a stable `code` and structured `data`; the message is one line
 * naming the URL, object or argument and the cause.
 *
 * `instanceof` works across duplicate copies of the package (a `Symbol.for` brand), and
 * `toJSON()` gives a plain object for reports.
 */
import type { ErrorCode } from './codes.js';

const BRAND = Symbol.for('flathub-fetch.error');

export class FlathubFetchError<
  C extends ErrorCode = ErrorCode,
  D extends Readonly<Record<string, unknown>> = Readonly<Record<string, unknown>>,
> extends Error {
  readonly code: C;
  readonly data: D;

  constructor(code: C, message: string, data: D, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.data = data;
    Object.defineProperty(this, BRAND, { value: true });
  }

  override get name(): string {
    return 'FlathubFetchError';
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
  }

  toJSON(): { name: string; code: C; message: string; data: D; cause?: unknown } {
    const out: { name: string; code: C; message: string; data: D; cause?: unknown } = {
      name: this.name,
      code: this.code,
      message: this.message,
      data: jsonSafe(this.data) as D,
    };
    if (this.cause !== undefined) {
      out.cause = this.cause instanceof FlathubFetchError ? this.cause.toJSON() : String(this.cause);
    }
    return out;
  }
}

function jsonSafe(value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('hex');
  if (Array.isArray(value)) return value.map(jsonSafe);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, jsonSafe(v)]));
  }
  return value;
}

/** True when `value` is a FlathubFetchError, optionally with the given code. */
export function isFlathubFetchError<C extends ErrorCode>(value: unknown, code?: C): value is FlathubFetchError<C> {
  return value instanceof FlathubFetchError && (code === undefined || value.code === code);
}
