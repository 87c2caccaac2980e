/** OSTree dirmeta objects: `(uuua(ayay))` — uid, gid, mode (big-endian) and xattrs. */
import { gv } from '../gvariant/schema.js';
import { bswap32 } from './endian.js';
import { withContext } from './formatError.js';
import type { Xattrs } from './FileHeader.js';

export const DIRMETA_TYPE = '(uuua(ayay))';
const schema = gv(DIRMETA_TYPE);

export interface DirMeta {
  uid: number;
  gid: number;
  /** Full st_mode, including S_IFDIR. */
  mode: number;
  xattrs: Xattrs;
}

export function parseDirMeta(bytes: Uint8Array, what = 'dirmeta'): DirMeta {
  return withContext(what, () => {
    const [uid, gid, mode, xattrs] = schema.decode(bytes);
    return { uid: bswap32(uid), gid: bswap32(gid), mode: bswap32(mode), xattrs };
  });
}

export function serializeDirMeta(m: DirMeta): Uint8Array {
  return schema.encode([bswap32(m.uid), bswap32(m.gid), bswap32(m.mode), m.xattrs]);
}
