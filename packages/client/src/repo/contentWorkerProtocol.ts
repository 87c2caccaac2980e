/**
 * Messages between ContentWorkerPool (the caller's thread) and contentWorker.ts (the worker),
 * typed on both sides. Every request carries an `id` that its reply echoes; a worker answers its
 * requests in order.
 *
 * - `encode`: SHA-256 over the framed checksum header and the content; when it equals `expected`
 *   (or `expected` is null) and `compress` is set, also raw-deflate the content.
 * - `inflate`: inflate at most `size` bytes, require exactly `size`, hash header + content.
 * - `store`: objects packed as `PackedItems` / `StoreField` describe (StoreJobLayout.ts): each
 *   object's content is a range of `shared` (a view of a SharedArrayBuffer, not copied) or of
 *   `data` (one transferred buffer, which also holds the headers and symlink targets). Hash
 *   header + content; when that is the expected checksum, write the object to a new file in
 *   `tmpDir`, fsync it when asked, rename it to its object path under `objectsDir`. Archive
 *   (`bare` false): `XX/YYYY….filez` = `.filez` header + raw deflate of the content (nothing more
 *   for a symlink). bare-user-only (`bare` true): `XX/YYYY….file` = the content itself with its
 *   permission bits and mtime 0 (as libostree), or a symlink. The reply's `results` lists the
 *   objects not stored (the temporary file removed).
 * - `storeFilez` (`FilezField`): inflate each fetched `.filez`'s payload (exactly its declared
 *   size), hash header + content; when that is the expected checksum, write the `.filez` as
 *   received (archive) or the inflated content as for `store` (bare-user-only).
 * - `storeMetadata` (`MetadataField`): write each metadata object's bytes, which the caller has
 *   verified, to its object path (given; mode 0644 before the umask, in every repository mode),
 *   by the same temporary file and rename.
 */
import type { PackedItems, PackedResults } from './StoreJobLayout.ts';

/** Where and how a worker writes objects. */
export interface WorkerWriteOptions {
  objectsDir: string;
  tmpDir: string;
  fsync: boolean;
  /** Write bare-user-only objects (`.file`: the content, with its mode; symlinks as symlinks) instead of `.filez`. */
  bare: boolean;
  /**
   * The process's umask when the transaction began (null: unknown). A `.file` whose permission
   * bits it leaves alone is created with them, without a separate fchmod (one system call less
   * per object).
   */
  umask: number | null;
}

export type WorkerRequest =
  | { op: 'encode'; header: Uint8Array; content: Uint8Array; expected: string | null; compress: boolean; level: number }
  | { op: 'inflate'; header: Uint8Array; payload: Uint8Array; size: number; keep: boolean }
  | ({ op: 'store'; data: Uint8Array; shared: Uint8Array | null; level: number } & PackedItems & WorkerWriteOptions)
  | ({ op: 'storeFilez'; data: Uint8Array } & PackedItems & WorkerWriteOptions)
  | ({ op: 'storeMetadata'; data: Uint8Array } & PackedItems & WorkerWriteOptions);

export type WorkerReply =
  | { ok: true; checksum: string; data: Uint8Array | null; results?: PackedResults }
  | { ok: false; kind: 'too-large' | 'short' | 'zlib'; message: string; length?: number };
