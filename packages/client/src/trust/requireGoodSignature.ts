import { FlathubFetchError } from '../errors/FlathubFetchError.js';
import { ErrorCodes } from '../errors/codes.js';
import type { SignatureCheck } from './SignatureCheck.js';

/** Throws ERR_SIGNATURE (one line naming `what` and the cause) unless the check is good. */
export function requireGoodSignature(check: SignatureCheck, what: string, url: string): void {
  if (check.verdict === 'good') return;
  const first = check.signatures[0];
  const reason =
    check.verdict === 'unsigned'
      ? 'no signature'
      : check.verdict === 'unknown-key'
        ? `signed by unknown key ${check.signatures.map((s) => s.keyId ?? '?').join(', ')}`
        : `BAD signature${first?.keyId ? ` from key ${first.keyId}` : ''}${first?.reason ? `: ${first.reason}` : ''}`;
  throw new FlathubFetchError(ErrorCodes.SIGNATURE, `${what} (${url}): ${reason}`, {
    what,
    url,
    verdict: check.verdict,
    keyId: first?.keyId ?? null,
    reason,
  });
}
