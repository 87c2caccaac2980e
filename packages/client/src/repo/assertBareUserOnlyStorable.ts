/**
 * The rule of a `bare-user-only` repository (Flatpak's mode for per-user installations): objects
 * are stored as plain files with their permission bits, so an object is only storable when the
 * file itself says everything its checksum covers — owner 0:0, no extended attributes, and
 * (regular files) no permission bits outside 0775, as libostree requires. Anything else could
 * never verify after being stored (`ostree fsck` would report it corrupt), so it is refused.
 */
import { FlathubFetchError } from '../errors/FlathubFetchError.js';
import { ErrorCodes } from '../errors/codes.js';
import { type FileInfo, isRegular } from '../formats/FileHeader.js';

export function assertBareUserOnlyStorable(info: FileInfo, checksum: string): void {
  let reason: string | null = null;
  if (info.uid !== 0 || info.gid !== 0) reason = `owner ${info.uid}:${info.gid} is not 0:0`;
  else if (info.xattrs.length > 0) reason = `it has ${info.xattrs.length} extended attribute(s)`;
  else if (isRegular(info) && (info.mode & 0o7777 & ~0o775) !== 0) {
    reason = `mode 0${(info.mode & 0o7777).toString(8)} has bits outside 0775`;
  }
  if (reason === null) return;
  throw new FlathubFetchError(
    ErrorCodes.UNSUPPORTED_OBJECT,
    `file ${checksum} cannot be stored in a bare-user-only repository: ${reason}`,
    {
      object: checksum,
      mode: info.mode,
      reason,
    },
  );
}
