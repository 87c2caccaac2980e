/**
 * Completeness: for each selected ref, the commit the server advertises must be there (and
 * hash to its name) with its commitmeta when the primary has one; the delta index must match
 * the primary's; every delta the primary (or the server itself) lists to that commit must be
 * there with the same superblock digest, each part and fallback with its declared size; and a
 * deterministic sample of the commit's objects is downloaded and verified.
 */
import { type Checksum, sha256Hex } from '../formats/checksum.js';
import type { DeltaObjectRef } from '../formats/DeltaSuperblock.js';
import { ObjectType, objectTypeName } from '../formats/ObjectType.js';
import { deltaPartPath, deltaSuperblockPath, objectPath, parseDeltaName } from '../formats/paths.js';
import { describeExchange, type Exchange, outcome } from './Exchange.js';
import { ev, resultOf } from './evidence.js';
import type { MirrorContext } from './MirrorContext.js';
import type { CheckResult, Evidence } from './MirrorCheckResult.js';
import { deltaIndexExchange, deltasTo } from './PrimaryReference.js';
import { sampleObjects } from './sampleObjects.js';
import { objectChecksum } from './verifyObjectBytes.js';

export async function checkCompleteness(ctx: MirrorContext): Promise<CheckResult> {
  const evidence: Evidence[] = [];
  const commits = [...new Set(ctx.heads.values())];
  await Promise.all(commits.map((c) => checkCommit(ctx, c, evidence)));
  evidence.push(...(await checkSample(ctx)));
  return resultOf('completeness', evidence);
}

/** Downloads and verifies the sample of objects of the server's heads (also the primary's performance reference). */
export async function checkSample(ctx: MirrorContext): Promise<Evidence[]> {
  const pools = await Promise.all([...new Set(ctx.heads.values())].map((c) => ctx.primary.pool(c, ctx.server)));
  const sample = sampleObjects(pools.flat(), ctx.o.sample, ctx.o.seed);
  return Promise.all(
    sample.map(async (obj: DeltaObjectRef) => {
      const path = objectPath(obj.checksum, obj.type);
      const e = await ctx.server.session.request(path, { purpose: 'object', maxBytes: ctx.o.maxBytes });
      const what = `${objectTypeName(obj.type)} ${obj.checksum}`;
      const o = outcome(e);
      if (o !== 'ok' || e.body === null) return ev(o === 'missing' ? 'fail' : 'unverified', what, e.url, 'present', describeExchange(e));
      const { checksum, error } = objectChecksum(obj.type, e.body, e.url);
      e.body = null; // verified: not kept
      if (checksum === obj.checksum) return ev('pass', what, e.url, obj.checksum, 'verified');
      return ev('fail', what, e.url, obj.checksum, error !== null ? `corrupt: ${error}` : `corrupt: content hashes to ${checksum}`);
    }),
  );
}

async function checkCommit(ctx: MirrorContext, c: Checksum, evidence: Evidence[]): Promise<void> {
  const s = ctx.server;
  const max = ctx.o.maxBytes;
  const commit = await s.session.get(objectPath(c, ObjectType.COMMIT), 'commit', max);
  evidence.push(judgeFile(`commit ${c}`, commit, c, (b) => sha256Hex(b)));
  const onPrimary = await ctx.primary.commit(c);
  if (onPrimary?.meta != null) {
    const meta = await s.session.get(objectPath(c, ObjectType.COMMIT_META), 'commitmeta', max);
    evidence.push(judgeFile(`commitmeta of ${c}`, meta, sha256Hex(onPrimary.meta), (b) => sha256Hex(b), true));
  }
  const primaryIndex = await deltaIndexExchange(ctx.primary, c);
  if (primaryIndex !== null && outcome(primaryIndex) === 'ok' && primaryIndex.body !== null && s !== ctx.primary) {
    const mine = await s.session.get(primaryIndex.path, 'delta-index', max);
    evidence.push(judgeFile(`delta index of ${c}`, mine, sha256Hex(primaryIndex.body), (b) => sha256Hex(b)));
  }
  const listed = new Map(await deltasTo(s, c));
  for (const [name, digest] of await deltasTo(ctx.primary, c)) listed.set(name, digest);
  await Promise.all([...listed].map(([name, digest]) => checkDelta(ctx, name, digest, evidence)));
}

async function checkDelta(ctx: MirrorContext, name: string, digest: Checksum, evidence: Evidence[]): Promise<void> {
  const s = ctx.server;
  const { from, to } = parseDeltaName(name);
  const e = await s.session.get(deltaSuperblockPath(from, to), 'superblock', ctx.o.maxBytes);
  const judged = judgeFile(`delta ${name} superblock`, e, digest, (b) => sha256Hex(b));
  evidence.push(judged);
  if (judged.status !== 'pass' || e.body === null) return;
  const sb = await ctx.primary.superblock(e.body, digest, e.url);
  if (sb === null) {
    evidence.push(ev('fail', `delta ${name} superblock`, e.url, 'a valid superblock', 'does not parse'));
    return;
  }
  const heads: Array<Promise<Evidence>> = [];
  for (const part of sb.parts) {
    if (sb.inlineParts.has(part.index)) continue;
    heads.push(headSized(ctx, `delta ${name} part ${part.index}`, deltaPartPath(from, to, part.index), part.size, 'delta-part'));
  }
  for (const fb of sb.fallbacks) {
    heads.push(
      headSized(
        ctx,
        `delta ${name} fallback ${objectTypeName(fb.type)} ${fb.checksum}`,
        objectPath(fb.checksum, fb.type),
        fb.size,
        'fallback',
      ),
    );
  }
  evidence.push(...(await Promise.all(heads)));
}

/** HEAD: present, with the declared size. */
async function headSized(
  ctx: MirrorContext,
  what: string,
  path: string,
  size: number,
  purpose: 'delta-part' | 'fallback',
): Promise<Evidence> {
  const e = await ctx.server.session.request(path, { purpose, method: 'HEAD', maxBytes: 0 });
  const expected = `${size} bytes`;
  const o = outcome(e);
  if (o !== 'ok') return ev(o === 'missing' ? 'fail' : 'unverified', what, e.url, expected, describeExchange(e));
  if (e.contentLength === null) return ev('unverified', what, e.url, expected, 'no Content-Length');
  return ev(e.contentLength === size ? 'pass' : 'fail', what, e.url, expected, `${e.contentLength} bytes`);
}

/** A whole file: present and hashing to `expected`. */
function judgeFile(what: string, e: Exchange, expected: string, hash: (b: Uint8Array) => string, sameAsPrimary = false): Evidence {
  const o = outcome(e);
  if (o !== 'ok' || e.body === null)
    return ev(o === 'missing' ? 'fail' : 'unverified', what, e.url, sameAsPrimary ? 'present' : expected, describeExchange(e));
  const got = hash(e.body);
  if (got === expected) return ev('pass', what, e.url, expected, 'present');
  return ev(
    sameAsPrimary ? 'info' : 'fail',
    what,
    e.url,
    expected,
    sameAsPrimary ? `present, differs from the primary’s (SHA-256 ${got})` : `SHA-256 ${got}`,
  );
}
