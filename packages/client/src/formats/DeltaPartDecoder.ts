/**
 * Decodes a static-delta part file while it streams in: each chunk feeds the part's SHA-256
 * and, for xz parts, a streaming xz decoder (xzDecoders.ts: the system's `xz` program in a child
 * process, or the WebAssembly decoder in a worker thread), both writing into one output buffer
 * allocated up front. So a part's decompression overlaps its own download instead of starting
 * after the last byte, runs off this thread (the pull's event loop only forwards bytes), and the
 * compressed file is never held whole.
 *
 * Use: `push()` every chunk in order (await it: it resolves when the decoder can take more),
 * `restart()` when the body starts over, `verify()` after the last chunk (size and checksum
 * against the superblock's part header), then `finish()` for the decoded payload in memory, or
 * — with `payloadInFile` — `finishSource()` for it where the `xz` program wrote it. The output
 * is bounded as it is produced (`PartDecodeOptions.maxPayloadSize`); a decoder error before
 * `verify()` is held back, so corrupt bytes surface as ERR_CHECKSUM_MISMATCH (which a
 * downloader retries) rather than as an xz error.
 */
import { createHash, type Hash } from 'node:crypto';
import { closeSync } from 'node:fs';
import { FlathubFetchError } from '../errors/FlathubFetchError.js';
import { ErrorCodes } from '../errors/codes.js';
import {
  checkedPayload,
  type DeltaPartPayload,
  type PartCompression,
  type PartDecodeOptions,
  partCompression,
  partMismatch,
  payloadLimit,
} from './DeltaPart.js';
import type { DeltaPartHeader } from './DeltaSuperblock.js';
import { checkXzEnd } from './xz.js';
import { filePayload, memoryPayload, type PartPayloadSource } from './PartPayload.js';
import { type XzBackend, type XzDecoderChoice, startXzStream, xzBackend } from './xzDecoders.js';
import type { XzStream, XzStreamError } from './xzOutput.js';
import { throwIfAborted } from '../errors/abortError.js';

/**
 * Payloads declared up to this size are decoded into one buffer allocated up front (ostree's
 * parts are at most 32 MiB by default): no concatenation at the end, and the buffer is a
 * SharedArrayBuffer, so the content workers read objects out of it without a copy. The declared
 * size counts the objects' data only (libostree's `uncompressed_size`); the payload also holds
 * the mode, xattr and op tables, hence the headroom. A payload that outgrows it goes on in chunks.
 */
const PREALLOCATE_UP_TO = 128 * 1024 * 1024;
const preallocation = (declared: number) => declared + Math.ceil(declared / 8) + 64 * 1024;

export interface PartDecoderOptions extends PartDecodeOptions {
  /**
   * Leave the payload where the `xz` program decodes it, in a temporary file, for
   * `finishSource()` to read a window at a time (see PartPayload.ts), instead of in memory.
   * @default false
   */
  payloadInFile?: boolean;
}

export class DeltaPartDecoder {
  readonly header: DeltaPartHeader;
  readonly what: string;
  readonly limit: number;
  readonly #xzChoice: XzDecoderChoice;
  /** `payloadInFile` was asked for (finish() is then refused, whichever decoder runs). */
  readonly #forSource: boolean;
  /** ... and the `xz` program decodes: the payload stays in its file. */
  readonly #inFile: boolean;
  /** The decoded payload's file (see `payloadInFile`), from the end of decoding until handed over. */
  #file: { fd: number; size: number } | null = null;
  #hash: Hash = createHash('sha256');
  #size = 0;
  #compression: PartCompression | null = null;
  /** The xz decoder, while an xz part is decoding. */
  #xz: XzStream | null = null;
  #backend: XzBackend | null = null;
  /** The preallocated output (see PREALLOCATE_UP_TO), while the output fits in it. */
  #buf: Uint8Array | null = null;
  /** Output chunks, once it does not (or when nothing was preallocated). */
  #out: Uint8Array[] = [];
  #outSize = 0;
  #error: unknown = null;
  #verified = false;
  /** The last bytes of the xz data (see checkXzEnd), and how many xz bytes came in all. */
  readonly #tail = new XzTail();

  constructor(header: DeltaPartHeader, what = `delta part ${header.index}`, options: PartDecoderOptions = {}) {
    this.header = header;
    this.what = what;
    this.limit = payloadLimit(header.uncompressedSize, options);
    this.#xzChoice = options.xzDecoder ?? 'auto';
    this.#forSource = options.payloadInFile === true;
    this.#inFile = this.#forSource && xzBackend(this.#xzChoice) === 'xz';
  }

