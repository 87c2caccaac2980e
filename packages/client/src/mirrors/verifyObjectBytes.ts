import { type Checksum, sha256Hex } from '../formats/checksum.js';
import { filezChecksum } from '../formats/Filez.js';
import { ObjectType } from '../formats/ObjectType.js';

/** The checksum the bytes of a loose archive object hash to (`.filez`: its content checksum), or the error that prevented it. */
export function objectChecksum(type: ObjectType, bytes: Uint8Array, what: string): { checksum: Checksum | null; error: string | null } {
  try {
    return { checksum: type === ObjectType.FILE ? filezChecksum(bytes, what) : sha256Hex(bytes), error: null };
  } catch (err) {
    return { checksum: null, error: (err as Error).message };
  }
}
