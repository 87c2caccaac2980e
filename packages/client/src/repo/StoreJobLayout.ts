/**
 * How the objects of a content worker's `store` / `storeFilez` / `storeMetadata` job and its results travel
 * (shared by ContentCodec, which packs them, and the worker source, which reads them).
 */
/**
 * The objects of a `store` / `storeFilez` / `storeMetadata` job, packed so that posting a batch of thousands costs
 * a copy of two flat values instead of a structured clone of one record per object: `fields`
 * holds `STORE_FIELDS` / `FILEZ_FIELDS` / `METADATA_FIELDS` numbers per object (byte ranges are `[offset, length]`
 * pairs of the job's `data` unless said otherwise), `expected` every object's checksum, 64
 * characters each.
 */
export interface PackedItems {
  fields: Float64Array;
  expected: string;
}

/**
 * Numbers per object of a `store` job: its content (a range of `shared` when `inShared` is 1,
 * else of `data`), its framed checksum header, its `.filez` header (archive; length 0 for
 * bare-user-only), its permission bits, whether it is a symlink, and the symlink's target.
 */
export const StoreField = {
  offset: 0,
  length: 1,
  inShared: 2,
  headerOffset: 3,
  headerLength: 4,
  filezHeaderOffset: 5,
  filezHeaderLength: 6,
  mode: 7,
  symlink: 8,
  targetOffset: 9,
  targetLength: 10,
} as const;
export const STORE_FIELDS = 11;

/**
 * Numbers per object of a `storeFilez` job: the `.filez` as fetched, where its deflate payload
 * starts in it, the declared content size, its framed checksum header, permission bits, symlink
 * flag and target.
 */
export const FilezField = {
  offset: 0,
  length: 1,
  payloadOffset: 2,
  size: 3,
  headerOffset: 4,
  headerLength: 5,
  mode: 6,
  symlink: 7,
  targetOffset: 8,
  targetLength: 9,
} as const;
export const FILEZ_FIELDS = 10;

/**
 * Numbers per object of a `storeMetadata` job: its bytes (already verified by the caller) and
 * its object file's path (UTF-8), both ranges of `data`.
 */
export const MetadataField = {
  offset: 0,
  length: 1,
  destOffset: 2,
  destLength: 3,
} as const;
export const METADATA_FIELDS = 4;

export type StoreResult =
  | { status: 'ok' }
  | { status: 'mismatch'; checksum: string }
  | { status: 'fs'; syscall: string; path: string; code: string | undefined; message: string }
  | { status: 'too-large' | 'short' | 'zlib'; message: string; length?: number };

/**
 * Results of a `store` / `storeFilez` / `storeMetadata` job: `failed` lists `[index, result]` for the objects that
 * were not stored; every other object is `{ status: 'ok' }`.
 */
export interface PackedResults {
  count: number;
  failed: Array<[number, Exclude<StoreResult, { status: 'ok' }>]>;
}

const OK: StoreResult = Object.freeze({ status: 'ok' });

/** One result per object, in order. */
export function unpackResults(packed: PackedResults): StoreResult[] {
  const out = new Array<StoreResult>(packed.count).fill(OK);
  for (const [i, r] of packed.failed) out[i] = r;
  return out;
}
