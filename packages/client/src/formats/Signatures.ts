/**
 * Detached signatures and metadata: `summary.sig`, `summary.idx.sig` and `.commitmeta` are
 * all `a{sv}`. `ostree.gpgsigs` (aay) holds OpenPGP signature blobs, `ostree.sign.ed25519`
 * (aay) raw 64-byte ed25519 signatures.
 */
import { gv } from '../gvariant/schema.js';
import { withContext } from './formatError.js';
import { lookupString, lookupTyped, type VarDict } from './VarDict.js';

export const DETACHED_METADATA_TYPE = 'a{sv}';
const schema = gv(DETACHED_METADATA_TYPE);

export interface DetachedMetadata {
  gpgSignatures: Uint8Array[];
  ed25519Signatures: Uint8Array[];
  /** `ostree.ref-binding` (commitmeta only). */
  refBinding: string[] | null;
  collectionBinding: string | null;
  metadata: VarDict;
}

export function parseDetachedMetadata(bytes: Uint8Array, what = 'detached metadata'): DetachedMetadata {
  return withContext(what, () => fromVarDict(schema.decode(bytes), what));
}

/** The same, from an already-decoded a{sv} (the superblock carries commitmeta inline). */
export function fromVarDict(metadata: VarDict, what: string): DetachedMetadata {
  return {
    gpgSignatures: lookupTyped<Uint8Array[]>(metadata, 'ostree.gpgsigs', 'aay', what) ?? [],
    ed25519Signatures: lookupTyped<Uint8Array[]>(metadata, 'ostree.sign.ed25519', 'aay', what) ?? [],
    refBinding: lookupTyped<string[]>(metadata, 'ostree.ref-binding', 'as', what) ?? null,
    collectionBinding: lookupString(metadata, 'ostree.collection-binding', what) ?? null,
    metadata,
  };
}

export function serializeDetachedMetadata(metadata: VarDict): Uint8Array {
  return schema.encode(metadata);
}
