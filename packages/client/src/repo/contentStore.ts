/**
 * The object writes of `store`, `storeFilez` and `storeMetadata` jobs (protocol in
 * contentWorkerProtocol.ts): hash, (de)compress, write to a temporary file, rename into
 * `objects/`. Synchronous, built-ins only: run by the content workers (contentWorker.ts), and
 * on the calling thread for the few objects of a small pull, where starting worker threads
 * would cost more than the work (see ContentCodec).
 */
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as zlib from 'node:zlib';
// `.ts` specifiers (rewritten to `.js` in the build): in a content worker run from the sources,
// as the tests do, this file is loaded by Node.js itself (type stripping), which does not map
// `.js` to `.ts`.
import { exactInflateOptions } from '../formats/inflateOptions.ts';
import type { WorkerRequest, WorkerWriteOptions } from './contentWorkerProtocol.ts';
import {
  FILEZ_FIELDS,
  FilezField as F,
  METADATA_FIELDS,
  MetadataField as M,
  type PackedResults,
  STORE_FIELDS,
  StoreField as S,
  type StoreResult,
} from './StoreJobLayout.ts';
import { THREAD_TMP_PREFIX } from './threadTmp.ts';

type Failure = Exclude<StoreResult, { status: 'ok' }>;
type StoreRequest = Extract<WorkerRequest, { op: 'store' }>;
type StoreFilezRequest = Extract<WorkerRequest, { op: 'storeFilez' }>;
type StoreMetadataRequest = Extract<WorkerRequest, { op: 'storeMetadata' }>;

export function inflateExact(payload: Uint8Array, size: number): Uint8Array {
  return payload.length === 0 ? new Uint8Array(0) : zlib.inflateRawSync(payload, exactInflateOptions(size));
}

const range = (m: { data: Uint8Array }, offset: number, length: number) => m.data.subarray(offset, offset + length);
const field = (f: Float64Array, i: number) => f[i] as number;

function storeOne(m: StoreRequest, i: number): Failure | null {
  const f = m.fields;
  const b = i * STORE_FIELDS;
  const expected = m.expected.slice(i * 64, i * 64 + 64);
  const offset = field(f, b + S.offset);
  const length = field(f, b + S.length);
  const content =
    field(f, b + S.inShared) === 1 && m.shared !== null ? m.shared.subarray(offset, offset + length) : range(m, offset, length);
  const checksum = createHash('sha256')
    .update(range(m, field(f, b + S.headerOffset), field(f, b + S.headerLength)))
    .update(content)
    .digest('hex');
  if (checksum !== expected) return { status: 'mismatch', checksum };
  const symlink = field(f, b + S.symlink) === 1;
  const target = symlink ? range(m, field(f, b + S.targetOffset), field(f, b + S.targetLength)) : null;
  if (m.bare) return writeObject(m, expected, contentDest(m, expected), field(f, b + S.mode), target, symlink ? null : [content]);
  const filezHeader = range(m, field(f, b + S.filezHeaderOffset), field(f, b + S.filezHeaderLength));
  const chunks = symlink ? [filezHeader] : [filezHeader, zlib.deflateRawSync(content, { level: m.level })];
  return writeObject(m, expected, contentDest(m, expected), null, null, chunks);
}

function storeFilezOne(m: StoreFilezRequest, i: number): Failure | null {
  const f = m.fields;
  const b = i * FILEZ_FIELDS;
  const expected = m.expected.slice(i * 64, i * 64 + 64);
  const filez = range(m, field(f, b + F.offset), field(f, b + F.length));
  const size = field(f, b + F.size);
  let content: Uint8Array;
  try {
    content = inflateExact(filez.subarray(field(f, b + F.payloadOffset)), size);
  } catch (err) {
    const status = (err as { code?: string })?.code === 'ERR_BUFFER_TOO_LARGE' ? 'too-large' : 'zlib';
    return { status, message: String((err as Error)?.message) };
  }
  if (content.length !== size) return { status: 'short', message: 'size mismatch', length: content.length };
  const checksum = createHash('sha256')
    .update(range(m, field(f, b + F.headerOffset), field(f, b + F.headerLength)))
    .update(content)
    .digest('hex');
  if (checksum !== expected) return { status: 'mismatch', checksum };
  const symlink = field(f, b + F.symlink) === 1;
  const target = symlink ? range(m, field(f, b + F.targetOffset), field(f, b + F.targetLength)) : null;
  if (m.bare) return writeObject(m, expected, contentDest(m, expected), field(f, b + F.mode), target, symlink ? null : [content]);
  return writeObject(m, expected, contentDest(m, expected), null, null, [filez]);
}

function storeMetadataOne(m: StoreMetadataRequest, i: number): Failure | null {
  const f = m.fields;
  const b = i * METADATA_FIELDS;
  const dest = Buffer.from(m.data.buffer, m.data.byteOffset + field(f, b + M.destOffset), field(f, b + M.destLength)).toString('utf8');
  return writeObject(m, m.expected.slice(i * 64, i * 64 + 64), dest, null, null, [
    range(m, field(f, b + M.offset), field(f, b + M.length)),
  ]);
}

