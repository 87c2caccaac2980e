/** OSTree object types (OstreeObjectType), their numeric codes and loose-object file extensions. */
import { FlathubFetchError } from '../errors/FlathubFetchError.js';
import { ErrorCodes } from '../errors/codes.js';

export const ObjectType = {
  FILE: 1,
  DIR_TREE: 2,
  DIR_META: 3,
  COMMIT: 4,
  TOMBSTONE_COMMIT: 5,
  COMMIT_META: 6,
  PAYLOAD_LINK: 7,
  FILE_XATTRS: 8,
  FILE_XATTRS_LINK: 9,
} as const;

export type ObjectType = (typeof ObjectType)[keyof typeof ObjectType];

/** The type names ostree uses in object paths and messages. */
export type ObjectTypeName =
  | 'file'
  | 'dirtree'
  | 'dirmeta'
  | 'commit'
  | 'tombstone-commit'
  | 'commitmeta'
  | 'payload-link'
  | 'file-xattrs'
  | 'file-xattrs-link';

const NAMES: Record<ObjectType, ObjectTypeName> = {
  1: 'file',
  2: 'dirtree',
  3: 'dirmeta',
  4: 'commit',
  5: 'tombstone-commit',
  6: 'commitmeta',
  7: 'payload-link',
  8: 'file-xattrs',
  9: 'file-xattrs-link',
};

export function objectTypeName(type: ObjectType): ObjectTypeName {
  return NAMES[type];
}

export function objectTypeFromByte(byte: number, what = 'object type'): ObjectType {
  if (byte >= 1 && byte <= 9) return byte as ObjectType;
  throw new FlathubFetchError(ErrorCodes.FORMAT, `${what} ${byte} is not an OSTree object type`, {
    what,
    reason: `unknown object type ${byte}`,
  });
}

/** True for the metadata object types whose checksum is the SHA-256 of their serialised bytes. */
export function isMetadataType(type: ObjectType): boolean {
  return type !== ObjectType.FILE;
}
