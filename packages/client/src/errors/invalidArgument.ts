import { FlathubFetchError } from './FlathubFetchError.js';
import { ErrorCodes } from './codes.js';

/**
 * ERR_INVALID_ARGUMENT for a bad option or argument, the one way the library builds it:
 * "[context ]name: reason (got value)" on one line. `value` undefined (an argument that names
 * no value) leaves out "(got …)"; `context` says whose option it is ("HttpClient option").
 */
export function invalidArgument(argument: string, value: unknown, reason: string, context?: string): FlathubFetchError {
  const got = value === undefined ? '' : ` (got ${show(value)})`;
  return new FlathubFetchError(
    ErrorCodes.INVALID_ARGUMENT,
    `${context === undefined ? '' : `${context} `}${argument}: ${reason}${got}`,
    value === undefined ? { argument, reason } : { argument, value, reason },
  );
}

/** A value as the user wrote it: JSON where it has one (strings quoted), else its string form. */
function show(value: unknown): string {
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
