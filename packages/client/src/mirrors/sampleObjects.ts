import { createHash } from 'node:crypto';
import type { DeltaObjectRef } from '../formats/DeltaSuperblock.js';

/** A deterministic sample of `n` objects: ordered by SHA-256 of seed, type and checksum (the same on every server). */
export function sampleObjects(pool: readonly DeltaObjectRef[], n: number, seed: string): DeltaObjectRef[] {
  const unique = new Map<string, DeltaObjectRef>();
  for (const o of pool) unique.set(`${o.type}:${o.checksum}`, o);
  return [...unique.entries()]
    .map(([key, o]) => ({ o, rank: createHash('sha256').update(`${seed}\0${key}`).digest('hex') }))
    .sort((a, b) => (a.rank < b.rank ? -1 : a.rank > b.rank ? 1 : 0))
    .slice(0, n)
    .map((x) => x.o);
}

/** The same ordering for names (refs): a deterministic choice of `n` among many. */
export function sampleNames(names: readonly string[], n: number, seed: string): string[] {
  if (names.length <= n) return [...names];
  return names
    .map((name) => ({ name, rank: createHash('sha256').update(`${seed}\0${name}`).digest('hex') }))
    .sort((a, b) => (a.rank < b.rank ? -1 : a.rank > b.rank ? 1 : 0))
    .slice(0, n)
    .map((x) => x.name)
    .sort();
}

/** Shell-style glob (`*`, `?`) matching a whole ref. */
export function refGlob(glob: string): RegExp {
  const re = glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${re}$`);
}
