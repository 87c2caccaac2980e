/** The outcome of verifying OpenPGP signatures over some data, as ostree decides it. */

export type SignatureStatus = 'good' | 'bad' | 'unknown-key' | 'unreadable';

export interface GpgSignatureInfo {
  status: SignatureStatus;
  /** Long key ID of the issuer, upper-case hex (null when the packet is unreadable). */
  keyId: string | null;
  /** Fingerprint of the key that verified it (good or bad), upper-case hex. */
  fingerprint: string | null;
  /** Signature creation time, ISO 8601. */
  created: string | null;
  /** Why it is not good. */
  reason: string | null;
}

/**
 * `good`: at least one signature verifies with a key of the keyring (ostree's rule). Otherwise
 * `bad` when one was made by a keyring key but does not verify (or none could be read),
 * `unknown-key` when every signature is by a key not in the keyring, `unsigned` when there is
 * no signature at all.
 */
export type SignatureVerdict = 'good' | 'bad' | 'unknown-key' | 'unsigned';

export interface SignatureCheck {
  verdict: SignatureVerdict;
  /** The first good signature, when the verdict is good. */
  good: GpgSignatureInfo | null;
  signatures: GpgSignatureInfo[];
}

/** What `pull({ verify: true })` checked before downloading anything else. */
export interface RemoteVerification {
  /** The keys verified against. */
  keys: Array<{ fingerprint: string; keyId: string; userIds: string[] }>;
  /** The summary's signature (`summary.sig`, or `summary.idx.sig` for a Flatpak index); null for a repository without a summary. */
  summary: { file: string; url: string; check: SignatureCheck } | null;
  /** The commit's signature (`.commitmeta`). */
  commit: { checksum: string; url: string; check: SignatureCheck };
}
