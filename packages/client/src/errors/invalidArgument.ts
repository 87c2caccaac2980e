import { FlathubFetchError } from './FlathubFetchError.js';
import { ErrorCodes } from './codes.js';

/** ERR_INVALID_ARGUMENT for an option: "name: reason (got value)". */
export function invalidArgument(argument: string, value: unknown, reason: string): FlathubFetchError {
  return new FlathubFetchError(ErrorCodes.INVALID_ARGUMENT, `${argument}: ${reason} (got ${JSON.stringify(value)})`, {
    argument,
    value,
    reason,
  });
}
