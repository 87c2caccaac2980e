/** Reading typed values out of `a{sv}` dictionaries (metadata of commits, summaries, deltas). */
import type { Variant } from '../gvariant/Variant.js';
import { type Checksum, checksumFromBytes } from './checksum.js';
import { bswap64 } from './endian.js';
import { formatError } from './formatError.js';

export type VarDict = Array<[string, Variant]>;

export function lookup(dict: VarDict, key: string): Variant | undefined {
  for (const [k, v] of dict) if (k === key) return v;
  return undefined;
}

/** The value under `key` if present; throws ERR_FORMAT if present with another type. */
export function lookupTyped<T>(dict: VarDict, key: string, type: string, what: string): T | undefined {
  const v = lookup(dict, key);
  if (v === undefined) return undefined;
  if (v.type !== type) throw formatError(what, `key "${key}" has type "${v.type}", expected "${type}"`);
  return v.value as T;
}

export function lookupString(dict: VarDict, key: string, what: string): string | undefined {
  return lookupTyped<string>(dict, key, 's', what);
}

export function lookupBool(dict: VarDict, key: string, what: string): boolean | undefined {
  return lookupTyped<boolean>(dict, key, 'b', what);
}

/** A `t` stored big-endian (ostree's convention for timestamps in metadata). */
export function lookupBigEndianU64(dict: VarDict, key: string, what: string): bigint | undefined {
  const v = lookupTyped<bigint>(dict, key, 't', what);
  return v === undefined ? undefined : bswap64(v);
}

/** `ostree.static-deltas`: a{sv} of delta name → v(ay) superblock SHA-256. */
export function parseDeltaDigests(dict: VarDict, what: string): Map<string, Checksum> {
  const out = new Map<string, Checksum>();
  const deltas = lookupTyped<VarDict>(dict, 'ostree.static-deltas', 'a{sv}', what);
  if (deltas === undefined) return out;
  for (const [name, v] of deltas) {
    if (v.type !== 'ay') throw formatError(what, `static delta "${name}" digest has type "${v.type}", expected "ay"`);
    out.set(name, checksumFromBytes(v.value as Uint8Array, `digest of static delta ${name}`));
  }
  return out;
}
