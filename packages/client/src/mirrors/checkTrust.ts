/**
 * Trust: the server's summary signatures (`summary.sig` over `summary`, `summary.idx.sig` and
 * `summaries/<sha256(idx)>.idx.sig` over `summary.idx`) and the signatures of the selected
 * refs' commits (`.commitmeta` over the commit object) must verify with the remote's key,
 * the way ostree decides it: at least one good signature from a trusted key.
 */
import { type Checksum, sha256Hex } from '../formats/checksum.js';
import { parseDetachedMetadata } from '../formats/Signatures.js';
import type { SignatureCheck } from '../trust/SignatureCheck.js';
import { verifyGpgSignatures } from '../trust/verifyGpgSignatures.js';
import { describeExchange, type Exchange, outcome } from './Exchange.js';
import { ev, resultOf } from './evidence.js';
import type { MirrorContext } from './MirrorContext.js';
import type { CheckResult, Evidence } from './MirrorCheckResult.js';
import { commitFacts } from './PrimaryReference.js';

export async function checkTrust(ctx: MirrorContext): Promise<CheckResult> {
  const p = ctx.primary.view;
  const s = ctx.server;
  const signedOnPrimary =
    [...p.files.entries()].some(([f, e]) => f.endsWith('.sig') && outcome(e) === 'ok') ||
    (p.indexSig !== null && outcome(p.indexSig) === 'ok');
  if (ctx.keyring === null) {
    return signedOnPrimary
      ? resultOf('trust', [], 'signatures not verified: no key given and the primary summary carries no xa.gpg-keys', 'warn')
      : resultOf('trust', [], 'nothing to verify: the primary publishes no signatures and no key was given', 'skip');
  }
  const keyring = ctx.keyring;
  const expected = `a good signature by ${keyring
    .describe()
    .map((k) => k.keyId)
    .join(' or ')}`;
  const evidence: Evidence[] = [];
  const items: Array<{
    what: string;
    sig: Exchange | null | undefined;
    data: Exchange | undefined;
    primarySig: Exchange | null | undefined;
  }> = [
    {
      what: 'summary.sig',
      sig: s.view.files.get('summary.sig'),
      data: s.view.files.get('summary'),
      primarySig: p.files.get('summary.sig'),
    },
    {
      what: 'summary.idx.sig',
      sig: s.view.files.get('summary.idx.sig'),
      data: s.view.files.get('summary.idx'),
      primarySig: p.files.get('summary.idx.sig'),
    },
    {
      what: 'summaries/<sha256(summary.idx)>.idx.sig',
      sig: s.view.indexSig,
      data: s.view.files.get('summary.idx'),
      primarySig: p.indexSig,
    },
  ];
  for (const item of items) {
    const dataOk = item.data !== undefined && outcome(item.data) === 'ok' && item.data.body !== null;
    const published = item.primarySig != null && outcome(item.primarySig) === 'ok';
    if (!published) {
      // The primary does not sign this file: only an unsigned but present data file is worth saying.
      if (item.what === 'summary.sig' && dataOk && !signedOnPrimary)
        evidence.push(
          ev('fail', 'summary.sig', s.session.resolve('summary.sig'), expected, 'the repository publishes no summary signature'),
        );
      continue;
    }
    const sig = item.sig;
    if (sig === undefined || sig === null) continue;
    const url = sig.url;
    if (!dataOk) {
      evidence.push(
        ev(
          'unverified',
          item.what,
          url,
          expected,
          `signed file unavailable: ${item.data === undefined ? 'not fetched' : describeExchange(item.data)}`,
        ),
      );
      continue;
    }
    const o = outcome(sig);
    if (o === 'missing') {
      evidence.push(ev('fail', item.what, url, expected, `missing (${describeExchange(sig)})`));
      continue;
    }
    if (o === 'unreliable' || sig.body === null) {
      evidence.push(ev('unverified', item.what, url, expected, describeExchange(sig)));
      continue;
    }
    const judged = await judge(item.what, url, expected, item.data?.body as Uint8Array, sig.body, keyring);
    evidence.push(judged.status === 'fail' ? { ...judged, got: `${judged.got}${apart(item, p)}` } : judged);
  }
  await Promise.all(
    [...new Set(ctx.heads.values())].map(async (c: Checksum) => {
      const facts = await commitFacts(s, c);
      const what = `commit ${c}`;
      const metaUrl = s.session.resolve(`objects/${c.slice(0, 2)}/${c.slice(2)}.commitmeta`);
      if (facts === null) {
        evidence.push(ev('unverified', what, metaUrl, expected, 'commit unavailable (judged by the completeness check)'));
        return;
      }
      if (facts.meta === null) {
        const onPrimary = await ctx.primary.commit(c);
        if (onPrimary?.meta != null && s !== ctx.primary)
          evidence.push(ev('unverified', what, metaUrl, expected, 'commitmeta unavailable (judged by the completeness check)'));
        else evidence.push(ev('fail', what, metaUrl, expected, 'unsigned: no .commitmeta'));
        return;
      }
      evidence.push(await judge(what, metaUrl, expected, facts.exchange.body as Uint8Array, facts.meta, keyring));
    }),
  );
  return resultOf('trust', evidence);
}

