import { createHash } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { ObjectKeySet } from '../src/repo/ObjectKeySet.js';

const EXTS = ['commit', 'dirtree', 'dirmeta', 'filez', 'file', 'commitmeta', 'commit-tombstone'];
const hex = (i: number) => createHash('sha256').update(String(i)).digest('hex');
const key = (i: number) => `${hex(i)}.${EXTS[i % EXTS.length]}`;

describe('ObjectKeySet (object keys as bytes)', () => {
  test('answers as a Set<string> does through adds, deletes and re-adds past several resizes', () => {
    const set = new ObjectKeySet();
    const model = new Set<string>();
    // A deterministic mix: mostly adds, some deletes (tombstones), some re-adds of deleted keys.
    let seed = 1;
    const rand = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed % n;
    };
    for (let step = 0; step < 30_000; step++) {
      const k = key(rand(12_000));
      const op = rand(10);
      if (op < 7) {
        expect(set.add(k)).toBe(set);
        model.add(k);
      } else expect(set.delete(k)).toBe(model.delete(k));
      if (step % 97 === 0) expect(set.size).toBe(model.size);
    }
    expect(set.size).toBe(model.size);
    for (let i = 0; i < 12_000; i++) expect(set.has(key(i))).toBe(model.has(key(i)));
    expect(new Set(set)).toEqual(model);
    expect([...set.keys()].sort()).toEqual([...model].sort());
    expect([...set.entries()].every(([a, b]) => a === b && model.has(a))).toBe(true);
    let seen = 0;
    set.forEach(function (this: unknown, v, k, s) {
      expect(v).toBe(k);
      expect(s).toBe(set);
      expect(this).toBe(model);
      seen++;
    }, model);
    expect(seen).toBe(model.size);
  });

  test('the same checksum under two extensions is two keys; an unknown extension is not present', () => {
    const set = new ObjectKeySet();
    set.add(`${hex(1)}.dirtree`);
    expect(set.has(`${hex(1)}.dirtree`)).toBe(true);
    expect(set.has(`${hex(1)}.dirmeta`)).toBe(false);
    expect(set.has(`${hex(1)}.never-seen`)).toBe(false);
    set.add(`${hex(1)}.dirmeta`);
    expect(set.size).toBe(2);
    expect(set.delete(`${hex(1)}.dirtree`)).toBe(true);
    expect(set.has(`${hex(1)}.dirmeta`)).toBe(true);
    expect([...set]).toEqual([`${hex(1)}.dirmeta`]);
  });

  test('keys of another shape are kept as strings, beside the table', () => {
    const set = new ObjectKeySet();
    const odd = [`${hex(2).toUpperCase()}.filez`, `${hex(3)}`, `${hex(4).slice(2)}.filez`, `${hex(5)}.`, `${hex(6)}.Filez`, 'x'];
    for (const k of odd) set.add(k);
    set.add(key(7));
    expect(set.size).toBe(odd.length + 1);
    for (const k of odd) expect(set.has(k)).toBe(true);
    expect(new Set(set)).toEqual(new Set([...odd, key(7)]));
    expect(set.delete(odd[0] as string)).toBe(true);
    expect(set.has(odd[0] as string)).toBe(false);
    expect(set.size).toBe(odd.length);
  });
});
