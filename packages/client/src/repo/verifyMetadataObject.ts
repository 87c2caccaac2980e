/**
 * Checks bytes claimed to be metadata object `checksum` of `type` before they are stored:
 * SHA-256 must equal the name (ERR_CHECKSUM_MISMATCH), and the bytes must decode as that type
 * in normal form (the decoder's ERR_GVARIANT_* / ERR_FORMAT / ERR_UNSAFE_NAME). A dirmeta must
 * describe a directory. Detached metadata (`.commitmeta`) is named after its commit, so only
 * its `a{sv}` shape is checked (`verifyCommitMeta`).
 */
import { FlathubFetchError } from '../errors/FlathubFetchError.js';
import { ErrorCodes } from '../errors/codes.js';
import { gv } from '../gvariant/schema.js';
import { type Checksum, sha256Hex } from '../formats/checksum.js';
import { parseCommit } from '../formats/Commit.js';
import { parseDirMeta } from '../formats/DirMeta.js';
import { parseDirTree } from '../formats/DirTree.js';
import { S_IFDIR, S_IFMT } from '../formats/FileHeader.js';
import { formatError, withContext } from '../formats/formatError.js';
import { ObjectType, objectTypeName } from '../formats/ObjectType.js';

const commitMetaSchema = gv('a{sv}');

export function verifyMetadataObject(type: ObjectType, checksum: Checksum, bytes: Uint8Array): void {
  const what = `${objectTypeName(type)} ${checksum}`;
  if (type !== ObjectType.COMMIT && type !== ObjectType.DIR_TREE && type !== ObjectType.DIR_META) {
    throw new FlathubFetchError(ErrorCodes.INVALID_ARGUMENT, `${what}: not a metadata object type that can be written here`, {
      argument: 'type',
      value: type,
      reason: 'expected commit, dirtree or dirmeta',
    });
  }
  const actual = sha256Hex(bytes);
  if (actual !== checksum) {
    throw new FlathubFetchError(ErrorCodes.CHECKSUM_MISMATCH, `${what}: bytes hash to ${actual}`, {
      object: checksum,
      expected: checksum,
      actual,
    });
  }
  if (type === ObjectType.COMMIT) {
    parseCommit(bytes, what);
  } else if (type === ObjectType.DIR_TREE) {
    parseDirTree(bytes, what);
  } else {
    const m = parseDirMeta(bytes, what);
    if ((m.mode & S_IFMT) !== S_IFDIR) throw formatError(what, `mode 0${m.mode.toString(8)} is not a directory`, { object: checksum });
  }
}

/** `.commitmeta` must be a normal-form `a{sv}`. */
export function verifyCommitMeta(commit: Checksum, bytes: Uint8Array): void {
  withContext(`commitmeta ${commit}`, () => commitMetaSchema.decode(bytes));
}
