/** ERR_FS: a filesystem call on a repository or checkout failed; names the operation and the path. */
import { FlathubFetchError } from '../errors/FlathubFetchError.js';
import { ErrorCodes } from '../errors/codes.js';

export function fsError(op: string, path: string, err: unknown): FlathubFetchError {
  if (err instanceof FlathubFetchError) return err;
  const errno = (err as NodeJS.ErrnoException | undefined)?.code;
  const reason = err instanceof Error ? err.message : String(err);
  return new FlathubFetchError(
    ErrorCodes.FS,
    `${op} ${path}: ${reason}`,
    { op, path, ...(errno === undefined ? {} : { errno }) },
    { cause: err },
  );
}

/** The errno code of a Node.js system error, if any. */
export function errnoOf(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}
