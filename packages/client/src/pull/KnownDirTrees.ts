/**
 * Dirtrees a pull has verified and written (from delta parts), kept so that the final walk of
 * the commit's tree need not read them back from disk. Bounded: once `maxBytes` are held,
 * further dirtrees are simply read back when needed. A dirtree is kept as a copy of its own
 * size: the bytes given are a view into a delta part's payload or a window of it, which a view
 * kept here would hold for the rest of the pull (and a window's buffer is reused).
 */
import type { Checksum } from '../formats/checksum.js';

export class KnownDirTrees {
  readonly maxBytes: number;
  readonly #trees = new Map<Checksum, Uint8Array>();
  #bytes = 0;

  /** @param maxBytes @default 32 MiB */
  constructor(maxBytes = 32 * 1024 * 1024) {
    this.maxBytes = maxBytes;
  }

  add(checksum: Checksum, bytes: Uint8Array): void {
    if (this.#trees.has(checksum) || this.#bytes + bytes.length > this.maxBytes) return;
    this.#bytes += bytes.length;
    const own = bytes.byteLength === bytes.buffer.byteLength && !(bytes.buffer instanceof SharedArrayBuffer);
    this.#trees.set(checksum, own ? bytes : bytes.slice());
  }

  get(checksum: Checksum): Uint8Array | undefined {
    return this.#trees.get(checksum);
  }
}
