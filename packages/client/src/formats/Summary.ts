/**
 * The repository summary: `(a(s(taya{sv}))a{sv})` — refs with their commit, commit size and
 * per-ref metadata, plus repository metadata (static deltas, collection map, Flatpak caches).
 * Also used for Flatpak subsummaries (`summaries/<sha>.gz`, uncompressed).
 */
import { FlathubFetchError } from '../errors/FlathubFetchError.js';
import { gv } from '../gvariant/schema.js';
import type { Variant } from '../gvariant/Variant.js';
import { type Checksum, checksumFromBytes } from './checksum.js';
import { bswap64 } from './endian.js';
import { formatError, withContext } from './formatError.js';
import { lookup, lookupBigEndianU64, lookupBool, lookupString, lookupTyped, parseDeltaDigests, type VarDict } from './VarDict.js';

export const SUMMARY_TYPE = '(a(s(taya{sv}))a{sv})';
const schema = gv(SUMMARY_TYPE);

type RawRefs = Array<[string, [bigint, Uint8Array, VarDict]]>;

/** Flatpak's per-ref sizes and metadata keyfile (`xa.cache` / `xa.data`). */
export interface FlatpakRefData {
  installedSize: bigint;
  downloadSize: bigint;
  /** The app/runtime `metadata` keyfile text. */
  metadata: string;
}

export interface SummaryRef {
  name: string;
  commit: Checksum;
  /** Size of the commit object in bytes (host order, as libostree uses it for a fetch bound). */
  commitSize: bigint;
  /** `ostree.commit.timestamp`, or Flatpak's `ot.ts`, in seconds. */
  timestamp: bigint | null;
  version: string | null;
  /** `xa.data` in subsummaries, or the entry of the compat summary's `xa.cache`. */
  flatpak: FlatpakRefData | null;
  /**
   * Flatpak sparse per-ref keys: the compat summary's `xa.sparse-cache` entry, or in a subsummary
   * the ref's own keys other than `xa.data`, `ot.ts` and `ostree.*` (flatpak 1.14 writes `eol`,
   * `eolr`, `tokt`, … there, unprefixed).
   */
  sparse: VarDict;
  /** The collection this ref belongs to (null for the main collection when none is set). */
  collectionId: string | null;
  metadata: VarDict;
}

export interface Summary {
  /** Refs of the main collection, sorted as in the file. */
  refs: SummaryRef[];
  /** Refs of other collections (`ostree.summary.collection-map`). */
  collections: Map<string, SummaryRef[]>;
  /** Static delta name (`TO` or `FROM-TO`) → SHA-256 of its superblock. */
  deltas: Map<string, Checksum>;
  lastModified: bigint | null;
  expires: bigint | null;
  mode: string | null;
  collectionId: string | null;
  indexedDeltas: boolean;
  tombstoneCommits: boolean;
  title: string | null;
  comment: string | null;
  /** `xa.gpg-keys`: the repository's public keys, binary. */
  gpgKeys: Uint8Array | null;
  metadata: VarDict;
}

export function parseSummary(bytes: Uint8Array, what = 'summary'): Summary {
  return withContext(what, () => {
    const [rawRefs, metadata] = schema.decode(bytes);
    const collectionId = lookupString(metadata, 'ostree.summary.collection-id', what) ?? null;
    const xaCache = parseXaCache(metadata, what);
    const sparseCache = parseSparseCache(metadata, what);
    const refs = parseRefs(rawRefs, collectionId, xaCache, sparseCache, what);
    const collections = new Map<string, SummaryRef[]>();
    const map = lookupTyped<Array<[string, RawRefs]>>(metadata, 'ostree.summary.collection-map', 'a{sa(s(taya{sv}))}', what);
    for (const [cid, list] of map ?? []) collections.set(cid, parseRefs(list, cid, xaCache, sparseCache, what));
    const gpg = lookupTyped<Uint8Array>(metadata, 'xa.gpg-keys', 'ay', what);
    return {
      refs,
      collections,
      deltas: parseDeltaDigests(metadata, what),
      lastModified: lookupBigEndianU64(metadata, 'ostree.summary.last-modified', what) ?? null,
      expires: lookupBigEndianU64(metadata, 'ostree.summary.expires', what) ?? null,
      mode: lookupString(metadata, 'ostree.summary.mode', what) ?? null,
      collectionId,
      indexedDeltas: lookupBool(metadata, 'ostree.summary.indexed-deltas', what) ?? false,
      tombstoneCommits: lookupBool(metadata, 'ostree.summary.tombstone-commits', what) ?? false,
      title: lookupString(metadata, 'xa.title', what) ?? null,
      comment: lookupString(metadata, 'xa.comment', what) ?? null,
      gpgKeys: gpg ?? null,
      metadata,
    };
  });
}

