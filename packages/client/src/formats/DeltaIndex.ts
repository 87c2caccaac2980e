/** Static-delta index files (`delta-indexes/XX/REST.index`): `a{sv}` with `ostree.static-deltas`. */
import { gv } from '../gvariant/schema.js';
import type { Checksum } from './checksum.js';
import { withContext } from './formatError.js';
import { parseDeltaDigests } from './VarDict.js';

const schema = gv('a{sv}');

/** Delta name (`TO` or `FROM-TO`) → SHA-256 of the superblock. */
export function parseDeltaIndex(bytes: Uint8Array, what = 'delta index'): Map<string, Checksum> {
  return withContext(what, () => parseDeltaDigests(schema.decode(bytes), what));
}