  /** The xz backend that decoded this part (null: not an xz part, or not started). */
  get backend(): XzBackend | null {
    return this.#backend;
  }

  /** Bytes received since the last restart. */
  get received(): number {
    return this.#size;
  }

  /** Feeds the next chunk of the part file. */
  push(chunk: Uint8Array): Promise<void> | undefined {
    if (chunk.length === 0) return undefined;
    this.#verified = false;
    this.#hash.update(chunk);
    this.#size += chunk.length;
    let body = chunk;
    if (this.#compression === null) {
      try {
        this.#compression = partCompression(chunk, this.what);
      } catch (err) {
        // Held back until verify(): bytes that are not this part are a checksum mismatch first.
        this.#compression = 'none';
        this.#error ??= err;
      }
      body = chunk.subarray(1);
      if (this.#error === null && !(this.#inFile && this.#compression === 'xz')) this.#preallocate();
      if (this.#compression === 'xz') this.#startXz();
    }
    if (this.#error !== null || body.length === 0) return undefined;
    if (this.#compression === 'xz') this.#tail.push(body);
    if (this.#compression === 'none') {
      this.#collect(body);
      return undefined;
    }
    return this.#xz?.push(body);
  }

  /** The body starts again from byte 0: drop everything decoded so far. */
  restart(): void {
    this.#destroyXz();
    this.#closeFile();
    // A new buffer: a worker may still be finishing a write into the old one.
    this.#buf = null;
    this.#hash = createHash('sha256');
    this.#size = 0;
    this.#compression = null;
    this.#out = [];
    this.#outSize = 0;
    this.#error = null;
    this.#verified = false;
    this.#tail.reset();
  }

  /** After the last chunk: the file's size and SHA-256 must be the part header's. */
  verify(): void {
    const actual = this.#hash.digest('hex');
    this.#hash = createHash('sha256');
    if (this.#size !== this.header.size) {
      throw new FlathubFetchError(ErrorCodes.SIZE_LIMIT, `${this.what}: ${this.#size} bytes, superblock declares ${this.header.size}`, {
        what: this.what,
        size: this.#size,
        limit: this.header.size,
      });
    }
    if (actual !== this.header.checksum) throw partMismatch(this.what, this.header.checksum, actual);
    this.#verified = true;
  }

  /** The decoded, size-checked payload of a verified file, in memory (not with `payloadInFile`: see finishSource()). */
  async finish({ signal }: { signal?: AbortSignal | undefined } = {}): Promise<DeltaPartPayload> {
    if (this.#forSource) {
      throw new FlathubFetchError(ErrorCodes.INVALID_ARGUMENT, `${this.what}: finish() on a decoder made with payloadInFile`, {
        argument: 'finish',
        reason: 'payloadInFile: use finishSource()',
      });
    }
    await this.#settle(signal);
    return this.#memoryPayload();
  }

  /**
   * The decoded, size-checked payload of a verified file, for the executor: in its file when
   * decoded with `payloadInFile` by the `xz` program (the source then owns the file: close it),
   * else in memory.
   */
  async finishSource({ signal }: { signal?: AbortSignal | undefined } = {}): Promise<PartPayloadSource> {
    await this.#settle(signal);
    const file = this.#file;
    if (file === null) return memoryPayload(this.#memoryPayload());
    this.#file = null;
    return filePayload(file.fd, file.size, this.what);
  }

  /** Ends decoding: the output is then in `#file`, or in `#buf`/`#out`; throws what went wrong. */
  async #settle(signal: AbortSignal | undefined): Promise<void> {
    if (!this.#verified) {
      throw new FlathubFetchError(ErrorCodes.INVALID_ARGUMENT, `${this.what}: finish() before a successful verify()`, {
        argument: 'finish',
        reason: 'not verified',
      });
    }
    if (this.#xz !== null && this.#error === null) {
      const xz = this.#xz;
      const onAbort = () => xz.destroy();
      signal?.addEventListener('abort', onAbort, { once: true });
      try {
        const out = await xz.finish();
        const buf = this.#buf;
        this.#outSize = out.outSize;
        if (out.file !== undefined) {
          this.#file = { fd: out.file, size: out.outSize };
          this.#buf = null;
        } else if (out.overflow.length > 0 || buf === null) {
          this.#out = [...(buf === null ? [] : [buf.subarray(0, out.inShared)]), ...out.overflow];
          this.#buf = null;
        }
      } catch (err) {
        throwIfAborted(signal, this.what);
        this.#error ??= streamError(this.what, err as XzStreamError, this.limit);
      } finally {
        signal?.removeEventListener('abort', onAbort);
        this.#xz = null;
      }
    }
    try {
      throwIfAborted(signal, this.what);
      if (this.#error !== null) throw this.#error;
      if (this.#compression === null) throw new FlathubFetchError(ErrorCodes.FORMAT, `${this.what}: empty part file`, { what: this.what });
      if (this.#compression === 'xz') this.#tail.check(this.#outSize, this.what);
    } catch (err) {
      this.#closeFile();
      throw err;
    }
  }

  #memoryPayload(): DeltaPartPayload {
    const payload = this.#buf !== null ? this.#buf.subarray(0, this.#outSize) : Buffer.concat(this.#out, this.#outSize);
    this.#buf = null;
    this.#out = [];
    return checkedPayload(payload, this.limit, this.what);
  }

  /** Stops decoding and releases the buffers (after a failure or an abort). */
  dispose(): void {
    this.#destroyXz();
    this.#closeFile();
    this.#buf = null;
    this.#out = [];
    this.#outSize = 0;
  }

  /** The output buffer for a payload of the declared size (see PREALLOCATE_UP_TO), allocated when the part file starts. */
  #preallocate(): void {
    const declared = this.header.uncompressedSize;
    if (this.#buf === null && declared > 0 && declared <= PREALLOCATE_UP_TO) {
      this.#buf = new Uint8Array(new SharedArrayBuffer(Math.min(preallocation(declared), this.limit)));
    }
  }

  #startXz(): void {
    const shared = (this.#buf?.buffer as SharedArrayBuffer | undefined) ?? null;
    const { stream, backend } = startXzStream(shared, this.limit, this.#xzChoice, this.#inFile);
    this.#xz = stream;
    this.#backend = backend;
  }

  #collect(b: Uint8Array): void {
    const at = this.#outSize;
    this.#outSize += b.length;
    if (this.#outSize > this.limit) {
      this.#fail(
        new FlathubFetchError(ErrorCodes.SIZE_LIMIT, `${this.what}: payload exceeds ${this.limit} bytes`, {
          what: this.what,
          size: this.#outSize,
          limit: this.limit,
        }),
      );
      return;
    }
    if (this.#buf !== null && this.#outSize <= this.#buf.length) {
      this.#buf.set(b, at);
      return;
    }
    // More than declared (still within the limit): go on in chunks.
    if (this.#buf !== null) this.#out.push(this.#buf.subarray(0, at));
    this.#buf = null;
    // A copy: the caller may reuse its buffer.
    this.#out.push(new Uint8Array(b));
  }

  #fail(err: unknown): void {
    this.#error ??= err;
    this.#buf = null;
    this.#out = [];
    this.#destroyXz();
  }

  #closeFile(): void {
    if (this.#file === null) return;
    closeSync(this.#file.fd);
    this.#file = null;
  }

  #destroyXz(): void {
    this.#xz?.destroy();
    this.#xz = null;
  }
}

/** A decoder's report as the library's error. */
function streamError(what: string, err: XzStreamError, limit: number): FlathubFetchError {
  if (err.kind === 'too-large') {
    return new FlathubFetchError(ErrorCodes.SIZE_LIMIT, `${what}: payload exceeds ${limit} bytes`, {
      what,
      size: err.size ?? limit,
      limit,
    });
  }
  return new FlathubFetchError(ErrorCodes.DECOMPRESS, `${what}: xz data is invalid: ${err.message}`, {
    what,
    format: 'xz',
    reason: err.message,
  });
}

/** The last 64 KiB of the xz data seen, copied into a ring (the caller may reuse its chunks). */
class XzTail {
  static readonly SIZE = 64 * 1024;
  #ring = new Uint8Array(XzTail.SIZE);
  #total = 0;

  push(bytes: Uint8Array): void {
    const size = XzTail.SIZE;
    const src = bytes.length > size ? bytes.subarray(bytes.length - size) : bytes;
    const skipped = bytes.length - src.length;
    const at = (this.#total + skipped) % size;
    const first = Math.min(src.length, size - at);
    this.#ring.set(src.subarray(0, first), at);
    if (first < src.length) this.#ring.set(src.subarray(first), 0);
    this.#total += bytes.length;
  }

  reset(): void {
    this.#total = 0;
  }

  /** Throws ERR_DECOMPRESS when `outSize` is not what the xz index declares (see checkXzEnd). */
  check(outSize: number, what: string): void {
    const size = XzTail.SIZE;
    const n = Math.min(this.#total, size);
    const start = (this.#total - n) % size;
    const tail =
      start + n <= size
        ? this.#ring.subarray(start, start + n)
        : Buffer.concat([this.#ring.subarray(start), this.#ring.subarray(0, start + n - size)]);
    checkXzEnd(tail, this.#total, outSize, what);
  }
}
