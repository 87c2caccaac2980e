/**
 * Flatpak's indexed summary `summary.idx`: `(a{s(ayaaya{sv})}a{sv})` — for each subset/arch
 * key, the SHA-256 of its uncompressed subsummary and older checksums (newest first) that
 * summary deltas can start from.
 */
import { gv } from '../gvariant/schema.js';
import { type Checksum, checksumFromBytes } from './checksum.js';
import { formatError, withContext } from './formatError.js';
import { lookupBigEndianU64, lookupString, type VarDict } from './VarDict.js';

export const SUMMARY_INDEX_TYPE = '(a{s(ayaaya{sv})}a{sv})';
const schema = gv(SUMMARY_INDEX_TYPE);

export interface SubsummaryEntry {
  /** The index key: `<arch>` or `<subset>-<arch>`. */
  key: string;
  subset: string | null;
  arch: string;
  checksum: Checksum;
  /** Older subsummary checksums, newest first. */
  history: Checksum[];
  metadata: VarDict;
}

export interface SummaryIndex {
  subsummaries: SubsummaryEntry[];
  lastModified: bigint | null;
  mode: string | null;
  collectionId: string | null;
  metadata: VarDict;
}

/** Splits an index key at the first '-': `stable-x86_64` → subset "stable", arch "x86_64". */
export function splitSubsummaryKey(key: string): { subset: string | null; arch: string } {
  const dash = key.indexOf('-');
  return dash === -1 ? { subset: null, arch: key } : { subset: key.slice(0, dash), arch: key.slice(dash + 1) };
}

export function parseSummaryIndex(bytes: Uint8Array, what = 'summary.idx'): SummaryIndex {
  return withContext(what, () => {
    const [entries, metadata] = schema.decode(bytes);
    const subsummaries = entries.map(([key, [csum, history, md]]): SubsummaryEntry => {
      if (key.length === 0) throw formatError(what, 'empty subsummary key');
      return {
        key,
        ...splitSubsummaryKey(key),
        checksum: checksumFromBytes(csum, `checksum of subsummary ${key}`),
        history: history.map((h) => checksumFromBytes(h, `history of subsummary ${key}`)),
        metadata: md,
      };
    });
    return {
      subsummaries,
      lastModified: lookupBigEndianU64(metadata, 'ostree.summary.last-modified', what) ?? null,
      mode: lookupString(metadata, 'ostree.summary.mode', what) ?? null,
      collectionId: lookupString(metadata, 'ostree.summary.collection-id', what) ?? null,
      metadata,
    };
  });
}

/** The subsummary for `arch` and optional `subset` (no subset = the full one for that arch). */
export function findSubsummary(index: SummaryIndex, arch: string, subset: string | null = null): SubsummaryEntry | undefined {
  return index.subsummaries.find((s) => s.arch === arch && s.subset === subset);
}
