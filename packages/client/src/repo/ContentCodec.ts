/**
 * The CPU work on content objects, each job either inline (small objects) or in the worker
 * pool (see `LocalRepoOptions.inlineDeflateBelow` / `inlineInflateBelow`):
 * - `encode`: content checksum of (FileInfo, content) and, on request, the `.filez` bytes;
 * - `verify`: inflate a `.filez` (bounded by its header's size) and return its checksum;
 * - `decode`: the same, also returning the content.
 * Both paths give identical results and identical typed errors.
 */
import { deflateRawSync } from 'node:zlib';
import type { FlathubFetchError } from '../errors/FlathubFetchError.js';
import type { Checksum } from '../formats/checksum.js';
import {
  contentChecksum,
  encodeFileHeader,
  encodeFilezHeader,
  type FileInfo,
  frameHeader,
  isSymlink,
  parseFilezHeader,
  withFilezSize,
} from '../formats/FileHeader.js';
import { declaredSizeError, deflateError, inflatesBeyondError, readFilez } from '../formats/Filez.js';
import { formatError } from '../formats/formatError.js';
import { runStoreJob } from './contentStore.js';
import { ContentWorkerPool, type WorkerReply, type WorkerRequest, type WorkerWriteOptions } from './ContentWorkerPool.js';
import {
  FILEZ_FIELDS,
  FilezField,
  METADATA_FIELDS,
  MetadataField,
  STORE_FIELDS,
  type StoreResult,
  StoreField,
  unpackResults,
} from './StoreJobLayout.js';
import type { ResolvedLocalRepoOptions } from './LocalRepoOptions.js';

export type ContentCodecOptions = Pick<
  ResolvedLocalRepoOptions,
  'workers' | 'inlineDeflateBelow' | 'inlineInflateBelow' | 'compressionLevel' | 'maxObjectSize'
>;

/** What became of one `.filez` of a `storeFilez` batch. */
export type StoreFilezOutcome =
  | { status: 'ok' }
  | { status: 'mismatch'; checksum: Checksum }
  | { status: 'fs'; syscall: string; path: string; code: string | undefined; message: string }
  | { status: 'error'; error: unknown };

/**
 * Content bytes a codec stores on the calling thread before it starts worker threads: the few
 * objects of a small update are written in less time than a worker takes to start (each is a
 * new V8 isolate and Node.js environment).
 */
export const INLINE_STORE_BYTES = 2 * 1024 * 1024;

export interface EncodedContent {
  checksum: Checksum;
  /** `.filez` as header + deflate chunks; null when not requested or the checksum was not `expected`. */
  filez: Uint8Array[] | null;
}

export class ContentCodec {
  readonly options: ContentCodecOptions;
  #pool: ContentWorkerPool | null = null;
  /** Content bytes stored on this thread so far (up to INLINE_STORE_BYTES, before any worker started). */
  #inlineStored = 0;

  constructor(options: ContentCodecOptions) {
    this.options = options;
  }

  /** Live worker threads (0 until a large object is processed, and after `close()`). */
  get threads(): number {
    return this.#pool?.threads ?? 0;
  }