/** A content object's file: `.file` (bare-user-only) or `.filez` (archive). */
function contentDest(m: WorkerWriteOptions, checksum: string): string {
  return `${m.objectsDir}/${checksum.slice(0, 2)}/${checksum.slice(2)}${m.bare ? '.file' : '.filez'}`;
}

/** Runs a `store` job's objects: the ones not stored (every other one is stored). */
function runStore(m: StoreRequest): PackedResults {
  return runAll(m, m.fields.length / STORE_FIELDS, storeOne);
}

/** Runs a `storeFilez` job's objects: the ones not stored (every other one is stored). */
function runStoreFilez(m: StoreFilezRequest): PackedResults {
  return runAll(m, m.fields.length / FILEZ_FIELDS, storeFilezOne);
}

/** Runs a `storeMetadata` job's objects: the ones not stored (every other one is stored). */
function runStoreMetadata(m: StoreMetadataRequest): PackedResults {
  return runAll(m, m.fields.length / METADATA_FIELDS, storeMetadataOne);
}

/** Runs any store job: the ones not stored. */
export function runStoreJob(m: StoreRequest | StoreFilezRequest | StoreMetadataRequest): PackedResults {
  return m.op === 'store' ? runStore(m) : m.op === 'storeFilez' ? runStoreFilez(m) : runStoreMetadata(m);
}

function runAll<R extends StoreRequest | StoreFilezRequest | StoreMetadataRequest>(
  m: R,
  count: number,
  one: (m: R, i: number) => Failure | null,
): PackedResults {
  const failed: PackedResults['failed'] = [];
  for (let i = 0; i < count; i++) {
    const r = one(m, i);
    if (r !== null) failed.push([i, r]);
  }
  return { count, failed };
}

// Temporary files: in a directory of this thread's own under the repository's tmp/ (see
// THREAD_TMP_PREFIX), named by a counter (no random bytes per object). Not tmp/ itself: creating
// a file in a directory and renaming one out of it take the directory's lock, and the writers
// (each content worker, this thread) would spend their time in the kernel waiting for it.
const tmpSubdir = `${THREAD_TMP_PREFIX}${process.pid}-${randomBytes(6).toString('hex')}`;
let tmpCounter = 0;
/** The thread directories made so far (see inThreadDir). */
const madeDirs = new Set<string>();

/**
 * Writes chunks (or, for null, a symlink to `target`) to a temporary file and renames it to
 * `dest`: `objects/` never holds a partial object. `mode` null: a plain 0644 file (an archive
 * object, metadata); else a bare-user-only `.file` with these bits and mtime 0. Null when
 * stored, else the failure.
 */
function writeObject(
  m: WorkerWriteOptions,
  expected: string,
  dest: string,
  mode: number | null,
  target: Uint8Array | null,
  chunks: Uint8Array[] | null,
): Failure | null {
  const tmp = `${m.tmpDir}/${tmpSubdir}/${(tmpCounter++).toString(36)}-${expected.slice(0, 16)}.tmp`;
  let step = chunks === null ? 'symlink' : 'open';
  let path = tmp;
  try {
    if (chunks === null) inThreadDir(m.tmpDir, () => fs.symlinkSync(Buffer.from(target ?? new Uint8Array(0)), tmp));
    else {
      // bare-user-only: created with its permission bits; set again only where the umask
      // removes some (or for bits beyond 0777).
      const fd = inThreadDir(m.tmpDir, () => fs.openSync(tmp, 'wx', mode === null ? 0o644 : mode & 0o777));
      try {
        step = 'write';
        for (const c of chunks) fs.writeFileSync(fd, c);
        if (mode !== null) {
          step = 'chmod';
          if (m.umask === null || (mode & m.umask) !== 0 || mode > 0o777) fs.fchmodSync(fd, mode);
          fs.futimesSync(fd, 0, 0);
        }
        if (m.fsync) fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
    }
    step = 'rename';
    path = `${tmp} -> ${dest}`;
    fs.renameSync(tmp, dest);
    return null;
  } catch (err) {
    try {
      fs.unlinkSync(tmp);
    } catch {
      // never created, or already gone
    }
    const e = err as NodeJS.ErrnoException;
    return { status: 'fs', syscall: step, path, code: e?.code, message: String(e?.message) };
  }
}

/**
 * Runs `create` (which makes a file in this thread's directory under `tmpDir`), making the
 * directory first when this thread has not yet, or again when it has gone (LocalRepo.close() of
 * another handle on the repository in this process removes the empty ones).
 */
function inThreadDir<T>(tmpDir: string, create: () => T): T {
  const dir = `${tmpDir}/${tmpSubdir}`;
  if (!madeDirs.has(dir)) {
    fs.mkdirSync(dir, { recursive: true });
    madeDirs.add(dir);
  }
  try {
    return create();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    fs.mkdirSync(dir, { recursive: true });
    return create();
  }
}
