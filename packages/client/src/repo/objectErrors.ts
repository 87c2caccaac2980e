/** The typed errors of bytes that are not the object they claim to be. */
import { FlathubFetchError, isFlathubFetchError } from '../errors/FlathubFetchError.js';
import { ErrorCodes } from '../errors/codes.js';
import type { Checksum } from '../formats/checksum.js';

/** Failures that mean the bytes are corrupt (as opposed to a policy limit, a disk error or a bug). */
const CORRUPTION: ReadonlySet<string> = new Set([
  ErrorCodes.FORMAT,
  ErrorCodes.DECOMPRESS,
  ErrorCodes.SIZE_LIMIT,
  ErrorCodes.GVARIANT_TRUNCATED,
  ErrorCodes.GVARIANT_MALFORMED,
]);

/** A decode failure of bytes claimed to be object `expected` → ERR_CHECKSUM_MISMATCH (policy limits and non-format errors pass through). */
export function undecodable(what: string, expected: Checksum, err: unknown): unknown {
  if (!isFlathubFetchError(err)) return err;
  const policyLimit = err.code === ErrorCodes.SIZE_LIMIT && Number(err.data.size) > Number(err.data.limit);
  if (policyLimit || !CORRUPTION.has(err.code)) return err;
  const reason = err.message.startsWith(`${what}: `) ? err.message.slice(what.length + 2) : err.message;
  return new FlathubFetchError(
    ErrorCodes.CHECKSUM_MISMATCH,
    `${what}: bytes do not decode as this object (${reason})`,
    { object: expected, expected, actual: null, reason },
    { cause: err },
  );
}

/** ERR_CHECKSUM_MISMATCH: the bytes decode, but hash to another object. */
export function mismatch(what: string, expected: Checksum, actual: Checksum): FlathubFetchError {
  return new FlathubFetchError(ErrorCodes.CHECKSUM_MISMATCH, `${what}: content hashes to ${actual}`, {
    object: expected,
    expected,
    actual,
  });
}