  async encode(info: FileInfo, content: Uint8Array, opts: { expected: Checksum | null; compress: boolean }): Promise<EncodedContent> {
    const symlink = isSymlink(info);
    const filezHeader = () => encodeFilezHeader({ ...info, size: symlink ? 0 : content.length });
    // Hashing only (a local object read back) of a few MB, with no worker started: on this thread too.
    const hashHere = !opts.compress && this.#pool === null && content.length <= INLINE_STORE_BYTES;
    if (symlink || content.length < this.options.inlineDeflateBelow || hashHere) {
      const checksum = contentChecksum(info, content);
      if (!opts.compress || (opts.expected !== null && checksum !== opts.expected)) return { checksum, filez: null };
      if (symlink) return { checksum, filez: [filezHeader()] };
      const z = deflateRawSync(content, { level: this.options.compressionLevel });
      return { checksum, filez: [filezHeader(), new Uint8Array(z.buffer, z.byteOffset, z.byteLength)] };
    }
    const copy = copyBytes(content);
    const reply = await this.#run(
      {
        op: 'encode',
        header: frameHeader(encodeFileHeader(info)),
        content: copy,
        expected: opts.expected,
        compress: opts.compress,
        level: this.options.compressionLevel,
      },
      [copy.buffer],
    );
    if (!reply.ok) throw new Error(`content worker: ${reply.message}`);
    return { checksum: reply.checksum, filez: reply.data === null ? null : [filezHeader(), reply.data] };
  }

  /**
   * Hashes, compresses and writes a batch of content objects in one worker job (see the
   * `store` op): contents that are views of one SharedArrayBuffer (a delta part's payload, see
   * DeltaPartDecoder) are sent as ranges of it, without a copy; the others are copied into one
   * transferred buffer. No per-object work on the calling thread beyond encoding two small
   * headers. One result per object, in order.
   */
  async store(
    objects: ReadonlyArray<{ checksum: Checksum; info: FileInfo; content: Uint8Array }>,
    opts: WorkerWriteOptions,
  ): Promise<StoreResult[]> {
    const pack = new BytePacker();
    const headers = new HeaderRanges(pack);
    const sab = objects.find((o) => o.content.buffer instanceof SharedArrayBuffer)?.content.buffer ?? null;
    const fields = new Float64Array(objects.length * STORE_FIELDS);
    let expected = '';
    objects.forEach((o, i) => {
      const b = i * STORE_FIELDS;
      const symlink = isSymlink(o.info);
      const inShared = o.content.buffer === sab;
      const [offset, length] = inShared ? [o.content.byteOffset, o.content.byteLength] : pack.add(o.content);
      fields[b + StoreField.offset] = offset;
      fields[b + StoreField.length] = length;
      fields[b + StoreField.inShared] = inShared ? 1 : 0;
      [fields[b + StoreField.headerOffset], fields[b + StoreField.headerLength]] = headers.checksumHeader(o.info);
      // bare-user-only objects are the content itself: no `.filez` header.
      if (!opts.bare) {
        [fields[b + StoreField.filezHeaderOffset], fields[b + StoreField.filezHeaderLength]] = pack.add(
          headers.filezHeader(o.info, symlink ? 0 : o.content.length),
        );
      }
      fields[b + StoreField.mode] = o.info.mode & 0o7777;
      if (symlink) {
        fields[b + StoreField.symlink] = 1;
        [fields[b + StoreField.targetOffset], fields[b + StoreField.targetLength]] = pack.add(Buffer.from(o.info.symlinkTarget, 'utf8'));
      }
      expected += o.checksum;
    });
    const data = pack.finish();
    const shared = sab === null ? null : new Uint8Array(sab);
    const bytes = objects.reduce((n, o) => n + o.content.length, 0);
    const reply = await this.#runStore(
      { op: 'store', data, shared, fields, expected, level: this.options.compressionLevel, ...opts },
      [data.buffer, fields.buffer],
      bytes,
    );
    if (!reply.ok || reply.results === undefined) throw new Error(`content worker: ${reply.ok ? 'no results' : reply.message}`);
    return unpackResults(reply.results);
  }

  /**
   * Verifies and writes a batch of fetched `.filez` in one worker job (see the `storeFilez`
   * op): headers are parsed and checked here (rules, `maxObjectSize`), inflating, hashing and
   * writing happen in the worker. One outcome per object, in order: a worker result, or the
   * typed error that stopped the object before it was sent.
   */
  async storeFilez(
    objects: ReadonlyArray<{ checksum: Checksum; filez: Uint8Array }>,
    opts: WorkerWriteOptions & { validate?: ((info: FileInfo, checksum: Checksum) => void) | undefined },
  ): Promise<StoreFilezOutcome[]> {
    const outcomes: Array<StoreFilezOutcome | null> = [];
    const sent: Array<{ outcome: number; size: number; checksum: Checksum }> = [];
    const pack = new BytePacker();
    const headers = new HeaderRanges(pack);
    // One row per object sent (objects refused here leave no row).
    const fields = new Float64Array(objects.length * FILEZ_FIELDS);
    let expected = '';
    for (const o of objects) {
      const what = `file ${o.checksum}`;
      try {
        const { info, payloadOffset } = parseFilezHeader(o.filez, what);
        this.#checkSize(info.size, what);
        opts.validate?.(info, o.checksum);
        const b = sent.length * FILEZ_FIELDS;
        [fields[b + FilezField.offset], fields[b + FilezField.length]] = pack.add(o.filez);
        [fields[b + FilezField.headerOffset], fields[b + FilezField.headerLength]] = headers.checksumHeader(info);
        fields[b + FilezField.payloadOffset] = payloadOffset;
        fields[b + FilezField.size] = info.size;
        fields[b + FilezField.mode] = info.mode & 0o7777;
        if (isSymlink(info)) {
          fields[b + FilezField.symlink] = 1;
          [fields[b + FilezField.targetOffset], fields[b + FilezField.targetLength]] = pack.add(Buffer.from(info.symlinkTarget, 'utf8'));
        }
        expected += o.checksum;
        sent.push({ outcome: outcomes.length, size: info.size, checksum: o.checksum });
        outcomes.push(null);
      } catch (error) {
        outcomes.push({ status: 'error', error });
      }
    }
    if (sent.length > 0) {
      const data = pack.finish();
      const packed = fields.slice(0, sent.length * FILEZ_FIELDS);
      const { validate: _validate, ...write } = opts;
      const bytes = sent.reduce((n, it) => n + it.size, 0);
      const reply = await this.#runStore(
        { op: 'storeFilez', data, fields: packed, expected, ...write },
        [data.buffer, packed.buffer],
        bytes,
      );
      if (!reply.ok || reply.results === undefined) throw new Error(`content worker: ${reply.ok ? 'no results' : reply.message}`);
      unpackResults(reply.results).forEach((r, k) => {
        const it = sent[k] as (typeof sent)[number];
        if (r.status === 'too-large' || r.status === 'short' || r.status === 'zlib') {
          outcomes[it.outcome] = {
            status: 'error',
            error: inflateError({ kind: r.status, message: r.message, length: r.length }, it.size, `file ${it.checksum}`),
          };
        } else outcomes[it.outcome] = r as StoreFilezOutcome;
      });
    }
    return outcomes as StoreFilezOutcome[];
  }

  /**
   * Writes a batch of metadata objects in one job (see the `storeMetadata` op): the caller has
   * verified them; each goes to its `dest`. One result per object, in order.
   */
  async storeMetadata(
    objects: ReadonlyArray<{ checksum: Checksum; bytes: Uint8Array; dest: string }>,
    opts: WorkerWriteOptions,
  ): Promise<StoreResult[]> {
    const pack = new BytePacker();
    const fields = new Float64Array(objects.length * METADATA_FIELDS);
    let expected = '';
    let bytes = 0;
    objects.forEach((o, i) => {
      const b = i * METADATA_FIELDS;
      [fields[b + MetadataField.offset], fields[b + MetadataField.length]] = pack.add(o.bytes);
      [fields[b + MetadataField.destOffset], fields[b + MetadataField.destLength]] = pack.add(Buffer.from(o.dest, 'utf8'));
      expected += o.checksum;
      bytes += o.bytes.length;
    });
    const data = pack.finish();
    const reply = await this.#runStore({ op: 'storeMetadata', data, fields, expected, ...opts }, [data.buffer, fields.buffer], bytes);
    if (!reply.ok || reply.results === undefined) throw new Error(`content worker: ${reply.ok ? 'no results' : reply.message}`);
    return unpackResults(reply.results);
  }

  #checkSize(size: number, what: string): void {
    const max = this.options.maxObjectSize;
    if (size > max) throw declaredSizeError(what, size, max);
  }

  /** Checks a `.filez` (header rules, bounded inflation, exact size) and returns its checksum. */
  async verify(filez: Uint8Array, what: string): Promise<{ checksum: Checksum; info: FileInfo }> {
    const r = await this.#inflate(filez, what, false);
    return { checksum: r.checksum, info: r.info };
  }

  /** Like `verify`, and returns the content. */
  decode(filez: Uint8Array, what: string): Promise<{ checksum: Checksum; info: FileInfo; content: Uint8Array }> {
    return this.#inflate(filez, what, true);
  }

  /**
   * Starts the worker threads now instead of on first use — unless `expectedBytes`, the content
   * the caller expects to store, is known and small enough to be stored on this thread.
   */
  warm(expectedBytes: number | null = null): void {
    if (this.#pool === null && expectedBytes !== null && this.#inlineStored + expectedBytes <= INLINE_STORE_BYTES) return;
    this.#pool ??= new ContentWorkerPool(this.options.workers);
    this.#pool.warm();
  }

  /** Terminates the worker threads (they are re-created if the codec is used again). */
  async close(): Promise<void> {
    const pool = this.#pool;
    this.#pool = null;
    await pool?.close();
  }

  async #inflate(filez: Uint8Array, what: string, keep: boolean): Promise<{ checksum: Checksum; info: FileInfo; content: Uint8Array }> {
    const { info, payloadOffset } = parseFilezHeader(filez, what);
    const max = this.options.maxObjectSize;
    this.#checkSize(info.size, what);
    if (isSymlink(info) || info.size < this.options.inlineInflateBelow) {
      const { content } = readFilez(filez, what, { maxSize: max });
      return { checksum: contentChecksum(info, content), info, content: keep ? content : new Uint8Array(0) };
    }
    const payload = copyBytes(filez.subarray(payloadOffset));
    const reply = await this.#run({ op: 'inflate', header: frameHeader(encodeFileHeader(info)), payload, size: info.size, keep }, [
      payload.buffer,
    ]);
    if (!reply.ok) throw inflateError(reply, info.size, what);
    return { checksum: reply.checksum, info, content: reply.data ?? new Uint8Array(0) };
  }

  /**
   * A `store` / `storeFilez` / `storeMetadata` job of `bytes` object bytes: on this thread while
   * no worker has started and the inline budget lasts (see INLINE_STORE_BYTES), else in the pool.
   */
  async #runStore(
    request: Extract<WorkerRequest, { op: 'store' | 'storeFilez' | 'storeMetadata' }>,
    transfer: ArrayBuffer[],
    bytes: number,
  ): Promise<WorkerReply> {
    if (this.#pool !== null || this.#inlineStored + bytes > INLINE_STORE_BYTES) return this.#run(request, transfer);
    this.#inlineStored += bytes;
    try {
      const results = runStoreJob(request);
      return { ok: true, checksum: '', data: null, results };
    } catch (err) {
      // As a worker answers a job that throws.
      const kind = (err as { code?: string })?.code === 'ERR_BUFFER_TOO_LARGE' ? 'too-large' : 'zlib';
      return { ok: false, kind, message: String((err as Error)?.message) };
    }
  }

  #run(...args: Parameters<ContentWorkerPool['run']>): Promise<WorkerReply> {
    this.#pool ??= new ContentWorkerPool(this.options.workers);
    return this.#pool.run(...args);
  }
}

