/**
 * In-memory set of the loose objects of a repository, keyed `<checksum>.<ext>` (the object
 * file name with its two-character directory folded back in, e.g. `ab12….dirtree`), so that a
 * planner can ask "is it there?" synchronously for thousands of objects. Filled once by
 * scanning `objects/`; every write through the repository adds to it.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Checksum } from '../formats/checksum.js';
import type { ObjectType } from '../formats/ObjectType.js';
import { objectExtension } from '../formats/paths.js';
import { errnoOf, fsError } from './fsError.js';

const DIR = /^[0-9a-f]{2}$/;
const FILE = /^[0-9a-f]{62}\.[a-z-]+$/;

export class ObjectIndex {
  readonly #set = new Set<string>();
  readonly #subdirs = new Set<string>();
  #loaded = false;

  static key(type: ObjectType, checksum: Checksum, mode: 'archive' | 'bare' = 'archive'): string {
    return `${checksum}.${objectExtension(type, mode)}`;
  }

  /** True once `load()` has completed. */
  get loaded(): boolean {
    return this.#loaded;
  }

  /** The keys (a live view: writes after loading appear in it). */
  get keys(): ReadonlySet<string> {
    return this.#set;
  }

  has(key: string): boolean {
    return this.#set.has(key);
  }

  add(key: string): void {
    this.#set.add(key);
  }

  delete(key: string): void {
    this.#set.delete(key);
  }

  /** Scans `objectsDir` (one readdir per `XX/` directory) and merges what it finds. */
  async load(objectsDir: string): Promise<void> {
    let dirs: string[];
    try {
      dirs = await readdir(objectsDir);
    } catch (err) {
      if (errnoOf(err) !== 'ENOENT') throw fsError('readdir', objectsDir, err);
      dirs = [];
    }
    for (const d of dirs) {
      if (!DIR.test(d)) continue;
      let names: string[];
      try {
        names = await readdir(join(objectsDir, d));
      } catch (err) {
        if (errnoOf(err) === 'ENOTDIR' || errnoOf(err) === 'ENOENT') continue;
        throw fsError('readdir', join(objectsDir, d), err);
      }
      this.#subdirs.add(d);
      for (const n of names) if (FILE.test(n)) this.#set.add(d + n);
    }
    this.#loaded = true;
  }

  /** The `objects/XX` directories found by `load()`. */
  get subdirs(): ReadonlySet<string> {
    return this.#subdirs;
  }
}
