/**
 * The CPU work on content objects, each job either inline (small objects) or in the worker
 * pool (see `LocalRepoOptions.inlineDeflateBelow` / `inlineInflateBelow`):
 * - `encode`: content checksum of (FileInfo, content) and, on request, the `.filez` bytes;
 * - `verify`: inflate a `.filez` (bounded by its header's size) and return its checksum;
 * - `decode`: the same, also returning the content.
 * Both paths give identical results and identical typed errors.
 */
import { deflateRawSync } from 'node:zlib';
import { FlathubFetchError } from '../errors/FlathubFetchError.js';
import { ErrorCodes } from '../errors/codes.js';
import type { Checksum } from '../formats/checksum.js';
import {
  contentChecksum,
  encodeFileHeader,
  encodeFilezHeader,
  type FileInfo,
  frameHeader,
  isSymlink,
  parseFilezHeader,
} from '../formats/FileHeader.js';
import { readFilez } from '../formats/Filez.js';
import { formatError } from '../formats/formatError.js';
import { ContentWorkerPool, type WorkerReply } from './ContentWorkerPool.js';
import type { ResolvedLocalRepoOptions } from './LocalRepoOptions.js';

export type ContentCodecOptions = Pick<
  ResolvedLocalRepoOptions,
  'workers' | 'inlineDeflateBelow' | 'inlineInflateBelow' | 'compressionLevel' | 'maxObjectSize'
>;

export interface EncodedContent {
  checksum: Checksum;
  /** `.filez` as header + deflate chunks; null when not requested or the checksum was not `expected`. */
  filez: Uint8Array[] | null;
}

export class ContentCodec {
  readonly options: ContentCodecOptions;
  #pool: ContentWorkerPool | null = null;

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
    if (symlink || content.length < this.options.inlineDeflateBelow) {
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

  /** Checks a `.filez` (header rules, bounded inflation, exact size) and returns its checksum. */
  async verify(filez: Uint8Array, what: string): Promise<{ checksum: Checksum; info: FileInfo }> {
    const r = await this.#inflate(filez, what, false);
    return { checksum: r.checksum, info: r.info };
  }

  /** Like `verify`, and returns the content. */
  decode(filez: Uint8Array, what: string): Promise<{ checksum: Checksum; info: FileInfo; content: Uint8Array }> {
    return this.#inflate(filez, what, true);
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
    if (info.size > max) {
      throw new FlathubFetchError(ErrorCodes.SIZE_LIMIT, `${what}: declared size ${info.size} exceeds the limit ${max}`, {
        what,
        size: info.size,
        limit: max,
      });
    }
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

  #run(...args: Parameters<ContentWorkerPool['run']>): Promise<WorkerReply> {
    this.#pool ??= new ContentWorkerPool(this.options.workers);
    return this.#pool.run(...args);
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
function inflateError(reply: Extract<WorkerReply, { ok: false }>, size: number, what: string): FlathubFetchError {
  if (reply.kind === 'too-large') {
    return new FlathubFetchError(ErrorCodes.SIZE_LIMIT, `${what}: content inflates beyond the declared ${size} bytes`, {
      what,
      size,
      limit: size,
    });
  }
  if (reply.kind === 'short') return formatError(what, `content is ${reply.length ?? '?'} bytes, header declares ${size}`);
  return new FlathubFetchError(ErrorCodes.DECOMPRESS, `${what}: deflate data is invalid (${reply.message})`, { what, format: 'deflate' });
}
