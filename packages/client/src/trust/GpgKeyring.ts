/**
 * The OpenPGP public keys a repository is verified against: from a key file (binary or
 * ASCII-armored, one or more keys), a `.flatpakrepo` `GPGKey=` (base64 of binary keys) or a
 * summary's `xa.gpg-keys` (binary).
 *
 * OpenPGP is done by OpenPGP.js (`openpgp` 6): maintained by Proton with regular releases,
 * no dependencies, typed, pure JS with native `crypto` underneath; verifying in process costs
 * less than spawning `gpgv` per signature (`node bench/run.mjs mirrors` compares them). The
 * alternatives were `kbpgp` (Keybase's, CoffeeScript, little used) and spawning `gpgv` (a
 * system tool, not a library).
 */
import type { PublicKey, readSignature } from 'openpgp';

/** OpenPGP.js, loaded on first use: commands that verify nothing should not pay for importing it. */
let openpgp: Promise<typeof import('openpgp')> | null = null;
const loadOpenPgp = () => {
  openpgp ??= import('openpgp');
  return openpgp;
};
import { FlathubFetchError } from '../errors/FlathubFetchError.js';
import { ErrorCodes } from '../errors/codes.js';
import type { GpgSignatureInfo } from './SignatureCheck.js';

/** Binary keys (possibly several, concatenated), ASCII-armored text, or base64 of binary keys. */
export type GpgKeyInput = Uint8Array | string;

export interface GpgKeyInfo {
  /** Primary key fingerprint, upper-case hex. */
  fingerprint: string;
  /** Long key ID (last 16 hex digits of the fingerprint), upper-case. */
  keyId: string;
  userIds: string[];
}

/**
 * OpenPGP.js types stay private (`#keys`): its declarations import an optional peer
 * (`@openpgp/web-stream-tools`) that a consumer type-checking libraries would otherwise need.
 */
export class GpgKeyring {
  readonly #keys: PublicKey[];

  private constructor(keys: PublicKey[]) {
    this.#keys = keys;
  }

  /** Reads every key of every input; throws ERR_INVALID_ARGUMENT naming `what` when one is unreadable. */
  static async from(inputs: readonly GpgKeyInput[], what = 'GPG key'): Promise<GpgKeyring> {
    const keys: PublicKey[] = [];
    const { readKeys } = await loadOpenPgp();
    for (const input of inputs) {
      try {
        const opts = toReadOptions(input);
        const found = 'binaryKeys' in opts ? await readKeys(opts) : await readKeys(opts);
        keys.push(...found.map((k) => k.toPublic()));
      } catch (err) {
        throw new FlathubFetchError(
          ErrorCodes.INVALID_ARGUMENT,
          `${what}: not an OpenPGP public key (${(err as Error).message})`,
          { argument: 'gpgKey', reason: (err as Error).message },
          { cause: err },
        );
      }
    }
    return new GpgKeyring(keys);
  }

  get size(): number {
    return this.#keys.length;
  }

  /** True when a key (primary or subkey) of the keyring has this long key ID. */
  hasKeyId(keyId: string): boolean {
    return this.#keyFor(keyId) !== undefined;
  }

  describe(): GpgKeyInfo[] {
    return this.#keys.map((k) => {
      const fingerprint = k.getFingerprint().toUpperCase();
      return { fingerprint, keyId: fingerprint.slice(-16), userIds: k.getUserIDs() };
    });
  }

  /** Verifies one binary OpenPGP signature packet over `data` (see verifyGpgSignatures for the verdict over several). */
  async verifyDetached(data: Uint8Array, blob: Uint8Array): Promise<GpgSignatureInfo> {
    const { createMessage, readSignature, verify } = await loadOpenPgp();
    let signature: Awaited<ReturnType<typeof readSignature>>;
    try {
      signature = await readSignature({ binarySignature: blob });
    } catch (err) {
      return { status: 'unreadable', keyId: null, fingerprint: null, created: null, reason: (err as Error).message };
    }
    const packet = signature.packets[0];
    const keyId = packet?.issuerKeyID?.toHex().toUpperCase() ?? null;
    const created = packet?.created instanceof Date ? packet.created.toISOString() : null;
    const key = keyId === null ? undefined : this.#keyFor(keyId);
    if (keyId === null || key === undefined) {
      return { status: 'unknown-key', keyId, fingerprint: null, created, reason: `no public key ${keyId ?? '(no issuer)'} in the keyring` };
    }
    const fingerprint = key.getFingerprint().toUpperCase();
    try {
      const result = await verify({ message: await createMessage({ binary: data }), signature, verificationKeys: [key], format: 'binary' });
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

  #keyFor(keyId: string): PublicKey | undefined {
    const id = keyId.toLowerCase();
    return this.#keys.find((k) => k.getKeyIDs().some((kid) => kid.toHex() === id));
  }
}

function toReadOptions(input: GpgKeyInput): { binaryKeys: Uint8Array } | { armoredKeys: string } {
  if (input instanceof Uint8Array) return isArmored(input) ? { armoredKeys: new TextDecoder().decode(input) } : { binaryKeys: input };
  const text = input.trim();
  if (text.startsWith('-----BEGIN PGP')) return { armoredKeys: text };
  // .flatpakrepo GPGKey= and remote configs carry base64 of the binary keys.
  const compact = text.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(compact)) throw new Error('neither armored nor base64');
  return { binaryKeys: new Uint8Array(Buffer.from(compact, 'base64')) };
}

function isArmored(bytes: Uint8Array): boolean {
  const head = new TextDecoder().decode(bytes.subarray(0, 64)).trimStart();
  return head.startsWith('-----BEGIN PGP');
}
