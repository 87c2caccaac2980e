/**
 * In-memory set of the loose objects of a repository, keyed `<checksum>.<ext>` (the object
 * file name with its two-character directory folded back in, e.g. `ab12….dirtree`), so that a
 * planner can ask "is it there?" synchronously for thousands of objects. Filled as objects are
 * asked about, never by reading more of `objects/` than they need: an object alone is looked up
 * with one `lstat` (`checkSync`); the objects under one `objects/XX` directory asked about
 * together, from PREFIX_READ_FROM of them, by reading that directory (`loadPrefixes`); all of
 * them only by `load()`. The cost of a pull's questions so grows with the objects it asks about,
 * not with the repository. Every write through the repository adds to it.
 */
import { lstatSync, readdirSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Checksum } from '../formats/checksum.js';
import type { ObjectType } from '../formats/ObjectType.js';
import { objectExtension } from '../formats/paths.js';
import { errnoOf, fsError } from './fsError.js';

const DIR = /^[0-9a-f]{2}$/;
const FILE = /^[0-9a-f]{62}\.[a-z-]+$/;
/**
 * Objects asked about together under one `objects/XX` from which its directory is read instead
 * of each object looked up. Reading an entry costs well under an `lstat`, but a directory holds
 * every object under its prefix: about the break-even point for a repository of a runtime's
 * size (≈ 90 objects per directory). Fewer asked about cost at most that many lookups, whatever
 * the repository's size.
 */
export const PREFIX_READ_FROM = 32;
/** `00` … `ff`: the `objects/` subdirectories. */
export const HEX_PREFIXES: readonly string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

export class ObjectIndex {
  readonly #objectsDir: string;
  readonly #set = new Set<string>();
  /** Prefixes (`XX`) whose directory has been read, or is known not to exist. */
  readonly #read = new Set<string>();
  /**
   * Keys looked up one by one (`checkSync`) and not found. At most the objects a caller asked
   * about; a write of one moves it to the set.
   */
  readonly #absent = new Set<string>();
  /** Reads of prefix directories under way. */
  readonly #reading = new Map<string, Promise<void>>();
  /** The `objects/XX` directories that exist, once `objects/` has been listed (null before). */
  #subdirs: Set<string> | null = null;
  #listing: Promise<Set<string>> | null = null;

  constructor(objectsDir: string) {
    this.#objectsDir = objectsDir;
  }

  static key(type: ObjectType, checksum: Checksum, mode: 'archive' | 'bare' = 'archive'): string {
    return `${checksum}.${objectExtension(type, mode)}`;
  }

  /** True once every `objects/XX` directory has been read. */
  get loaded(): boolean {
    return this.#read.size === HEX_PREFIXES.length;
  }

  /** The keys (a live view: writes and later reads appear in it). */
  get keys(): ReadonlySet<string> {
    return this.#set;
  }

  /** Whether the objects under `prefix` (a checksum's first two characters) are known. */
  knows(prefix: string): boolean {
    return this.#read.has(prefix);
  }

  /** Whether `key`'s presence is known: its prefix directory read, or the object looked up. */
  knowsKey(key: string): boolean {
    return this.#set.has(key) || this.#absent.has(key) || this.#read.has(key.slice(0, 2));
  }

  has(key: string): boolean {
    return this.#set.has(key);
  }

  add(key: string): void {
    this.#set.add(key);
    this.#absent.delete(key);
  }

  delete(key: string): void {
    this.#set.delete(key);
  }

  /** The `objects/XX` directories that exist (one readdir of `objects/`, once). */
  subdirs(): Promise<ReadonlySet<string>> {
    this.#listing ??= readdir(this.#objectsDir).then(
      (names) => this.#listed(names),
      (err: unknown) => {
        if (errnoOf(err) !== 'ENOENT') throw fsError('readdir', this.#objectsDir, err);
        return this.#listed([]);
      },
    );
    return this.#listing;
  }

  #listed(names: readonly string[]): Set<string> {
    this.#subdirs ??= new Set(names.filter((d) => DIR.test(d)));
    return this.#subdirs;
  }

  /** Reads the directories of `prefixes` not read yet, a few at a time. */
  async loadPrefixes(prefixes: Iterable<string>): Promise<void> {
    const existing = await this.subdirs();
    const reads: Promise<void>[] = [];
    for (const p of prefixes) {
      if (this.#read.has(p)) continue;
      if (!existing.has(p)) {
        this.#read.add(p);
        continue;
      }
      let r = this.#reading.get(p);
      if (r === undefined) {
        r = readdir(join(this.#objectsDir, p)).then(
          (names) => this.#merge(p, names),
          (err: unknown) => {
            this.#reading.delete(p);
            if (errnoOf(err) === 'ENOTDIR' || errnoOf(err) === 'ENOENT') return this.#merge(p, []);
            throw fsError('readdir', join(this.#objectsDir, p), err);
          },
        );
        this.#reading.set(p, r);
      }
      reads.push(r);
    }
    await Promise.all(reads);
  }

  /**
   * Looks up one object now (for a synchronous question about it): one `lstat` of its file, or
   * none when its `objects/XX` directory does not exist (nothing under it, then, is present).
   */
  checkSync(key: string): void {
    if (this.knowsKey(key)) return;
    const prefix = key.slice(0, 2);
    if (this.#subdirs === null) {
      let names: string[];
      try {
        names = readdirSync(this.#objectsDir);
      } catch (err) {
        if (errnoOf(err) !== 'ENOENT') throw fsError('readdir', this.#objectsDir, err);
        names = [];
      }
      this.#listed(names);
    }
    if (!this.#subdirs?.has(prefix)) {
      this.#read.add(prefix);
      return;
    }
    const file = join(this.#objectsDir, prefix, key.slice(2));
    let found: boolean;
    try {
      found = lstatSync(file, { throwIfNoEntry: false }) !== undefined;
    } catch (err) {
      if (errnoOf(err) !== 'ENOTDIR') throw fsError('stat', file, err);
      found = false;
    }
    if (found) this.#set.add(key);
    else this.#absent.add(key);
  }

  #merge(prefix: string, names: readonly string[]): void {
    this.#reading.delete(prefix);
    if (this.#read.has(prefix)) return;
    for (const n of names) if (FILE.test(n)) this.#set.add(prefix + n);
    this.#read.add(prefix);
  }

  /** Reads every `objects/XX` directory not read yet. */
  async load(): Promise<void> {
    await this.loadPrefixes(HEX_PREFIXES);
  }
}
