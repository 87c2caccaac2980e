import { FlathubFetchError } from '../errors/FlathubFetchError.js';
import { ErrorCodes } from '../errors/codes.js';

/** ERR_FORMAT: a structure that decodes but breaks an OSTree/Flatpak rule. */
export function formatError(what: string, reason: string, extra: Record<string, unknown> = {}): FlathubFetchError {
  return new FlathubFetchError(ErrorCodes.FORMAT, `${what}: ${reason}`, { what, reason, ...extra });
}

/** Runs `fn`; a GVariant error is re-thrown with `what` (an object name or URL) prefixed to its message. */
export function withContext<T>(what: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof FlathubFetchError && !err.message.startsWith(what)) {
      throw new FlathubFetchError(err.code, `${what}: ${err.message}`, { ...err.data, what }, { cause: err.cause });
    }
    throw err;
  }
}