/**
 * The headers of a batch's objects, packed once per distinct file info: the framed checksum
 * header (the objects of a delta part share a handful of modes and owners) and a `.filez` header
 * template whose size field is rewritten per object.
 */
class HeaderRanges {
  readonly #pack: BytePacker;
  readonly #checksumHeaders = new Map<string, [number, number]>();
  readonly #filezTemplates = new Map<string, Uint8Array>();

  constructor(pack: BytePacker) {
    this.#pack = pack;
  }

  checksumHeader(info: FileInfo): [number, number] {
    const key = infoKey(info);
    if (key === null) return this.#pack.add(frameHeader(encodeFileHeader(info)));
    let range = this.#checksumHeaders.get(key);
    if (range === undefined) {
      range = this.#pack.add(frameHeader(encodeFileHeader(info)));
      this.#checksumHeaders.set(key, range);
    }
    return range;
  }

  filezHeader(info: FileInfo, size: number): Uint8Array {
    const key = infoKey(info);
    if (key === null) return encodeFilezHeader({ ...info, size });
    let template = this.#filezTemplates.get(key);
    if (template === undefined) {
      template = encodeFilezHeader({ ...info, size: 0 });
      this.#filezTemplates.set(key, template);
    }
    return withFilezSize(template, size);
  }
}

