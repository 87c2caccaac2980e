/**
 * Ref and remote names → paths under `refs/`. Names follow ostree's rules (ref: fragments of
 * `[-._A-Za-z0-9]` separated by single `/`; remote: one such fragment), and additionally no
 * fragment may be `.` or `..`, so a name can never reach a file outside `refs/`.
 */
import { FlathubFetchError } from '../errors/FlathubFetchError.js';
import { ErrorCodes } from '../errors/codes.js';

const FRAGMENT = /^[-._A-Za-z0-9]+$/;

export interface RefLocation {
  /** Pulled from this remote: `refs/remotes/<remote>/<ref>`; else `refs/heads/<ref>`. */
  remote?: string;
}

/** Throws ERR_INVALID_ARGUMENT unless `name` is a valid ref (or, with `argument: 'remote'`, remote) name. */
export function assertRefName(name: string, argument: 'ref' | 'remote' = 'ref'): void {
  const bad = (reason: string): never => {
    throw new FlathubFetchError(ErrorCodes.INVALID_ARGUMENT, `invalid ${argument} name ${JSON.stringify(name)}: ${reason}`, {
      argument,
      value: name,
      reason,
    });
  };
  if (name.length === 0) bad('empty');
  if (argument === 'remote' && name.includes('/')) bad('"/" is not allowed');
  for (const f of name.split('/')) {
    if (f.length === 0) bad('empty path component');
    if (f === '.' || f === '..') bad(`"${f}" is not allowed`);
    if (!FRAGMENT.test(f)) bad('only A-Z a-z 0-9 - . _ and / are allowed');
  }
}

/** Relative path of the ref file, e.g. `refs/remotes/flathub/app/org.x.Y/x86_64/stable`. */
export function refPath(ref: string, location: RefLocation = {}): string {
  assertRefName(ref);
  if (location.remote === undefined) return `refs/heads/${ref}`;
  assertRefName(location.remote, 'remote');
  return `refs/remotes/${location.remote}/${ref}`;
}