/**
 * A signature file is fetched, cached and synced on its own, apart from the file it signs: when
 * one of the pair is the primary's and the other is not, say which (flathub #7240: a fresh
 * summary.idx with a stale summary.idx.sig).
 */
function apart(
  item: { what: string; sig: Exchange | null | undefined; data: Exchange | undefined; primarySig: Exchange | null | undefined },
  p: MirrorContext['primary']['view'],
): string {
  const file = item.what === 'summary.sig' ? 'summary' : 'summary.idx';
  const primaryData = p.files.get(file)?.body ?? null;
  const primarySig = item.primarySig?.body ?? null;
  const data = item.data?.body ?? null;
  const sig = item.sig?.body ?? null;
  if (primaryData === null || primarySig === null || data === null || sig === null) return '';
  const sameData = sha256Hex(data) === sha256Hex(primaryData);
  const sameSig = sha256Hex(sig) === sha256Hex(primarySig);
  if (sameData && !sameSig)
    return `; ${file} is the primary's but ${item.what} is not: the signature file is synced or cached apart from what it signs`;
  if (!sameData && sameSig) return `; ${item.what} is the primary's but ${file} is not: the signed file is stale, its signature fresh`;
  return '';
}

async function judge(
  what: string,
  url: string,
  expected: string,
  data: Uint8Array,
  sigFile: Uint8Array,
  keyring: NonNullable<MirrorContext['keyring']>,
): Promise<Evidence> {
  let check: SignatureCheck;
  try {
    check = await verifyGpgSignatures(data, parseDetachedMetadata(sigFile, url).gpgSignatures, keyring);
  } catch (err) {
    return ev('fail', what, url, expected, `unreadable signature file: ${(err as Error).message}`);
  }
  return ev(check.verdict === 'good' ? 'pass' : 'fail', what, url, expected, describeCheck(check));
}

/** "good signature from KEYID, made 2024-…" / "BAD signature from KEYID: …" / "signed by unknown key KEYID" / "no signature". */
export function describeCheck(check: SignatureCheck): string {
  const g = check.good;
  if (g !== null) return `good signature from ${g.keyId}${g.fingerprint ? ` (${g.fingerprint})` : ''}, made ${g.created ?? '?'}`;
  if (check.verdict === 'unsigned') return 'no signature';
  if (check.verdict === 'unknown-key')
    return `signed by unknown key ${check.signatures.map((s) => `${s.keyId ?? '?'}, made ${s.created ?? '?'}`).join('; ')}`;
  const bad = check.signatures.find((s) => s.status === 'bad' || s.status === 'unreadable');
  return `BAD signature${bad?.keyId ? ` from ${bad.keyId}` : ''}${bad?.created ? `, made ${bad.created}` : ''}${bad?.reason ? `: ${bad.reason}` : ''}`;
}
