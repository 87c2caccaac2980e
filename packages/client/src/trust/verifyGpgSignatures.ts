/**
 * Verifies detached OpenPGP signatures (the `ostree.gpgsigs` blobs of `summary.sig`,
 * `summary.idx.sig` and `.commitmeta`) over `data` against a keyring. Pure: no I/O.
 */
import type { GpgKeyring } from './GpgKeyring.js';
import type { GpgSignatureInfo, SignatureCheck } from './SignatureCheck.js';

export async function verifyGpgSignatures(
  data: Uint8Array,
  signatures: readonly Uint8Array[],
  keyring: GpgKeyring,
): Promise<SignatureCheck> {
  const infos: GpgSignatureInfo[] = [];
  for (const blob of signatures) infos.push(await keyring.verifyDetached(data, blob));
  const good = infos.find((s) => s.status === 'good') ?? null;
  const verdict =
    good !== null
      ? 'good'
      : infos.length === 0
        ? 'unsigned'
        : infos.some((s) => s.status === 'bad' || s.status === 'unreadable')
          ? 'bad'
          : 'unknown-key';
  return { verdict, good, signatures: infos };
}