/** A cache key for a file info without extended attributes (null for one with). */
function infoKey(info: FileInfo): string | null {
  return info.xattrs.length > 0 ? null : `${info.uid}:${info.gid}:${info.mode}:${info.rdev}:${info.symlinkTarget}`;
}

/** Byte arrays laid end to end in one new buffer (to transfer to a worker), each as `[offset, length]`. */
class BytePacker {
  #parts: Uint8Array[] = [];
  #size = 0;

  add(bytes: Uint8Array): [number, number] {
    this.#parts.push(bytes);
    this.#size += bytes.length;
    return [this.#size - bytes.length, bytes.length];
  }

  finish(): Uint8Array<ArrayBuffer> {
    const out = new Uint8Array(this.#size);
    let at = 0;
    for (const p of this.#parts) {
      out.set(p, at);
      at += p.length;
    }
    this.#parts = [];
    return out;
  }
}

/**
 * A fresh copy that owns its whole ArrayBuffer, safe to transfer to a worker. (Not `.slice()`:
 * on a Node.js Buffer that is a view, and transferring its buffer would detach the caller's
 * bytes — or the shared Buffer pool.)
 */
function copyBytes(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(bytes.byteLength);
  out.set(bytes);
  return out;
}

/** The same errors `formats/Filez.ts` raises inline. */
export function inflateError(
  reply: { kind: 'too-large' | 'short' | 'zlib'; message: string; length?: number | undefined },
  size: number,
  what: string,
): FlathubFetchError {
  if (reply.kind === 'too-large') return inflatesBeyondError(what, size);
  if (reply.kind === 'short') return formatError(what, `content is ${reply.length ?? '?'} bytes, header declares ${size}`);
  return deflateError(what, reply.message);
}
