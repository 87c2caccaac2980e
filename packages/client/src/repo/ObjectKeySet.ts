/**
 * A set of object keys (`<checksum>.<ext>`, e.g. `ab12….dirtree`) kept as bytes: 33 per key
 * (the checksum's 32 bytes and a code for the extension) in one open-addressing table outside
 * the JavaScript heap. A repository of a runtime has tens of thousands of objects; as strings in
 * a `Set` each key costs about 250 bytes of heap that every collection traces.
 *
 * Invariants: a slot's first byte is 0 (empty), TOMBSTONE (deleted) or an extension's code + 1;
 * the table is never more than half full (tombstones counted), so a probe always ends at an empty
 * slot. Keys of another shape (not 64 lowercase hex digits, a dot and an extension) are kept in a
 * plain `Set` beside the table, so the set holds any string.
 */
const SLOT = 33;
const TOMBSTONE = 0xff;
/** Extensions beyond this many distinct ones go to the plain set (the table's code is one byte). */
const MAX_EXTENSIONS = TOMBSTONE - 2;
const KEY = /^[0-9a-f]{64}\.[a-z-]+$/;

function hexValue(c: number): number {
  return c <= 0x39 ? c - 0x30 : c - 0x57;
}

export class ObjectKeySet implements ReadonlySet<string> {
  #table = new Uint8Array(SLOT * 1024);
  #capacity = 1024;
  /** Slots holding a key or a tombstone. */
  #used = 0;
  #size = 0;
  readonly #extensions: string[] = [];
  readonly #codes = new Map<string, number>();
  /** Keys of another shape. */
  readonly #other = new Set<string>();
  /** The key being looked up, as bytes. */
  readonly #scratch = new Uint8Array(32);

  get size(): number {
    return this.#size + this.#other.size;
  }

  has(key: string): boolean {
    const code = this.#parse(key, false);
    if (code < 0) return this.#other.has(key);
    return this.#find(code) >= 0;
  }

  add(key: string): this {
    const code = this.#parse(key, true);
    if (code < 0) {
      this.#other.add(key);
      return this;
    }
    if (this.#find(code) >= 0) return this;
    if ((this.#used + 1) * 2 > this.#capacity) this.#resize(this.#size + 1 > this.#capacity / 4 ? this.#capacity * 2 : this.#capacity);
    const at = this.#slotFor(this.#table, this.#capacity, code, this.#scratch);
    if (this.#table[at] === 0) this.#used++;
    this.#table[at] = code + 1;
    this.#table.set(this.#scratch, at + 1);
    this.#size++;
    return this;
  }

  delete(key: string): boolean {
    const code = this.#parse(key, false);
    if (code < 0) return this.#other.delete(key);
    const at = this.#find(code);
    if (at < 0) return false;
    this.#table[at] = TOMBSTONE;
    this.#size--;
    return true;
  }

  *values(): SetIterator<string> {
    const table = this.#table;
    for (let at = 0; at < table.length; at += SLOT) {
      const c = table[at] as number;
      if (c === 0 || c === TOMBSTONE) continue;
      yield `${Buffer.from(table.buffer, table.byteOffset + at + 1, 32).toString('hex')}.${this.#extensions[c - 1]}`;
    }
    yield* this.#other;
  }

  keys(): SetIterator<string> {
    return this.values();
  }

  *entries(): SetIterator<[string, string]> {
    for (const k of this.values()) yield [k, k];
  }

  [Symbol.iterator](): SetIterator<string> {
    return this.values();
  }

  forEach(fn: (value: string, key: string, set: ReadonlySet<string>) => void, thisArg?: unknown): void {
    for (const k of this.values()) fn.call(thisArg, k, k, this);
  }

  /**
   * The extension's code with the checksum's bytes in the scratch buffer, or -1 for a key of
   * another shape (or an extension not seen before, unless `learn`).
   */
  #parse(key: string, learn: boolean): number {
    if (key.length < 66 || key.charCodeAt(64) !== 0x2e || !KEY.test(key)) return -1;
    const ext = key.slice(65);
    let code = this.#codes.get(ext);
    if (code === undefined) {
      if (!learn || this.#extensions.length >= MAX_EXTENSIONS) return -1;
      code = this.#extensions.length;
      this.#extensions.push(ext);
      this.#codes.set(ext, code);
    }
    const out = this.#scratch;
    for (let i = 0; i < 32; i++) out[i] = (hexValue(key.charCodeAt(2 * i)) << 4) | hexValue(key.charCodeAt(2 * i + 1));
    return code;
  }

  /** The slot holding the scratch key with this code, or -1. */
  #find(code: number): number {
    const table = this.#table;
    const key = this.#scratch;
    const mask = this.#capacity - 1;
    for (let i = this.#start(key, code) & mask; ; i = (i + 1) & mask) {
      const at = i * SLOT;
      const c = table[at] as number;
      if (c === 0) return -1;
      if (c === code + 1 && this.#same(table, at + 1, key)) return at;
    }
  }

  /** Where the key goes in `table`: the first empty or deleted slot of its probe sequence (the key is not there). */
  #slotFor(table: Uint8Array, capacity: number, code: number, key: Uint8Array): number {
    const mask = capacity - 1;
    for (let i = this.#start(key, code) & mask; ; i = (i + 1) & mask) {
      const at = i * SLOT;
      const c = table[at] as number;
      if (c === 0 || c === TOMBSTONE) return at;
    }
  }

  /** A checksum's bytes are uniformly distributed: four of them, mixed with the code, are the hash. */
  #start(key: Uint8Array, code: number): number {
    const h = (key[0] as number) | ((key[1] as number) << 8) | ((key[2] as number) << 16) | ((key[3] as number) << 24);
    return (h ^ Math.imul(code, 0x9e3779b1)) >>> 0;
  }

  #same(table: Uint8Array, at: number, key: Uint8Array): boolean {
    for (let i = 0; i < 32; i++) if (table[at + i] !== key[i]) return false;
    return true;
  }

  /** Rehashes into `capacity` slots (a power of two), dropping tombstones. */
  #resize(capacity: number): void {
    const old = this.#table;
    const table = new Uint8Array(SLOT * capacity);
    const key = new Uint8Array(32);
    for (let at = 0; at < old.length; at += SLOT) {
      const c = old[at] as number;
      if (c === 0 || c === TOMBSTONE) continue;
      key.set(old.subarray(at + 1, at + SLOT));
      const to = this.#slotFor(table, capacity, c - 1, key);
      table[to] = c;
      table.set(key, to + 1);
    }
    this.#table = table;
    this.#capacity = capacity;
    this.#used = this.#size;
  }
}
