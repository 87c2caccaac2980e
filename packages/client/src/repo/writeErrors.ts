/** The errors of the repository's write paths for bytes that are not the object they claim to be. */
import { FlathubFetchError, isFlathubFetchError } from '../errors/FlathubFetchError.js';
import { ErrorCodes } from '../errors/codes.js';
import type { Checksum } from '../formats/checksum.js';
import { fsError } from './fsError.js';

/** A decode failure of bytes claimed to be object `expected` → ERR_CHECKSUM_MISMATCH (policy limits and non-format errors pass through). */
export function undecodable(what: string, expected: Checksum, err: unknown): unknown {
  if (!isFlathubFetchError(err)) return err;
  const policyLimit = err.code === ErrorCodes.SIZE_LIMIT && Number(err.data.size) > Number(err.data.limit);
  const corruption = (
    [
      ErrorCodes.FORMAT,
      ErrorCodes.DECOMPRESS,
      ErrorCodes.SIZE_LIMIT,
      ErrorCodes.GVARIANT_TRUNCATED,
      ErrorCodes.GVARIANT_MALFORMED,
    ] as string[]
  ).includes(err.code);
  if (policyLimit || !corruption) return err;
  const reason = err.message.startsWith(`${what}: `) ? err.message.slice(what.length + 2) : err.message;
  return new FlathubFetchError(
    ErrorCodes.CHECKSUM_MISMATCH,
    `${what}: bytes do not decode as this object (${reason})`,
    { object: expected, expected, actual: null, reason },
    { cause: err },
  );
}

/** ERR_FS for a file operation a content worker reported failing. */
export function workerFsError(r: { syscall: string; path: string; code: string | undefined; message: string }): FlathubFetchError {
  return fsError(r.syscall, r.path, Object.assign(new Error(r.message), { code: r.code }));
}

export function mismatch(what: string, expected: Checksum, actual: Checksum): FlathubFetchError {
  return new FlathubFetchError(ErrorCodes.CHECKSUM_MISMATCH, `${what}: content hashes to ${actual}`, {
    object: expected,
    expected,
    actual,
  });
}
