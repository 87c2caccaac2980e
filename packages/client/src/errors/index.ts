export { FlathubFetchError, isFlathubFetchError } from './FlathubFetchError.js';
export { ErrorCodes, type ErrorCode } from './codes.js';
