/**
 * Relative paths of everything in an OSTree repository, as served over HTTP and as stored
 * in an archive repo: loose objects, refs, static deltas and their indexes, Flatpak summaries.
 */
import { type Checksum, parseChecksum, toModifiedBase64 } from './checksum.js';
import { type ObjectType, objectTypeName } from './ObjectType.js';
import { ObjectType as T } from './ObjectType.js';

/** `objects/ab/cdef….<ext>`. Content objects are `.filez` in archive repos and `.file` in bare ones. */
export function objectPath(checksum: string, type: ObjectType, mode: 'archive' | 'bare' = 'archive'): string {
  const c = parseChecksum(checksum);
  return `objects/${c.slice(0, 2)}/${c.slice(2)}.${objectExtension(type, mode)}`;
}

export function objectExtension(type: ObjectType, mode: 'archive' | 'bare' = 'archive'): string {
  if (type === T.FILE) return mode === 'archive' ? 'filez' : 'file';
  if (type === T.TOMBSTONE_COMMIT) return 'commit-tombstone';
  return objectTypeName(type);
}

/** Directory of a static delta, with trailing slash: `deltas/XX/REST/` or `deltas/XX/REST-TO/`. */
export function deltaDirectory(from: Checksum | null, to: Checksum): string {
  const t = toModifiedBase64(to);
  if (from === null) return `deltas/${t.slice(0, 2)}/${t.slice(2)}/`;
  const f = toModifiedBase64(from);
  return `deltas/${f.slice(0, 2)}/${f.slice(2)}-${t}/`;
}

export function deltaSuperblockPath(from: Checksum | null, to: Checksum): string {
  return `${deltaDirectory(from, to)}superblock`;
}

export function deltaPartPath(from: Checksum | null, to: Checksum, part: number): string {
  return `${deltaDirectory(from, to)}${part}`;
}

/** `delta-indexes/XX/REST.index` for deltas that end at `to`. */
export function deltaIndexPath(to: Checksum): string {
  const t = toModifiedBase64(to);
  return `delta-indexes/${t.slice(0, 2)}/${t.slice(2)}.index`;
}

/** Delta names as used in summaries and indexes: `TO` (from scratch) or `FROM-TO`, hex. */
export function deltaName(from: Checksum | null, to: Checksum): string {
  return from === null ? to : `${from}-${to}`;
}

export function parseDeltaName(name: string): { from: Checksum | null; to: Checksum } {
  const dash = name.indexOf('-');
  if (dash === -1) return { from: null, to: parseChecksum(name, 'delta name') };
  return { from: parseChecksum(name.slice(0, dash), 'delta name'), to: parseChecksum(name.slice(dash + 1), 'delta name') };
}

export function subsummaryPath(checksum: Checksum): string {
  return `summaries/${parseChecksum(checksum)}.gz`;
}

export function summaryDeltaPath(from: Checksum, to: Checksum): string {
  return `summaries/${parseChecksum(from)}-${parseChecksum(to)}.delta`;
}