function parseRefs(
  raw: RawRefs,
  collectionId: string | null,
  xaCache: Map<string, FlatpakRefData>,
  sparseCache: Map<string, VarDict>,
  what: string,
): SummaryRef[] {
  return raw.map(([name, [commitSize, csum, md]]) => {
    // Per-ref labels are built only when something fails (thousands of refs, most of the time none).
    try {
      const xaData = lookupTyped<[bigint, bigint, string]>(md, 'xa.data', '(tts)', what);
      const ts = lookupBigEndianU64(md, 'ostree.commit.timestamp', what) ?? lookupBigEndianU64(md, 'ot.ts', what) ?? null;
      let sparse = sparseCache.get(name);
      if (sparse === undefined) {
        sparse = [];
        for (const entry of md) if (isSparseKey(entry[0])) sparse.push(entry);
      }
      return {
        name,
        commit: checksumFromBytes(csum, 'commit'),
        commitSize,
        timestamp: ts,
        version: lookupString(md, 'ostree.commit.version', what) ?? null,
        flatpak: xaData !== undefined ? toRefData(xaData) : (xaCache.get(name) ?? null),
        sparse,
        collectionId,
        metadata: md,
      };
    } catch (err) {
      throw withRef(err, name);
    }
  });
}

function isSparseKey(key: string): boolean {
  return key !== 'xa.data' && key !== 'ot.ts' && !key.startsWith('ostree.');
}

/** Re-labels an error raised while reading one ref so that it names the ref. */
function withRef(err: unknown, name: string): unknown {
  if (!(err instanceof FlathubFetchError)) return err;
  return new FlathubFetchError(err.code, `ref ${name}: ${err.message}`, { ...err.data, ref: name }, { cause: err.cause });
}

function toRefData([installed, download, metadata]: [bigint, bigint, string]): FlatpakRefData {
  return { installedSize: bswap64(installed), downloadSize: bswap64(download), metadata };
}

/** Unwraps nested variants until a value of `type` appears (xa.cache is `v` holding `v`…). */
function unwrap(v: Variant | undefined, type: string, depth = 0): unknown {
  if (v === undefined) return undefined;
  if (v.type === type) return v.value;
  if (v.type === 'v' && depth < 4) return unwrap(v.value as Variant, type, depth + 1);
  return null;
}

function parseXaCache(md: VarDict, what: string): Map<string, FlatpakRefData> {
  const out = new Map<string, FlatpakRefData>();
  const raw = unwrap(lookup(md, 'xa.cache'), 'a{s(tts)}');
  if (raw === undefined) return out;
  if (raw === null) throw formatError(what, 'xa.cache does not hold a{s(tts)}');
  for (const [ref, data] of raw as Array<[string, [bigint, bigint, string]]>) out.set(ref, toRefData(data));
  return out;
}

function parseSparseCache(md: VarDict, what: string): Map<string, VarDict> {
  const raw = lookupTyped<Array<[string, VarDict]>>(md, 'xa.sparse-cache', 'a{sa{sv}}', what);
  return new Map(raw ?? []);
}

/** Finds a ref in the main collection or, with `collectionId`, in the collection map. */
export function findRef(summary: Summary, name: string, collectionId?: string | null): SummaryRef | undefined {
  if (collectionId === undefined || collectionId === null || collectionId === summary.collectionId) {
    const hit = summary.refs.find((r) => r.name === name);
    if (hit !== undefined || collectionId === undefined || collectionId === null) return hit;
  }
  return summary.collections.get(collectionId)?.find((r) => r.name === name);
}
