/**
 * Receives one fetched `.filez` as it streams in and stores it, verified, with memory bounded by
 * a chunk rather than by the object's size.
 *
 * Small bodies (the vast majority) are buffered and handed whole to the repository's batched
 * worker path (`LocalRepo.writeFilez`). Once a body is known (from its declared size) or found
 * (from the bytes received) to be larger than `streamAbove`, it switches to a {@link FilezStream}:
 * the header is parsed from the first bytes, the raw-deflate payload is inflated as it arrives
 * (node:zlib, off the main thread), the inflated content is hashed with the header and written
 * to a file in `tmp/` (bare-user-only: the content; archive: the `.filez` bytes as received),
 * and `commit()` renames it into `objects/XX/` only when size and checksum match.
 *
 * Invariants: `objects/` never sees a partial or unverified object; a failed, restarted or
 * disposed stream leaves no file behind; every failure surfaces from `commit()` (not from
 * `push()`), as the HTTP client's `verify` step expects: corrupt bytes as ERR_CHECKSUM_MISMATCH
 * (the client fetches again), a policy limit or a disk error as itself (final).
 */
import { randomBytes } from 'node:crypto';
import { type FileHandle, open, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { createInflateRaw, type InflateRaw } from 'node:zlib';
import type { Checksum } from '../formats/checksum.js';
import { contentHasher, type FileInfo, isSymlink, parseFilezHeader } from '../formats/FileHeader.js';
import { declaredSizeError, deflateError, inflatesBeyondError } from '../formats/Filez.js';
import { formatError } from '../formats/formatError.js';
import { threadGarbage } from '../formats/garbageBudget.js';
import { assertBareUserOnlyStorable } from './assertBareUserOnlyStorable.js';
import { fsError } from './fsError.js';
import { mismatch, undecodable } from './writeErrors.js';

/** Largest `.filez` header accepted (the variant holds the symlink target and xattrs). */
const MAX_HEADER = 1 << 20;
/** Inflated bytes waiting to be written before `push()` waits for the disk. */
const WRITE_BACKLOG = 4 << 20;
/** zlib's output chunk for a streamed object (well under WRITE_BACKLOG). */
const INFLATE_CHUNK = 256 << 10;
/** Input gathered before it is inflated (or, for an archive, written). */
const INPUT_BATCH = 256 << 10;

/** Where and how a streamed object is written. */
export interface FilezStreamTarget {
  tmpDir: string;
  /** The object's final path in `objects/XX/`. */
  dest: string;
  /** bare-user-only: write the content (with its mode) instead of the `.filez`. */
  bare: boolean;
  fsync: boolean;
  maxObjectSize: number;
  /** Settles once `dest`'s directory exists. */
  ready: Promise<void>;
}

/** One `.filez` streamed to disk. Use once: push…, then finish() or dispose(). */
export class FilezStream {
  readonly #checksum: Checksum;
  readonly #what: string;
  readonly #target: FilezStreamTarget;
  readonly #tmp: string;
  #file: Promise<FileHandle> | null = null;
  /** Header bytes gathered until the whole header is in. */
  #head: Uint8Array[] = [];
  #headLength = 0;
  #info: FileInfo | null = null;
  #hash: ReturnType<typeof contentHasher> | null = null;
  #inflater: InflateRaw | null = null;
  #inflated = 0;
  /** File writes, in order; `#backlog` bytes not yet written. */
  #writes: Promise<void> = Promise.resolve();
  #backlog = 0;
  #position = 0;
  #error: unknown = null;
  /** Input not yet processed (see `push`). */
  #pending: Uint8Array[] = [];
  #pendingBytes = 0;

  constructor(checksum: Checksum, target: FilezStreamTarget) {
    this.#checksum = checksum;
    this.#what = `file ${checksum}`;
    this.#target = target;
    this.#tmp = join(target.tmpDir, `flathub-fetch-stream-${randomBytes(6).toString('hex')}-${checksum.slice(0, 16)}.tmp`);
  }

  /** Takes the next bytes of the `.filez`; resolves when they may be followed by more (backpressure). */
  async push(chunk: Uint8Array): Promise<void> {
    if (this.#error !== null) return;
    // Gathered into batches: network chunks are small (an HTTP/2 frame is 16 KiB), and each one
    // fed on its own would be a zlib job on the thread pool (and, for an archive, a file write).
    this.#pending.push(chunk);
    this.#pendingBytes += chunk.length;
    if (this.#pendingBytes >= INPUT_BATCH) await this.#consume();
  }

  /** Processes the gathered input. */
  async #consume(): Promise<void> {
    if (this.#pendingBytes === 0) return;
    let chunk: Uint8Array =
      this.#pending.length === 1 ? (this.#pending[0] as Uint8Array) : Buffer.concat(this.#pending, this.#pendingBytes);
    this.#pending = [];
    this.#pendingBytes = 0;
    if (this.#error !== null) return;
    try {
      if (!this.#target.bare) this.#write(chunk);
      if (this.#inflater === null) {
        this.#head.push(chunk);
        this.#headLength += chunk.length;
        const payload = this.#parseHeader();
        if (payload === null) return;
        chunk = payload;
      }
      const inflater = this.#inflater as InflateRaw | null;
      if (inflater !== null && chunk.length > 0 && !inflater.write(chunk)) await waitDrain(inflater);
      if (this.#backlog > WRITE_BACKLOG) await this.#writes;
    } catch (err) {
      this.#fail(err);
    }
  }

  /** Verifies what was pushed and renames it into place. Throws the first failure (see the module comment). */
  async finish(): Promise<void> {
    await this.#consume();
    try {
      if (this.#error === null && this.#inflater === null) {
        throw formatError(this.#what, `body ended within the ${this.#headLength}-byte header`);
      }
      const inflater = this.#inflater as InflateRaw;
      if (this.#error === null) {
        await new Promise<void>((resolve) => {
          inflater.once('end', resolve);
          inflater.once('close', resolve);
          inflater.end();
          inflater.resume();
        });
      }
      await this.#writes;
      if (this.#error !== null) throw this.#error;
      const info = this.#info as FileInfo;
      if (this.#inflated !== info.size) {
        throw formatError(this.#what, `content is ${this.#inflated} bytes, header declares ${info.size}`);
      }
      const actual = (this.#hash as ReturnType<typeof contentHasher>).digest();
      if (actual !== this.#checksum) throw mismatch(this.#what, this.#checksum, actual);
      const file = await this.#open();
      try {
        if (this.#target.bare) {
          await file.chmod(info.mode & 0o7777);
          await file.utimes(0, 0);
        }
        if (this.#target.fsync) await file.sync();
      } catch (err) {
        throw fsError('write', this.#tmp, err);
      }
      await this.#close();
      await this.#target.ready;
      try {
        await rename(this.#tmp, this.#target.dest);
      } catch (err) {
        throw fsError('rename', `${this.#tmp} -> ${this.#target.dest}`, err);
      }
      this.#file = null;
    } catch (err) {
      await this.dispose();
      throw undecodable(this.#what, this.#checksum, err);
    }
  }

  /** Drops what was written (idempotent; nothing stays in `tmp/`). */
  async dispose(): Promise<void> {
    this.#error ??= new Error('disposed');
    this.#pending = [];
    this.#pendingBytes = 0;
    this.#inflater?.destroy();
    await this.#writes.catch(() => undefined);
    if (this.#file === null) return;
    await this.#close().catch(() => undefined);
    this.#file = null;
    await unlink(this.#tmp).catch(() => undefined); // may never have been created
  }

  /** Parses the header once it is all in; returns the payload bytes received with it, or null while incomplete. */
  #parseHeader(): Uint8Array | null {
    if (this.#headLength < 8) return null;
    const head = this.#head.length === 1 ? (this.#head[0] as Uint8Array) : Buffer.concat(this.#head, this.#headLength);
    this.#head = [head];
    const len = new DataView(head.buffer, head.byteOffset, 4).getUint32(0, false);
    if (len > MAX_HEADER) throw formatError(this.#what, `header length ${len} exceeds ${MAX_HEADER}`);
    if (this.#headLength < 8 + len) return null;
    const { info, payloadOffset } = parseFilezHeader(head, this.#what);
    if (info.size > this.#target.maxObjectSize) throw declaredSizeError(this.#what, info.size, this.#target.maxObjectSize);
    if (isSymlink(info)) throw formatError(this.#what, 'a symlink object with a body this large');
    if (this.#target.bare) assertBareUserOnlyStorable(info, this.#checksum);
    this.#info = info;
    this.#hash = contentHasher(info);
    this.#head = [];
    // Output in large chunks: each one is a 'data' event, a hash update and a file write, and
    // zlib's default (16 KiB) would make a 100 MB object thousands of each.
    const inflater = createInflateRaw({ chunkSize: INFLATE_CHUNK });
    inflater.on('data', (out: Buffer) => {
      // Garbage once hashed and written: counted towards this thread's collections.
      threadGarbage.note(out.length);
      this.#inflated += out.length;
      if (this.#inflated > info.size) {
        this.#fail(inflatesBeyondError(this.#what, info.size));
        return;
      }
      this.#hash?.update(out);
      if (this.#target.bare) this.#write(out);
    });
    inflater.on('error', (err) => {
      this.#fail(deflateError(this.#what, err.message, err));
    });
    this.#inflater = inflater;
    return head.subarray(payloadOffset);
  }

  #write(bytes: Uint8Array): void {
    const at = this.#position;
    this.#position += bytes.length;
    this.#backlog += bytes.length;
    this.#writes = this.#writes.then(async () => {
      if (this.#error !== null) return;
      const file = await this.#open();
      try {
        let done = 0;
        while (done < bytes.length) done += (await file.write(bytes, done, bytes.length - done, at + done)).bytesWritten;
      } catch (err) {
        this.#fail(fsError('write', this.#tmp, err));
      } finally {
        this.#backlog -= bytes.length;
      }
    });
  }

  #open(): Promise<FileHandle> {
    this.#file ??= open(this.#tmp, 'wx', 0o644).catch((err: unknown) => {
      throw fsError('open', this.#tmp, err);
    });
    return this.#file;
  }

  async #close(): Promise<void> {
    const file = await this.#file;
    await file?.close();
  }

  #fail(err: unknown): void {
    if (this.#error !== null) return;
    this.#error = err;
    this.#inflater?.destroy();
  }
}

function waitDrain(stream: InflateRaw): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      stream.off('drain', done);
      stream.off('close', done);
      resolve();
    };
    stream.on('drain', done);
    stream.on('close', done);
  });
}

/** How a {@link FilezReceiver} stores what it received. */
export interface FilezReceiverSink {
  /** Bytes at which a body is streamed to disk instead of buffered. */
  streamAbove: number;
  /** Stores a whole buffered `.filez` (the repository's batched path). */
  writeWhole(filez: Uint8Array): Promise<unknown>;
  /** Opens a stream for a large one. */
  openStream(): FilezStream;
  /** Finishes a stream (`FilezStream.finish`) and records the object as stored. */
  commitStream(stream: FilezStream): Promise<unknown>;
}

/**
 * A fetched `.filez` on its way into the repository: buffered while small, streamed to disk
 * once large (see the module comment). `push`/`restart` follow the HTTP client's body callbacks;
 * `commit()` is its verify step; `dispose()` always runs last.
 */
export class FilezReceiver {
  readonly #sink: FilezReceiverSink;
  readonly #streamAtOnce: boolean;
  #chunks: Uint8Array[] = [];
  #length = 0;
  #stream: FilezStream | null = null;
  /** Streams given up by `restart()`, still removing their files. */
  #dropped: Promise<void> = Promise.resolve();

  /** `declaredSize`: the body's size when known in advance (a delta's fallback). */
  constructor(sink: FilezReceiverSink, declaredSize?: number) {
    this.#sink = sink;
    this.#streamAtOnce = declaredSize !== undefined && declaredSize > sink.streamAbove;
  }

  push(chunk: Uint8Array): Promise<void> | undefined {
    if (this.#stream !== null) return this.#stream.push(chunk);
    this.#chunks.push(chunk);
    this.#length += chunk.length;
    if (!this.#streamAtOnce && this.#length <= this.#sink.streamAbove) return undefined;
    const stream = this.#sink.openStream();
    this.#stream = stream;
    const buffered = this.#chunks;
    this.#chunks = [];
    this.#length = 0;
    return (async () => {
      for (const c of buffered) await stream.push(c);
    })();
  }

  restart(): void {
    this.#chunks = [];
    this.#length = 0;
    if (this.#stream !== null) {
      const stream = this.#stream;
      this.#stream = null;
      this.#dropped = this.#dropped.then(() => stream.dispose());
    }
  }

  async commit(): Promise<void> {
    await this.#dropped;
    if (this.#stream !== null) {
      const stream = this.#stream;
      this.#stream = null;
      await this.#sink.commitStream(stream);
      return;
    }
    const filez = this.#chunks.length === 1 ? (this.#chunks[0] as Uint8Array) : Buffer.concat(this.#chunks, this.#length);
    this.#chunks = [];
    this.#length = 0;
    await this.#sink.writeWhole(filez);
  }

  /** Called once, when `dispose()` has finished. */
  onDisposed: (() => void) | null = null;

  /** Drops what is buffered and any file being written (idempotent). */
  async dispose(): Promise<void> {
    this.#chunks = [];
    await this.#dropped;
    await this.#stream?.dispose();
    this.#stream = null;
    const done = this.onDisposed;
    this.onDisposed = null;
    done?.();
  }
}
