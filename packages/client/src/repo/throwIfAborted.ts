/** ERR_ABORTED when `signal` has fired; `what` names the operation. */
import { FlathubFetchError } from '../errors/FlathubFetchError.js';
import { ErrorCodes } from '../errors/codes.js';

export function throwIfAborted(signal: AbortSignal | undefined, what: string): void {
  if (signal?.aborted) {
    throw new FlathubFetchError(ErrorCodes.ABORTED, `${what}: aborted`, {}, { cause: signal.reason });
  }
}
