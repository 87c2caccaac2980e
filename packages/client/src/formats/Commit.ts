/** OSTree commit objects: `(a{sv}aya(say)sstayay)`. */
import { gv } from '../gvariant/schema.js';
import type { Variant } from '../gvariant/Variant.js';
import { type Checksum, checksumFromBytes, checksumToBytes, sha256Hex } from './checksum.js';
import { bswap64 } from './endian.js';
import { formatError, withContext } from './formatError.js';

export const COMMIT_TYPE = '(a{sv}aya(say)sstayay)';
const schema = gv(COMMIT_TYPE);

export interface Commit {
  metadata: Array<[string, Variant]>;
  /** Parent commit, or null for a root commit. */
  parent: Checksum | null;
  related: Array<[string, Checksum]>;
  subject: string;
  body: string;
  /** Seconds since the epoch (stored big-endian). */
  timestamp: bigint;
  rootTree: Checksum;
  rootMeta: Checksum;
}

/** Decodes a commit object. `what` names it in errors (e.g. its checksum or URL). */
export function parseCommit(bytes: Uint8Array, what = 'commit'): Commit {
  return withContext(what, () => {
    const [metadata, parent, related, subject, body, ts, rootTree, rootMeta] = schema.decode(bytes);
    if (parent.length !== 0 && parent.length !== 32) throw formatError(what, `parent checksum has ${parent.length} bytes`);
    return {
      metadata,
      parent: parent.length === 0 ? null : checksumFromBytes(parent, 'parent'),
      related: related.map(([name, c]): [string, Checksum] => [name, checksumFromBytes(c, 'related commit')]),
      subject,
      body,
      timestamp: bswap64(ts),
      rootTree: checksumFromBytes(rootTree, 'root dirtree'),
      rootMeta: checksumFromBytes(rootMeta, 'root dirmeta'),
    };
  });
}

export function serializeCommit(c: Commit): Uint8Array {
  return schema.encode([
    c.metadata,
    c.parent === null ? new Uint8Array(0) : checksumToBytes(c.parent),
    c.related.map(([n, r]) => [n, checksumToBytes(r)] as [string, Uint8Array]),
    c.subject,
    c.body,
    bswap64(c.timestamp),
    checksumToBytes(c.rootTree),
    checksumToBytes(c.rootMeta),
  ]);
}

/** The checksum of a metadata object is the SHA-256 of its bytes. */
export function metadataChecksum(bytes: Uint8Array): Checksum {
  return sha256Hex(bytes);
}
