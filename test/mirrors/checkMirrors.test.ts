/** checkMirrors() edges: an unreachable mirror, aborting, bad options, an unsigned repository. */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { checkMirrors, isFlathubFetchError, type MirrorCheckOptions } from '../../packages/client/src/index.js';
import { RepoServer } from '../../packages/client/src/testing/index.js';
import { fixtureSets } from '../support/fixtures.js';
import { freePort } from '../support/nginx.js';

const set = fixtureSets().at(-1);
if (set === undefined) throw new Error('no fixtures');
let flatpak: RepoServer;
let slow: RepoServer;
let archive: RepoServer;
beforeAll(async () => {
  flatpak = await RepoServer.start(set.repoPath('flatpak'));
  slow = await RepoServer.start(set.repoPath('flatpak'), { faults: () => ({ kind: 'first-byte-delay', ms: 2000 }) });
  archive = await RepoServer.start(set.repoPath('archive'));
});
afterAll(async () => Promise.all([flatpak, slow, archive].map((s) => s?.close())));

test('an unreachable mirror fails on performance (every request an error); the other checks have nothing to judge', async () => {
  const dead = `http://127.0.0.1:${await freePort()}/`;
  const r = await checkMirrors({ primary: flatpak.url, mirrors: [dead], refs: 'app/*', sample: 4 });
  const m = r.mirrors[0];
  expect(m?.status).toBe('fail');
  expect(Object.fromEntries(m?.checks.map((c) => [c.name, c.status]) ?? [])).toEqual({
    freshness: 'skip',
    trust: 'skip',
    completeness: 'skip',
    http: 'skip',
    performance: 'fail',
  });
  expect(m?.performance.errorRate).toBe(1);
  expect(r.primary.keySource).toBe('summary'); // xa.gpg-keys of the primary's summary
  expect(r.primary.trust.status).toBe('pass');
});

test('aborting stops the check with ERR_ABORTED', async () => {
  const ac = new AbortController();
  setTimeout(() => ac.abort(new Error('stop')), 300);
  const t0 = Date.now();
  const err = await checkMirrors({ primary: flatpak.url, mirrors: [slow.url], signal: ac.signal }).catch((e) => e);
  expect(isFlathubFetchError(err, 'ERR_ABORTED')).toBe(true);
  expect(Date.now() - t0).toBeLessThan(1500);
});

test('bad options are typed errors naming the argument', async () => {
  for (const [options, argument] of [
    [{ primary: 'ftp://x/', mirrors: [flatpak.url] }, 'primary'],
    [{ primary: flatpak.url, mirrors: [] }, 'mirrors'],
    [{ primary: flatpak.url, mirrors: [flatpak.url], sample: -1 }, 'sample'],
    [{ primary: flatpak.url, mirrors: [flatpak.url], refs: 'nope/*' }, 'refs'],
  ] as Array<[MirrorCheckOptions, string]>) {
    const err = await checkMirrors(options).catch((e) => e);
    expect(isFlathubFetchError(err, 'ERR_INVALID_ARGUMENT'), String(err)).toBe(true);
    expect(err.data.argument).toBe(argument);
  }
});

test('an unsigned repository: trust is skipped without a key and fails with one', async () => {
  const plain = await checkMirrors({ primary: archive.url, mirrors: [archive.url], sample: 4 });
  expect(plain.mirrors[0]?.checks.find((c) => c.name === 'trust')?.status).toBe('skip');
  expect(plain.mirrors[0]?.status).toBe('pass');
  const keyed = await checkMirrors({
    primary: archive.url,
    mirrors: [archive.url],
    sample: 4,
    gpgKeys: [readFileSync(`${set.root}/gpg/pubkey.gpg`)],
  });
  const trust = keyed.mirrors[0]?.checks.find((c) => c.name === 'trust');
  expect(trust?.status).toBe('fail');
  expect(trust?.evidence.map((e) => e.got)).toContain('the repository publishes no summary signature');
});

test('redirects a pull would refuse (a loop) fail the http check with the redirect policy’s reason', async () => {
  const looping = await RepoServer.start(set.repoPath('flatpak'), {
    faults: (ctx) => (ctx.path.startsWith('/objects/') ? { kind: 'redirect', location: ctx.path } : null),
  });
  try {
    const r = await checkMirrors({ primary: flatpak.url, mirrors: [looping.url], refs: 'app/*', sample: 4 });
    const http = r.mirrors[0]?.checks.find((c) => c.name === 'http');
    expect(http?.status).toBe('fail');
    const refused = http?.evidence.filter((e) => e.status === 'fail' && /^GET objects\//.test(e.what)) ?? [];
    expect(refused.length).toBeGreaterThan(0);
    expect(refused.every((e) => /^redirect to \/objects\/\S+ refused: redirect loop$/.test(e.got ?? ''))).toBe(true);
  } finally {
    await looping.close();
  }
});
