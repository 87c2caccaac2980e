/**
 * The mirror zoo: every broken mirror fails (or, for a fault current clients do not meet, warns
 * on) exactly the check that owns its fault, and only that one; the healthy mirror and the
 * healthy redirecting cache pass everything. Real nginx and RepoServer servers, a real
 * Flatpak repository updated by the real flatpak tool.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, expect, test } from 'vitest';
import {
  CHECK_NAMES,
  checkMirrors,
  type MirrorCheckEvent,
  type MirrorCheckResult,
  type MirrorReport,
} from '../../packages/client/src/index.js';
import { fixtureSets } from '../support/fixtures.js';
import { APP_X86, CUT_AT, startZoo, ZOO, ZOO_FAILS, VERY_SLOW_MS, ZOO_WARNS, type Zoo, type ZooMirror } from '../support/mirrorZoo.js';
import { describeWithTools } from '../support/tools.js';

const set = fixtureSets().at(-1);
if (set === undefined) throw new Error('no fixtures');

describeWithTools(['nginx', 'flatpak', 'gpg', 'varnishd'], 'mirror zoo', () => {
  let zoo: Zoo;
  let result: MirrorCheckResult;
  const events: MirrorCheckEvent[] = [];
  const report = (name: ZooMirror): MirrorReport => {
    const r = result.mirrors[ZOO.indexOf(name)];
    if (r === undefined) throw new Error(name);
    return r;
  };
  const check = (name: ZooMirror, c: string) => report(name).checks.find((x) => x.name === c);
  const evidence = (name: ZooMirror, c: string) => (check(name, c)?.evidence ?? []).filter((e) => e.status === 'fail');

  beforeAll(async () => {
    zoo = await startZoo(set);
    result = await checkMirrors({
      primary: zoo.primary,
      mirrors: ZOO.map((m) => zoo.mirrors[m]),
      refs: 'app/*',
      sample: 16,
      gpgKeys: [readFileSync(zoo.keyFile)],
      resolve: zoo.resolve,
      onEvent: (e) => events.push(e),
    });
    process.stderr.write(`[zoo] ${ZOO.length} mirrors checked in ${result.durationMs} ms\n`);
  }, 60_000);
  afterAll(async () => zoo?.stop());

  test.each(ZOO)('%s fails exactly the check that owns its fault', (name) => {
    const r = report(name);
    const bad = ZOO_WARNS.has(name) ? 'warn' : 'fail';
    const statuses = Object.fromEntries(r.checks.map((c) => [c.name, c.status]));
    const expected = Object.fromEntries(CHECK_NAMES.map((c) => [c, c === ZOO_FAILS[name] ? bad : 'pass']));
    expect(statuses, JSON.stringify(r.checks.filter((c) => c.status !== 'pass').map((c) => [c.name, c.summary]))).toEqual(expected);
    expect(r.status).toBe(ZOO_FAILS[name] === null ? 'pass' : bad);
  });

  test('the kind of each mirror: full mirror, proxy, redirecting cache (judged on what it serves itself)', () => {
    expect(report('healthy')).toMatchObject({ kind: 'full-mirror', served: { redirected: 0, to: [] } });
    expect(report('caching-proxy')).toMatchObject({ kind: 'proxy', status: 'pass', served: { redirected: 0 } });
    const cache = report('redirecting-cache');
    expect(cache.kind).toBe('redirecting-cache');
    expect(cache.served.to).toEqual([new URL(zoo.primary).origin]);
    expect(cache.served.itself).toBeGreaterThan(0);
    const completeness = check('redirecting-cache', 'completeness')?.evidence ?? [];
    const redirected = completeness.filter((e) => e.got?.startsWith(`not served here: redirected to ${new URL(zoo.primary).origin}`));
    expect(redirected.length).toBeGreaterThan(0);
    expect(redirected.every((e) => e.status === 'info')).toBe(true);
    expect(completeness.filter((e) => e.status === 'pass').map((e) => e.what)).toContain(`commit ${zoo.newHead}`);
  });

  test('the failures of 2024–2026 are named', () => {
    const cut = evidence('cut-at-boundary', 'http');
    expect(cut.length).toBeGreaterThan(0);
    for (const e of cut)
      expect(e.got).toMatch(
        new RegExp(
          `^body of ${CUT_AT} bytes \\(Content-Length ${CUT_AT}\\) where \\d+ are declared: cut at 128 KiB, a power of two \\(a cache's segment size\\), 3 times`,
        ),
      );
    expect(cut.map((e) => e.what)).toContainEqual(expect.stringMatching(/^GET deltas\/.+\/\d+$/));
    expect(check('cut-at-boundary', 'completeness')?.evidence.filter((e) => e.what.endsWith('(read to the end)'))).toEqual(
      expect.arrayContaining([expect.objectContaining({ status: 'unverified' })]),
    );

    expect(evidence('sig-unavailable', 'http')).toEqual([
      expect.objectContaining({ what: 'GET summary.idx.sig', got: 'HTTP 503, 3 times (cached 503); the primary serves it' }),
    ]);
    expect(check('sig-unavailable', 'trust')?.evidence).toContainEqual(
      expect.objectContaining({ what: 'summary.idx.sig', status: 'unverified' }),
    );

    const older = (check('missing-older-delta', 'completeness')?.evidence ?? []).filter((e) => e.status === 'warn');
    expect(older.length).toBeGreaterThan(0);
    expect(older[0]).toMatchObject({ what: expect.stringContaining(`(to the older commit ${zoo.oldHead.slice(0, 12)})`), got: 'HTTP 404' });

    const split = report('split-addresses');
    expect(split.addresses).toEqual(['127.0.0.1', '::1']);
    expect(evidence('split-addresses', 'freshness')).toEqual([
      expect.objectContaining({
        what: 'summary.idx at ::1',
        got: expect.stringMatching(
          /unlike 127\.0\.0\.1 \(not the primary’s: this address is behind\): a purge or sync reached some of the host's addresses and not others$/,
        ),
      }),
    ]);
    expect(report('healthy').addresses).toEqual(['127.0.0.1']);
  });

  test('--max-lag: a mirror still catching up on a summary younger than the grace period only warns', async () => {
    const graced = await checkMirrors({
      primary: zoo.primary,
      mirrors: [zoo.mirrors['stale-summary']],
      refs: 'app/*',
      sample: 0,
      gpgKeys: [readFileSync(zoo.keyFile)],
      maxLag: 3600,
    });
    const freshness = graced.mirrors[0]?.checks.find((c) => c.name === 'freshness');
    expect(freshness?.status).toBe('warn');
    expect(freshness?.evidence).toContainEqual(
      expect.objectContaining({ status: 'warn', what: `ref ${APP_X86}`, got: `${zoo.oldHead} (1 commit behind)` }),
    );
    expect(freshness?.evidence.find((e) => e.what === 'grace period')?.got).toMatch(/^published \d+ s ago/);
    expect(graced.options.maxLag).toBe(3600);
    // Without the grace period (the run above) the same mirror fails freshness.
    expect(check('stale-summary', 'freshness')?.status).toBe('fail');
  });

  test('the evidence names the fault', () => {
    const stale = evidence('stale-summary', 'freshness');
    expect(stale).toContainEqual(
      expect.objectContaining({ what: `ref ${APP_X86}`, expected: zoo.newHead, got: `${zoo.oldHead} (1 commit behind)` }),
    );
    expect(report('stale-summary').freshness?.refsDiffering.find((d) => d.ref === APP_X86)?.behind).toBe(1);
    expect(report('healthy').freshness).toEqual({ identical: true, refsDiffering: [], lagSeconds: 0 });

    const part = evidence('missing-delta-part', 'completeness');
    expect(part).toHaveLength(1);
    expect(part[0]?.url).toBe(`${zoo.mirrors['missing-delta-part']}${zoo.brokenPart}`);
    expect(part[0]?.got).toBe('HTTP 404');

    const truncated = evidence('truncated-object', 'http');
    expect(truncated.length).toBeGreaterThan(0);
    expect(truncated.every((e) => e.what.endsWith('.filez') && /^body ended after 512 of \d+ bytes/.test(e.got ?? ''))).toBe(true);
    const corrupt = evidence('corrupted-object', 'completeness');
    expect(corrupt.length).toBeGreaterThan(0);
    expect(corrupt.every((e) => e.what.startsWith('file ') && e.got?.startsWith('corrupt'))).toBe(true);

    expect(evidence('html-for-missing', 'http')).toContainEqual(
      expect.objectContaining({ what: 'missing-file probe', got: 'HTTP 200 with an HTML page' }),
    );
    expect(evidence('cached-503', 'http')).toEqual([
      expect.objectContaining({ what: `HEAD ${zoo.brokenPart}`, got: 'HTTP 503, 3 times (cached 503); the primary serves it' }),
    ]);
    expect(evidence('no-range', 'http')).toEqual([
      expect.objectContaining({ got: expect.stringMatching(/^Range ignored: 200 with \d+ bytes$/) }),
    ]);
    expect(evidence('bad-signature', 'trust')).toEqual([
      expect.objectContaining({
        what: 'summary.idx.sig',
        got: expect.stringMatching(
          new RegExp(
            `^BAD signature from ${set.manifest.gpg.key_id}.*; summary.idx is the primary's but summary.idx.sig is not: the signature file is synced or cached apart from what it signs$`,
          ),
        ),
      }),
    ]);
    const slow = evidence('very-slow', 'performance')[0];
    expect(slow?.what).toBe('first byte p50 over the sampled objects');
    expect(report('very-slow').performance.firstByteMs.p50).toBeGreaterThanOrEqual(VERY_SLOW_MS);
  });

  test('trust reports the signing key and signature time; the same object set everywhere at the same commit', () => {
    const good = check('healthy', 'trust')?.evidence ?? [];
    expect(good.length).toBeGreaterThanOrEqual(4); // summary.sig, summary.idx.sig, summaries/….idx.sig, the commits
    for (const e of good)
      expect(e.got).toMatch(
        new RegExp(`^good signature from ${set.manifest.gpg.key_id} \\(${set.manifest.gpg.fingerprint}\\), made \\d{4}-`),
      );
    expect(result.primary.keySource).toBe('option');
    const objects = (m: ZooMirror) =>
      report(m)
        .checks[2]?.evidence.filter((e) => e.what.match(/^(file|dirtree|dirmeta) /))
        .map((e) => e.what)
        .sort();
    expect(objects('healthy')).toHaveLength(16);
    for (const m of ['missing-delta-part', 'corrupted-object', 'truncated-object', 'very-slow', 'no-range'] as const)
      expect(objects(m)).toEqual(objects('healthy'));
  });

  test('progress events: every mirror starts, reports each check and finishes', () => {
    expect(events.find((e) => e.type !== 'request')?.type).toBe('primary');
    for (const m of ZOO) {
      const url = zoo.mirrors[m];
      expect(events.filter((e) => e.type === 'mirror-start' && e.url === url)).toHaveLength(1);
      expect(
        events
          .filter((e) => e.type === 'check' && e.url === url)
          .map((e) => (e as { check: string }).check)
          .sort(),
      ).toEqual([...CHECK_NAMES].sort());
      expect(events.filter((e) => e.type === 'mirror-done' && e.url === url)).toHaveLength(1);
    }
    expect(events.filter((e) => e.type === 'request').length).toBeGreaterThan(ZOO.length * 20);
  });
});
