/** The ERR_ABORTED error for an aborted signal, naming what was being done. */
import { FlathubFetchError } from '../errors/FlathubFetchError.js';
import { ErrorCodes } from '../errors/codes.js';

export function abortError(what: string, data: Readonly<Record<string, unknown>>, signal?: AbortSignal): FlathubFetchError {
  const reason: unknown = signal?.reason;
  return new FlathubFetchError(ErrorCodes.ABORTED, `${what}: aborted`, data, reason === undefined ? undefined : { cause: reason });
}
