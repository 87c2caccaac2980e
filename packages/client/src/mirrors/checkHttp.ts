/**
 * HTTP semantics: a missing file answers 404 (not 200, 403 or an HTML page); bodies match their
 * Content-Length; `Range` is honoured; connections are kept alive; no 5xx is cached (a 5xx or a
 * short body is repeated: if it persists while the primary serves the file, it is the mirror's
 * fault; if it goes away it was transient and counts as an error for the performance check);
 * redirects are followed and counted; cache headers are reported.
 */
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { pickCacheHeaders } from '../http/pickCacheHeaders.js';
import { describeExchange, type Exchange, isHtml, outcome } from './Exchange.js';
import { ev, resultOf } from './evidence.js';
import type { MirrorContext } from './MirrorContext.js';
import type { CheckResult, Evidence } from './MirrorCheckResult.js';

/** At most this many distinct failing requests are repeated. */
const MAX_REPEATED = 10;
const PROBES = new Set(['probe-missing', 'probe-range', 'repeat']);

export interface HttpCheck {
  result: CheckResult;
  /** Failures that went away when repeated: errors for the performance check. */
  transient: Exchange[];
}

export async function checkHttp(ctx: MirrorContext): Promise<HttpCheck> {
  const s = ctx.server.session;
  const evidence: Evidence[] = [];
  const seen = s.exchanges.filter((e) => !PROBES.has(e.purpose));

  // A file that cannot exist.
  const h = createHash('sha256').update(`flathub-fetch missing-file probe ${ctx.o.seed}`).digest('hex');
  const probe = await s.request(`objects/${h.slice(0, 2)}/${h.slice(2)}.dirtree`, { purpose: 'probe-missing', maxBytes: 1024 * 1024 });
  evidence.push(judgeMissing(probe));

  // Range on the largest whole file this server sent.
  const target = seen
    .filter((e) => e.method === 'GET' && e.range === null && outcome(e) === 'ok' && e.bytes >= 64)
    .sort((a, b) => b.bytes - a.bytes)[0];
  if (target !== undefined) evidence.push(await judgeRange(ctx, target));

  // HTML pages where repository files were expected.
  for (const e of seen) {
    if (e.status !== null && e.status < 300 && e.error === null && isHtml(e)) {
      evidence.push(ev('fail', `${e.method} ${e.path}`, e.url, 'repository data', `${e.status} with an HTML page`));
    }
  }

  // 5xx and short bodies: cached, or transient?
  const transient: Exchange[] = [];
  const failing = seen.filter((e) => (e.status !== null && e.status >= 500 && e.error === null) || e.error?.kind === 'short-body');
  const key = (e: Exchange) => `${e.method} ${e.path}`;
  const byPath = new Map<string, Exchange>();
  for (const e of failing) if (!byPath.has(key(e))) byPath.set(key(e), e);
  await Promise.all([...byPath.values()].slice(0, MAX_REPEATED).map(async (e) => judgeRepeat(ctx, e, evidence, transient)));
  for (const e of failing) {
    const first = byPath.get(key(e));
    if (first !== e && first !== undefined && transient.includes(first)) transient.push(e);
  }
  const shortOk = seen.filter((e) => e.method === 'GET' && e.contentLength !== null && e.error === null).length;
  if (!failing.some((e) => e.error?.kind === 'short-body') && shortOk > 0) {
    evidence.push(ev('pass', 'Content-Length', null, 'every body as long as its Content-Length', `${shortOk} bodies matched`));
  }

  // Keep-alive.
  const traced = s.exchanges.filter((e) => e.connectionId !== null);
  const connections = new Set(traced.map((e) => e.connectionId)).size;
  const closing = s.exchanges.filter((e) => /\bclose\b/i.test(e.headers.connection ?? '')).length;
  if (traced.length > 0) {
    const got = `${traced.length} requests over ${connections} connection${connections === 1 ? '' : 's'}${closing > 0 ? `; ${closing} answered Connection: close` : ''}`;
    const reused = traced.some((e) => e.connectionReused === true);
    evidence.push(ev(reused || traced.length <= ctx.o.connections ? 'pass' : 'warn', 'keep-alive', null, 'connections reused', got));
  }

  // Redirects (the policy a pull follows: an https→http downgrade is refused, below).
  const redirects = s.exchanges.flatMap((e) => e.redirects);
  if (redirects.length > 0) {
    const targets = [...new Set(redirects.map((r) => new URL(r.to).origin))].join(', ');
    evidence.push(ev('info', 'redirects', null, null, `${redirects.length} followed (to ${targets})`));
  }

  // Redirects that could not be followed (refused by the redirect policy or `allowUrl`, or no Location): the
  // content checks could not judge those files, and no other check explains why.
  const broken = s.exchanges.filter((e) => e.error?.kind === 'redirect');
  for (const e of broken.slice(0, 5))
    evidence.push(
      ev('fail', `${e.method} ${e.path}`, e.url, 'the file, or a redirect that can be followed', e.error?.message ?? 'redirect'),
    );
  if (broken.length > 5) evidence.push(ev('fail', 'redirects not followed', null, null, `${broken.length - 5} more`));

  // Cache headers on the summary.
  const summary = ctx.server.view.files.get('summary.idx') ?? ctx.server.view.files.get('summary');
  if (summary !== undefined && summary.status !== null) {
    const cache = pickCacheHeaders(summary.headers);
    const text = Object.entries(cache)
      .map(([k, v]) => `${k}: ${v}`)
      .join('; ');
    evidence.push(ev('info', `cache headers of ${summary.path}`, summary.url, null, text === '' ? 'none' : text));
  }
  return { result: resultOf('http', evidence), transient };
}

