/**
 * `pull --verify`: the summary's signature (`summary.sig` over `summary`, or `summary.idx.sig`
 * over `summary.idx`) and the commit's (`.commitmeta` over the commit object) must verify with
 * a key of the keyring, as ostree's `gpg-verify-summary=true` / `gpg-verify=true` demand. Costs
 * two small requests (the commit and its commitmeta) before the pull proceeds.
 */
import { type Checksum, sha256Hex } from '../formats/checksum.js';
import { ObjectType } from '../formats/ObjectType.js';
import { objectPath } from '../formats/paths.js';
import { parseDetachedMetadata } from '../formats/Signatures.js';
import { FlathubFetchError } from '../errors/FlathubFetchError.js';
import { ErrorCodes } from '../errors/codes.js';
import type { GpgKeyring } from '../trust/GpgKeyring.js';
import { requireGoodSignature } from '../trust/requireGoodSignature.js';
import type { RemoteVerification, SignatureCheck } from '../trust/SignatureCheck.js';
import { verifyGpgSignatures } from '../trust/verifyGpgSignatures.js';
import type { Remote } from '../remote/Remote.js';

const UNSIGNED: SignatureCheck = { verdict: 'unsigned', good: null, signatures: [] };

export interface VerifyRemoteSignaturesOptions {
  /** The commit (and its detached metadata) already in the local repository: checked without fetching them again. */
  local?: { commit: Uint8Array; meta: Uint8Array | null };
  signal?: AbortSignal;
}

export async function verifyRemoteSignatures(
  remote: Remote,
  commit: Checksum,
  keyring: GpgKeyring,
  options: VerifyRemoteSignaturesOptions = {},
): Promise<RemoteVerification> {
  const { local, signal } = options;
  let summary: RemoteVerification['summary'] = null;
  if (remote.summarySource !== 'none') {
    const data = remote.summarySource === 'summary.idx' ? remote.indexBytes : remote.summaryBytes;
    const file = remote.summarySource === 'summary.idx' ? 'summary.idx.sig' : 'summary.sig';
    const url = remote.http.resolve(file).href;
    const check =
      remote.signature === null || data === null
        ? UNSIGNED
        : await verifyGpgSignatures(data, remote.signature.parsed.gpgSignatures, keyring);
    requireGoodSignature(check, `${remote.summarySource} signature`, url);
    summary = { file, url, check };
  }
  const commitPath = objectPath(commit, ObjectType.COMMIT);
  const metaPath = objectPath(commit, ObjectType.COMMIT_META);
  const [commitBytes, meta] = await Promise.all([
    local?.commit ?? remote.http.get(commitPath, { purpose: 'commit', maxBytes: 64 * 1024 * 1024, signal }),
    local?.meta ?? remote.http.get(metaPath, { purpose: 'commitmeta', maxBytes: 64 * 1024 * 1024, allowMissing: true, signal }),
  ]);
  const actual = sha256Hex(commitBytes);
  if (actual !== commit) {
    const url = remote.http.resolve(commitPath).href;
    throw new FlathubFetchError(ErrorCodes.CHECKSUM_MISMATCH, `${url}: commit SHA-256 ${actual} does not match ${commit}`, {
      url,
      expected: commit,
      actual,
    });
  }
  const metaUrl = remote.http.resolve(metaPath).href;
  const check =
    meta === null ? UNSIGNED : await verifyGpgSignatures(commitBytes, parseDetachedMetadata(meta, metaUrl).gpgSignatures, keyring);
  requireGoodSignature(check, `commit ${commit} signature`, metaUrl);
  return { keys: keyring.describe(), summary, commit: { checksum: commit, url: metaUrl, check } };
}
