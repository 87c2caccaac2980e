/**
 * Where a streaming xz decoder puts its output: first into a buffer the caller preallocated (a
 * SharedArrayBuffer when the decoder runs in a worker thread), then, past its end, into overflow
 * chunks. Shared by every xz decoder backend (the `xz` program, the WebAssembly decoder in a
 * worker thread), so that all of them bound their output the same way: more than `limit` bytes in
 * all is refused as soon as it is produced.
 */
// A `.ts` specifier: the xz worker thread loads this file from the sources in tests (see xzWorker.ts).
import { threadGarbage } from './garbageBudget.ts';

/** A decoder's output once the stream ended: `outSize` bytes, the first `inShared` of them in the buffer. */
export interface XzOutput {
  /** Output bytes in all. */
  outSize: number;
  /** Bytes in the preallocated buffer (all of them unless it overflowed). */
  inShared: number;
  /** The rest, in order. */
  overflow: Uint8Array[];
  /**
   * Where a decoder asked to keep its output file did (the `xz` program's, see XzProcessStream):
   * the open file holding all `outSize` bytes, now the caller's to close; nothing is in the buffer.
   */
  file?: number;
}

/** Why a decoder stopped: invalid data (`xz`) or output beyond the limit (`too-large`). */
export interface XzStreamError {
  kind: 'xz' | 'too-large';
  message: string;
  /** Output bytes reached, for 'too-large'. */
  size?: number | undefined;
}

/** One xz stream being decoded: the interface every backend implements. */
export interface XzStream {
  /**
   * Feeds compressed bytes, which the caller must not change afterwards (a backend may hold on to
   * them until they are written); a promise while the decoder is behind (backpressure).
   */
  push(bytes: Uint8Array): Promise<void> | undefined;
  /** Ends the input: the output, or an {@link XzStreamError}. */
  finish(): Promise<XzOutput>;
  /** Abandons the stream (a pending `finish()` rejects). */
  destroy(): void;
}

export class XzOutputSink {
  readonly #out: Uint8Array | null;
  readonly #limit: number;
  #outSize = 0;
  #overflow: Uint8Array[] = [];
  #spill = 0;

  constructor(buffer: ArrayBufferLike | null, limit: number) {
    this.#out = buffer === null ? null : new Uint8Array(buffer);
    this.#limit = limit;
  }

  get size(): number {
    return this.#outSize;
  }

  /** Copies `b` in (a Buffer's slice() would be a view); false (nothing kept) once the output passes the limit. */
  write(b: Uint8Array): boolean {
    // `b` (a chunk of the decoder's output) is garbage once copied.
    threadGarbage.note(b.length);
    const at = this.#outSize;
    this.#outSize += b.length;
    if (this.#outSize > this.#limit) return false;
    const out = this.#out;
    if (out !== null && this.#overflow.length === 0) {
      const fit = Math.min(b.length, out.length - at);
      if (fit > 0) out.set(fit === b.length ? b : b.subarray(0, fit), at);
      if (fit === b.length) return true;
      this.#spill = at + Math.max(0, fit);
      this.#overflow.push(new Uint8Array(b.subarray(Math.max(0, fit))));
      return true;
    }
    // No buffer (or past its end already): `#spill` stays where the buffer's part ended.
    this.#overflow.push(new Uint8Array(b));
    return true;
  }

  /**
   * Takes all `size` bytes of the output at once from `read` (which fills the array it is given
   * from that position of the source): into the buffer as far as it goes, the rest as one
   * overflow chunk. For a decoder that put its output elsewhere first (the `xz` program, into a
   * file); the caller has checked `size` against the limit. Once, on a sink with no output yet.
   */
  async fill(size: number, read: (into: Uint8Array, position: number) => Promise<void>): Promise<void> {
    if (this.#outSize !== 0) throw new Error('the sink has output already');
    const fit = this.#out === null ? 0 : Math.min(size, this.#out.length);
    if (this.#out !== null && fit > 0) await read(this.#out.subarray(0, fit), 0);
    if (fit < size) {
      const rest = new Uint8Array(size - fit);
      await read(rest, fit);
      this.#overflow.push(rest);
      this.#spill = fit;
    }
    this.#outSize = size;
  }

  tooLarge(): XzStreamError {
    return { kind: 'too-large', message: `payload exceeds ${this.#limit} bytes`, size: this.#outSize };
  }

  /** The output so far (call once, at the end: the overflow chunks are handed over). */
  take(): XzOutput {
    const overflow = this.#overflow;
    this.#overflow = [];
    return { outSize: this.#outSize, inShared: overflow.length > 0 ? this.#spill : this.#outSize, overflow };
  }
}
