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

/** A large file — a delta part or a fallback object — that may be read to the end (the largest ones are). */
interface PartCandidate {
  what: string;
  path: string;
  size: number;
  /** What the whole file hashes to: the part's SHA-256, or the object's checksum. */
  checksum: Checksum;
  /** The object type of a fallback (hashed as an object), or null for a delta part (SHA-256 of the file). */
  type: ObjectType | null;
}

export async function checkCompleteness(ctx: MirrorContext): Promise<CheckResult> {
  const evidence: Evidence[] = [];
  const parts: PartCandidate[] = [];
  const commits = [...new Set(ctx.heads.values())];
  await Promise.all(commits.map((c) => checkCommit(ctx, c, evidence, parts)));
  const [sample, read] = await Promise.all([checkSample(ctx), readParts(ctx, parts)]);
  evidence.push(...sample, ...read);
  return resultOf(
    'completeness',
    evidence.map((e) => servedElsewhere(ctx, e)),
  );
}

/**
 * Completeness is judged on what the server serves itself: an item it answered with a redirect
 * to another origin (a cache sending a miss to the primary) is information, not a pass — and a
 * failure there belongs to the other origin, so it is only reported as such.
 */
function servedElsewhere(ctx: MirrorContext, e: Evidence): Evidence {
  if (e.url === null || ctx.server === ctx.primary) return e;
  const x = ctx.server.session.exchanges.find((y) => y.url === e.url && y.redirects.length > 0);
  if (x === undefined) return e;
  const origin = new URL(x.finalUrl).origin;
  if (origin === ctx.server.session.base.origin) return e;
  return { ...e, status: 'info', got: `not served here: redirected to ${origin} (${e.status}: ${e.got ?? '-'})` };
}

/**
 * The largest delta parts and fallback objects read to the end, held to the size and checksum
 * their superblock declares (a body cut short while HEAD reports the full length is the http
 * check's: here it is unverified).
 */
async function readParts(ctx: MirrorContext, candidates: PartCandidate[]): Promise<Evidence[]> {
  // Parts whose HEAD already failed are reported by that HEAD (once, by the check owning it).
  const headOk = new Set(ctx.server.session.exchanges.filter((e) => e.method === 'HEAD' && outcome(e) === 'ok').map((e) => e.path));
  const unique = new Map(candidates.filter((c) => headOk.has(c.path)).map((c) => [c.path, c]));
  const chosen = [...unique.values()].sort((a, b) => b.size - a.size || (a.path < b.path ? -1 : 1)).slice(0, ctx.o.readParts);
  return Promise.all(
    chosen.map(async (c) => {
      const e = await ctx.server.session.request(c.path, {
        purpose: c.type === null ? 'delta-part' : 'fallback',
        maxBytes: Math.max(c.size, 1),
        expectedSize: c.size,
      });
      const what = `${c.what} (read to the end)`;
      const o = outcome(e);
      if (o !== 'ok' || e.body === null)
        return ev(o === 'missing' ? 'fail' : 'unverified', what, e.url, `${c.size} bytes`, describeExchange(e));
      const got = c.type === null ? sha256Hex(e.body) : objectChecksum(c.type, e.body, e.url).checksum;
      e.body = null;
      const expected = c.type === null ? `SHA-256 ${c.checksum}` : c.checksum;
      if (got === c.checksum) return ev('pass', what, e.url, expected, `${c.size} bytes, verified`);
      return ev('fail', what, e.url, expected, `corrupt: ${e.bytes} bytes hashing to ${got ?? 'nothing (unreadable)'}`);
    }),
  );
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
      // Cut short with a Content-Length to match, while HEAD reports the whole file? Then the
      // body is short, not corrupt: the http check owns it (it repeats the GET).
      const head = await ctx.server.session.request(path, { purpose: 'object', method: 'HEAD', maxBytes: 0 });
      if (outcome(head) === 'ok' && head.contentLength !== null && head.contentLength > e.bytes) {
        e.declaredSize = head.contentLength;
        e.error = { kind: 'short-body', message: `${e.bytes} bytes where HEAD says ${head.contentLength}` };
        return ev('unverified', what, e.url, obj.checksum, describeExchange(e));
      }
      return ev('fail', what, e.url, obj.checksum, error !== null ? `corrupt: ${error}` : `corrupt: content hashes to ${checksum}`);
    }),
  );
}

async function checkCommit(ctx: MirrorContext, c: Checksum, evidence: Evidence[], parts: PartCandidate[]): Promise<void> {
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
  const onPrimaryDeltas = await deltasTo(ctx.primary, c);
  for (const [name, digest] of onPrimaryDeltas) listed.set(name, digest);
  await Promise.all([...listed].map(([name, digest]) => checkDelta(ctx, name, digest, evidence, parts)));
  await checkOlderCommit(ctx, c, onPrimaryDeltas, evidence);
}

/**
 * The commit before `c` on the primary: the deltas its delta index lists (to that older commit)
 * must be on the mirror too — a client still at an older commit, or pinned to it, is sent
 * there — a warning when not, since current clients do not need them. And a ref whose primary
 * lists no delta from its previous commit is said (flat-manager generates deltas only for the
 * refs it is told to): its updates go object by object everywhere.
 */
async function checkOlderCommit(ctx: MirrorContext, c: Checksum, onPrimary: Map<string, Checksum>, evidence: Evidence[]): Promise<void> {
  const parent = (await ctx.primary.commit(c))?.commit.parent ?? null;
  if (parent === null) return;
  if (![...onPrimary.keys()].some((n) => parseDeltaName(n).from === parent)) {
    evidence.push(
      ev(
        'info',
        `delta ${parent}-${c}`,
        null,
        'a delta from the previous commit',
        'the primary lists none: updates of this ref download object by object',
      ),
    );
  }
  if (ctx.server === ctx.primary) return;
  const older = await deltasTo(ctx.primary, parent);
  if (older.size === 0) return;
  const found: Evidence[] = [];
  await Promise.all([...older].map(([name, digest]) => checkDelta(ctx, name, digest, found, [])));
  for (const e of found) {
    const status = e.status === 'fail' ? 'warn' : e.status;
    evidence.push({ ...e, status, what: `${e.what} (to the older commit ${parent.slice(0, 12)})` });
  }
}

async function checkDelta(ctx: MirrorContext, name: string, digest: Checksum, evidence: Evidence[], parts: PartCandidate[]): Promise<void> {
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
    parts.push({
      what: `delta ${name} part ${part.index}`,
      path: deltaPartPath(from, to, part.index),
      size: part.size,
      checksum: part.checksum,
      type: null,
    });
    heads.push(headSized(ctx, `delta ${name} part ${part.index}`, deltaPartPath(from, to, part.index), part.size, 'delta-part'));
  }
  for (const fb of sb.fallbacks) {
    const what = `delta ${name} fallback ${objectTypeName(fb.type)} ${fb.checksum}`;
    parts.push({ what, path: objectPath(fb.checksum, fb.type), size: fb.size, checksum: fb.checksum, type: fb.type });
    heads.push(headSized(ctx, what, objectPath(fb.checksum, fb.type), fb.size, 'fallback'));
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
