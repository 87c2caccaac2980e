/**
 * Verifies detached OpenPGP signatures (the `ostree.gpgsigs` blobs of `summary.sig`,
 * `summary.idx.sig` and `.commitmeta`) over `data` against a keyring. Pure: no I/O.
 */
import { createMessage, readSignature, verify } from 'openpgp';
import type { GpgKeyring } from './GpgKeyring.js';
import type { GpgSignatureInfo, SignatureCheck } from './SignatureCheck.js';

export async function verifyGpgSignatures(
  data: Uint8Array,
  signatures: readonly Uint8Array[],
  keyring: GpgKeyring,
): Promise<SignatureCheck> {
  const infos: GpgSignatureInfo[] = [];
  for (const blob of signatures) infos.push(await verifyOne(data, blob, keyring));
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

async function verifyOne(data: Uint8Array, blob: Uint8Array, keyring: GpgKeyring): Promise<GpgSignatureInfo> {
  let signature: Awaited<ReturnType<typeof readSignature>>;
  try {
    signature = await readSignature({ binarySignature: blob });
  } catch (err) {
    return { status: 'unreadable', keyId: null, fingerprint: null, created: null, reason: (err as Error).message };
  }
  const packet = signature.packets[0];
  const keyId = packet?.issuerKeyID?.toHex().toUpperCase() ?? null;
  const created = packet?.created instanceof Date ? packet.created.toISOString() : null;
  if (keyId === null || !keyring.hasKeyId(keyId)) {
    return { status: 'unknown-key', keyId, fingerprint: null, created, reason: `no public key ${keyId ?? '(no issuer)'} in the keyring` };
  }
  const key = keyring.keys.find((k) => k.getKeyIDs().some((kid) => kid.toHex().toUpperCase() === keyId));
  const fingerprint = key?.getFingerprint().toUpperCase() ?? null;
  try {
    const result = await verify({
      message: await createMessage({ binary: data }),
      signature,
      verificationKeys: [...keyring.keys],
      format: 'binary',
    });
    for (const s of result.signatures) {
      if (s.keyID.toHex().toUpperCase() !== keyId) continue;
      await s.verified;
      return { status: 'good', keyId, fingerprint, created, reason: null };
    }
    return { status: 'bad', keyId, fingerprint, created, reason: 'no verifiable signature packet' };
  } catch (err) {
    return { status: 'bad', keyId, fingerprint, created, reason: (err as Error).message };
  }
}
