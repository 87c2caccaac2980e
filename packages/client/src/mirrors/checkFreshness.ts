/**
 * Freshness: are summary / summary.idx (and their signatures) byte-identical to the primary's,
 * and if not, how far behind is the mirror — which refs differ and by how many commits, how
 * much older its summary is, what Last-Modified and Age its server reports.
 */
import { sha256Hex } from '../formats/checksum.js';
import { describeExchange, outcome } from './Exchange.js';
import { ev, resultOf } from './evidence.js';
import type { MirrorContext } from './MirrorContext.js';
import type { CheckResult, Evidence, FreshnessFacts } from './MirrorCheckResult.js';
import { TOP_FILES } from './RepoView.js';

/** Differing refs whose distance is computed by walking the primary's history (each step is one commit fetch, shared). */
const MAX_WALKED_REFS = 20;

export async function checkFreshness(ctx: MirrorContext): Promise<{ result: CheckResult; facts: FreshnessFacts }> {
  const p = ctx.primary.view;
  const m = ctx.server.view;
  const evidence: Evidence[] = [];
  let identical = true;
  let dataMissing = false;
  for (const file of TOP_FILES) {
    const pe = p.files.get(file);
    const me = m.files.get(file);
    if (pe === undefined || me === undefined || outcome(pe) !== 'ok' || pe.body === null) continue;
    const isSig = file.endsWith('.sig');
    const expected = `SHA-256 ${sha256Hex(pe.body)}`;
    const o = outcome(me);
    if (o === 'missing') {
      evidence.push(
        ev(isSig ? 'info' : 'fail', file, me.url, expected, `${describeExchange(me)}${isSig ? ' (judged by the trust check)' : ''}`),
      );
      if (!isSig) dataMissing = true;
    } else if (o === 'unreliable' || me.body === null) {
      evidence.push(ev('unverified', file, me.url, expected, describeExchange(me)));
    } else {
      const got = `SHA-256 ${sha256Hex(me.body)}`;
      if (got === expected) evidence.push(ev('pass', file, me.url, expected, 'identical'));
      else if (isSig) evidence.push(ev('info', file, me.url, expected, `${got} (differs; judged by the trust check)`));
      else {
        identical = false;
        evidence.push(ev('info', file, me.url, expected, `${got} (differs)`));
      }
    }
  }
  for (const s of m.subsummaries) {
    if (s.problem === null) continue;
    evidence.push(
      ev(
        outcome(s.exchange) === 'ok' ? 'fail' : 'unverified',
        `subsummary ${s.key}`,
        s.exchange.url,
        `SHA-256 ${s.checksum} (uncompressed)`,
        s.problem,
      ),
    );
  }
  const refsDiffering: FreshnessFacts['refsDiffering'] = [];
  const viewUsable = m.refs.size > 0 || evidence.every((e) => e.status !== 'unverified');
  if (viewUsable) {
    const names = [...new Set([...p.refs.keys(), ...m.refs.keys()])].sort();
    for (const ref of names) {
      const a = p.refs.get(ref) ?? null;
      const b = m.refs.get(ref) ?? null;
      if (a !== b) refsDiffering.push({ ref, primary: a, mirror: b, behind: null });
    }
    const selected = new Set(ctx.heads.keys());
    const walk = [...refsDiffering].sort((x, y) => Number(selected.has(y.ref)) - Number(selected.has(x.ref))).slice(0, MAX_WALKED_REFS);
    await Promise.all(
      walk.map(async (d) => {
        if (d.primary !== null && d.mirror !== null) d.behind = await ctx.primary.behind(d.primary, d.mirror);
      }),
    );
    // Within the grace period (the primary's summary is younger than maxLag), catching up is not a fault.
    const primaryAge = p.lastModified === null ? null : Math.round(Date.now() / 1000 - p.lastModified);
    const grace = ctx.o.maxLag > 0 && primaryAge !== null && primaryAge <= ctx.o.maxLag;
    if (grace && refsDiffering.length > 0) {
      evidence.push(
        ev(
          'info',
          'grace period',
          null,
          `primary summary older than ${ctx.o.maxLag} s`,
          `published ${primaryAge} s ago: refs not caught up on are warnings`,
        ),
      );
    }
    for (const d of refsDiffering) {
      const diverged = d.primary !== null && d.mirror !== null && d.behind === null;
      const got =
        d.mirror === null
          ? 'not advertised'
          : d.primary === null
            ? `${d.mirror} (not on the primary)`
            : `${d.mirror}${d.behind !== null ? ` (${d.behind} commit${d.behind === 1 ? '' : 's'} behind)` : ' (not among the primary’s last 20 commits of this ref)'}`;
      evidence.push(ev(grace && !diverged ? 'warn' : 'fail', `ref ${d.ref}`, null, d.primary ?? 'absent', got));
    }
  }
  const lagSeconds = p.lastModified !== null && m.lastModified !== null ? p.lastModified - m.lastModified : null;
  if (lagSeconds !== null && lagSeconds !== 0) {
    evidence.push(
      ev(
        'info',
        'ostree.summary.last-modified',
        null,
        String(p.lastModified),
        `${m.lastModified} (${lagSeconds} s ${lagSeconds > 0 ? 'older' : 'newer'})`,
      ),
    );
  }
  const head = m.files.get('summary.idx') ?? m.files.get('summary');
  if (head !== undefined && head.status !== null) {
    const lm = head.headers['last-modified'];
    const age = head.headers.age;
    if (lm !== undefined || age !== undefined) {
      const pLm = (p.files.get('summary.idx') ?? p.files.get('summary'))?.headers['last-modified'] ?? null;
      evidence.push(
        ev('info', `${head.path} Last-Modified / Age`, head.url, pLm, `${lm ?? '-'}${age !== undefined ? `, Age ${age} s` : ''}`),
      );
    }
  }
  if (!identical && refsDiffering.length === 0 && !dataMissing && evidence.every((e) => e.status !== 'fail')) {
    evidence.push(ev('warn', 'summary', null, 'identical to the primary’s', 'differs, but advertises the same commits'));
  }
  const facts: FreshnessFacts = { identical: identical && !dataMissing, refsDiffering, lagSeconds };
  const behind = refsDiffering.filter((d) => d.mirror !== null && d.primary !== null).length;
  const lead =
    refsDiffering.length > 0
      ? `${refsDiffering.length} ref${refsDiffering.length === 1 ? '' : 's'} differ (${behind} at another commit, ${refsDiffering.length - behind} missing or extra)${lagSeconds ? `; summary ${lagSeconds} s older` : ''}`
      : undefined;
  return { result: resultOf('freshness', evidence, lead), facts };
}
