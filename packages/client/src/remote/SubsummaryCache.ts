/**
 * Cache of Flatpak subsummaries (uncompressed, named by their SHA-256), so that the next open
 * of the remote can fetch a small summary delta (`summaries/<old>-<new>.delta`) instead of the
 * whole subsummary — or nothing at all when it has not changed. Entries are verified on read.
 */
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Checksum, sha256Hex } from '../formats/checksum.js';

export class SubsummaryCache {
  readonly dir: string;
  /** Entries kept (oldest beyond this are removed on write). @default 8 */
  readonly keep: number;

  constructor(dir: string, keep = 8) {
    this.dir = dir;
    this.keep = keep;
  }

  /** The verified bytes of a cached subsummary, or null. */
  async get(checksum: Checksum): Promise<Uint8Array | null> {
    try {
      const bytes = new Uint8Array(await readFile(join(this.dir, checksum)));
      if (sha256Hex(bytes) === checksum) return bytes;
      await rm(join(this.dir, checksum), { force: true });
    } catch {
      // absent or unreadable: not cached
    }
    return null;
  }

  async put(checksum: Checksum, bytes: Uint8Array): Promise<void> {
    try {
      await mkdir(this.dir, { recursive: true });
      const tmp = join(this.dir, `.${checksum}.${process.pid}.tmp`);
      await writeFile(tmp, bytes);
      await rename(tmp, join(this.dir, checksum));
      const names = (await readdir(this.dir)).filter((n) => /^[0-9a-f]{64}$/.test(n));
      if (names.length > this.keep) {
        const aged = await Promise.all(names.map(async (n) => ({ n, t: (await stat(join(this.dir, n))).mtimeMs })));
        aged.sort((a, b) => a.t - b.t);
        for (const { n } of aged.slice(0, aged.length - this.keep)) if (n !== checksum) await rm(join(this.dir, n), { force: true });
      }
    } catch {
      // A cache that cannot be written only costs a larger download next time.
    }
  }
}