function judgeMissing(e: Exchange): Evidence {
  const what = 'missing-file probe';
  if (e.error !== null) return ev('unverified', what, e.url, '404', describeExchange(e));
  if (e.status === 404 || e.status === 410) return ev('pass', what, e.url, '404', `HTTP ${e.status}`);
  if (e.status === 403) return ev('warn', what, e.url, '404', 'HTTP 403 (clients take it as missing, but it hides permission errors)');
  const html = isHtml(e) ? ' with an HTML page' : '';
  return ev('fail', what, e.url, '404', `HTTP ${e.status}${html}${e.redirects.length > 0 ? ` after redirects to ${e.finalUrl}` : ''}`);
}

async function judgeRange(ctx: MirrorContext, whole: Exchange): Promise<Evidence> {
  const size = whole.bytes;
  const first = Math.min(1, size - 16);
  const last = first + 15;
  const range = `bytes=${first}-${last}`;
  const e = await ctx.server.session.request(whole.path, { purpose: 'probe-range', range, maxBytes: size + 1 });
  const what = `Range ${range} of ${whole.path}`;
  const expected = `206, Content-Range bytes ${first}-${last}/${size}, 16 bytes`;
  if (e.error !== null && e.error.kind !== 'too-large') return ev('unverified', what, e.url, expected, describeExchange(e));
  if (e.status === 200) return ev('fail', what, e.url, expected, `Range ignored: 200 with ${e.contentLength ?? e.bytes} bytes`);
  if (e.status !== 206) return ev(e.status !== null && e.status >= 500 ? 'unverified' : 'fail', what, e.url, expected, `HTTP ${e.status}`);
  const cr = e.headers['content-range'] ?? '';
  const ok = cr === `bytes ${first}-${last}/${size}` && e.bytes === 16;
  return ev(ok ? 'pass' : 'fail', what, e.url, expected, `206, Content-Range ${cr || '(none)'}, ${e.bytes} bytes`);
}

/** Repeats a failed request twice; persistent while the primary serves the file → cached (fail); gone → transient. */
async function judgeRepeat(ctx: MirrorContext, e: Exchange, evidence: Evidence[], transient: Exchange[]): Promise<void> {
  const s = ctx.server.session;
  const again: Exchange[] = [];
  for (let i = 0; i < 2; i++) {
    await sleep(ctx.o.repeatDelayMs, undefined, { signal: ctx.o.signal });
    const r = await s.request(e.path, {
      purpose: 'repeat',
      method: e.method,
      ...(e.range !== null ? { range: e.range } : {}),
      maxBytes: ctx.o.maxBytes,
      ...(e.declaredSize !== null ? { expectedSize: e.declaredSize } : {}),
      repeatOf: e.id,
    });
    again.push(r);
    if (!sameFailure(e, r)) break;
  }
  const persisted = again.length === 2 && again.every((r) => sameFailure(e, r));
  if (!persisted) {
    transient.push(e);
    return;
  }
  const shortBody = e.error?.kind === 'short-body';
  const kind = shortBody ? 'truncated body' : `cached ${e.status}`;
  const primary = await ctx.primary.session.request(e.path, { purpose: 'repeat', method: 'HEAD', maxBytes: 0 });
  const primaryOk = outcome(primary) === 'ok';
  const got = `${describeExchange(e)}, 3 times${shortBody ? '' : ` (${kind})`}`;
  evidence.push(
    ev(
      primaryOk ? 'fail' : 'warn',
      `${e.method} ${e.path}`,
      e.url,
      shortBody
        ? e.declaredSize !== null && (e.contentLength === null || e.bytes >= e.contentLength)
          ? `${e.declaredSize} bytes, as declared`
          : `Content-Length bytes (${e.contentLength})`
        : 'the file, as the primary serves it',
      `${got}${primaryOk ? '; the primary serves it' : `; the primary answers ${describeExchange(primary)} too`}`,
    ),
  );
}

function sameFailure(a: Exchange, b: Exchange): boolean {
  if (a.error?.kind === 'short-body') return b.error?.kind === 'short-body';
  return b.error === null && b.status !== null && b.status >= 500;
}
