/** Helpers for decoded dictionaries (`a{KV}` decodes to an array of [key, value] pairs). */
import type { Variant } from './Variant.js';

/** The value of the first entry with key `key`, or undefined. */
export function dictGet<K, V>(dict: ReadonlyArray<readonly [K, V]>, key: K): V | undefined {
  for (const [k, v] of dict) if (k === key) return v;
  return undefined;
}

/** Looks up `key` in an `a{sv}` and returns the contained value if it has type `type`. */
export function vardictGet<T = unknown>(dict: ReadonlyArray<readonly [string, Variant]>, key: string, type: string): T | undefined {
  const v = dictGet(dict, key);
  return v !== undefined && v.type === type ? (v.value as T) : undefined;
}

/** A Map of a decoded dictionary (later duplicates are ignored, as GLib's lookup returns the first). */
export function dictToMap<K, V>(dict: ReadonlyArray<readonly [K, V]>): Map<K, V> {
  const m = new Map<K, V>();
  for (const [k, v] of dict) if (!m.has(k)) m.set(k, v);
  return m;
}
