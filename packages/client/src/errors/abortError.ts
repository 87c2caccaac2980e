/**
 * ERR_ABORTED, built one way everywhere: "WHAT: aborted", with the signal's reason (a caller's
 * AbortSignal.reason, the exporter's deadline, a stall) as its cause. Long operations check their
 * signal with `throwIfAborted` rather than `signal.throwIfAborted()`, which would throw the bare
 * reason (often a DOMException) instead of a FlathubFetchError.
 */
import { FlathubFetchError, isFlathubFetchError } from './FlathubFetchError.js';
import { ErrorCodes } from './codes.js';

/** Data of every ERR_ABORTED: what the operation was on (`{ url }` for requests). */
type AbortData = Readonly<Record<string, unknown>>;

/** ERR_ABORTED for `what`; `signal` (or anything with its `reason`) gives the cause. */
export function abortError(what: string, data: AbortData = {}, signal?: { readonly reason?: unknown }): FlathubFetchError {
  const reason: unknown = signal?.reason;
  return new FlathubFetchError(
    ErrorCodes.ABORTED,
    `${what}: aborted${why(reason)}`,
    data,
    reason === undefined ? undefined : { cause: reason },
  );
}

/** Throws ERR_ABORTED when `signal` has fired; `what` names the operation. */
export function throwIfAborted(signal: AbortSignal | undefined, what: string, data: AbortData = {}): void {
  if (signal?.aborted) throw abortError(what, data, signal);
}

/**
 * What an operation that failed throws: once its signal has fired, whatever broke on the way out
 * (a closed connection, a killed worker) becomes ERR_ABORTED with that error as its cause; an
 * ERR_ABORTED already, or any error while the signal has not fired, is returned unchanged.
 */
export function asAbortError(err: unknown, signal: AbortSignal | undefined, what: string, data: AbortData = {}): unknown {
  if (!signal?.aborted || isFlathubFetchError(err, ErrorCodes.ABORTED)) return err;
  return new FlathubFetchError(ErrorCodes.ABORTED, `${what}: aborted${why(signal.reason)}`, data, { cause: err });
}

/** " (the reason)" when the abort was given one (an Error or a string); nothing for a plain `abort()`. */
function why(reason: unknown): string {
  if (typeof reason === 'string' && reason !== '') return ` (${reason})`;
  if (reason instanceof Error && reason.name !== 'AbortError' && reason.message !== '') return ` (${reason.message})`;
  return '';
}
