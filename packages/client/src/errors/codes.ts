/**
 * Stable error codes. They are part of the public API: a code is never renamed or reused.
 * Each code's `data` shape is documented next to it.
 */
export const ErrorCodes = {
  /** Input ended before the value did. data: { type, offset, need, have } */
  GVARIANT_TRUNCATED: 'ERR_GVARIANT_TRUNCATED',
  /** Bytes are not a normal-form serialisation of the type. data: { type, offset, reason } */
  GVARIANT_MALFORMED: 'ERR_GVARIANT_MALFORMED',
  /** A GVariant type string is not valid. data: { type, offset } */
  GVARIANT_BAD_TYPE: 'ERR_GVARIANT_BAD_TYPE',
  /** A JS value does not fit the GVariant type it is encoded as. data: { type, path } */
  GVARIANT_BAD_VALUE: 'ERR_GVARIANT_BAD_VALUE',
  /** A checksum string or byte array is malformed. data: { value } */
  BAD_CHECKSUM: 'ERR_BAD_CHECKSUM',
  /** Content does not hash to the name it was fetched or produced as. data: { object?, url?, expected, actual } */
  CHECKSUM_MISMATCH: 'ERR_CHECKSUM_MISMATCH',
  /** An OSTree/Flatpak structure is well-formed GVariant but violates the format. data: { what, reason, object?, url? } */
  FORMAT: 'ERR_FORMAT',
  /** A declared size is larger than allowed or than the data. data: { what, size, limit } */
  SIZE_LIMIT: 'ERR_SIZE_LIMIT',
  /** A file or directory name in a tree is unsafe (/, .., NUL, empty). data: { name, object? } */
  UNSAFE_NAME: 'ERR_UNSAFE_NAME',
  /** Decompression failed. data: { what, format } */
  DECOMPRESS: 'ERR_DECOMPRESS',
  /** A delta op stream is invalid. data: { part?, offset, op, reason } */
  DELTA_OP: 'ERR_DELTA_OP',
  /** A bsdiff patch is invalid. data: { offset, reason } */
  BSPATCH: 'ERR_BSPATCH',
  /** A required object or file is absent. data: { what, url?, object? } */
  NOT_FOUND: 'ERR_NOT_FOUND',
  /** The server answered with an unexpected HTTP status. data: { url, status, purpose } */
  HTTP_STATUS: 'ERR_HTTP_STATUS',
  /** The request failed below HTTP (DNS, refused, reset, TLS). data: { url, purpose, cause } */
  NETWORK: 'ERR_NETWORK',
  /** No connection (TCP connect and TLS handshake) within the connect timeout. data: { url, purpose, timeout, attempts } */
  CONNECT_TIMEOUT: 'ERR_CONNECT_TIMEOUT',
  /** The request was sent but no response headers arrived within the first-byte timeout. data: { url, purpose, timeout, attempts } */
  FIRST_BYTE_TIMEOUT: 'ERR_FIRST_BYTE_TIMEOUT',
  /** A response body stopped arriving for longer than the body-stall timeout. data: { url, purpose, timeout, received, attempts } */
  BODY_STALL: 'ERR_BODY_STALL',
  /** A redirect was refused: another scheme, an https→http downgrade, a loop, too many hops, a bad Location. data: { url, location, reason, purpose } */
  REDIRECT: 'ERR_REDIRECT',
  /**
   * Requests were pending but none succeeded (nor received new body bytes) for the stall window
   * (`stallTimeout`): the server is down or unusable. data: { url, stallTimeout, pending, lastFailure }
   */
  STALLED: 'ERR_STALLED',
  /**
   * Only in a failed pull's partial result (`failedPullResult(err).failure.code`) when the error
   * was not a FlathubFetchError, i.e. a bug. No error is thrown with it. data: none
   */
  UNKNOWN: 'ERR_UNKNOWN',
  /** The operation was aborted through its AbortSignal. data: { url? } */
  ABORTED: 'ERR_ABORTED',
  /** A bad argument from the caller or the command line. data: { argument, value?, reason } */
  INVALID_ARGUMENT: 'ERR_INVALID_ARGUMENT',
  /** A filesystem operation on a local repository or checkout failed. data: { op, path, errno? } */
  FS: 'ERR_FS',
  /** Something to be created already exists, or a tree names one path twice. data: { path, reason } */
  PATH_CONFLICT: 'ERR_PATH_CONFLICT',
  /**
   * An object that is valid OSTree but cannot be stored in the local repository's mode (for
   * bare-user-only: an owner other than 0:0, extended attributes, or permission bits outside
   * 0775). data: { object, mode, reason }
   */
  UNSUPPORTED_OBJECT: 'ERR_UNSUPPORTED_OBJECT',
  /** A required OpenPGP signature is missing, bad, or made by a key that is not trusted. data: { what, url?, verdict, keyId?, reason } */
  SIGNATURE: 'ERR_SIGNATURE',
  /**
   * libostree's repository lock (or flatpak's `repo-lock`) could not be taken: no helper able to
   * take an fcntl lock (python3 or perl) or the helper failed. data: { path, reason }
   */
  LOCK: 'ERR_LOCK',
  /** The hand-over to `flatpak` failed: not found on PATH, or it exited non-zero. data: { command, exitCode, message } */
  FLATPAK: 'ERR_FLATPAK',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

/**
 * Failures of one transfer that another attempt, another request or another source can get
 * past: the network, the three timeouts, an HTTP status (a 404 too: a delta part missing on a
 * mirror leaves its objects to fetch). HttpClient retries the timeouts a transport throws with
 * these codes; a pull falls back from a failing delta part to its objects.
 */
export const TRANSIENT_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  ErrorCodes.NETWORK,
  ErrorCodes.CONNECT_TIMEOUT,
  ErrorCodes.FIRST_BYTE_TIMEOUT,
  ErrorCodes.BODY_STALL,
  ErrorCodes.HTTP_STATUS,
  ErrorCodes.NOT_FOUND,
]);

/**
 * Bytes that are not what they were named or declared to be: corrupt, cut short or malformed
 * (on the way or on the server). Other bytes for the same thing (the objects of a delta part,
 * another attempt) can still be right.
 */
export const CORRUPTION_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  ErrorCodes.CHECKSUM_MISMATCH,
  ErrorCodes.SIZE_LIMIT,
  ErrorCodes.DECOMPRESS,
  ErrorCodes.DELTA_OP,
  ErrorCodes.BSPATCH,
  ErrorCodes.FORMAT,
  ErrorCodes.GVARIANT_MALFORMED,
  ErrorCodes.GVARIANT_TRUNCATED,
]);
