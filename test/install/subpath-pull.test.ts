/**
 * Subpath pulls (`pull({ subpaths })`, as `ostree pull --subpath`): against a flatpak-made
 * repository served by nginx, the objects we store are exactly those `ostree pull --subdir`
 * stores, `ostree checkout --subpath` of each subpath equals the server's, the commit stays
 * partial, and a later full pull completes it without re-fetching what the subpath pull wrote.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { LocalRepo, pull } from '../../packages/client/src/index.js';
import { subpathWants } from '../../packages/client/src/pull/ObjectFetcher.js';
import { fixtureSets } from '../support/fixtures.js';
import { useFixtureNginx } from '../support/fixtureNginx.js';
import { fsck, ostree, treeManifest } from '../support/ostree.js';
import { describeWithTools } from '../support/tools.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';

const set = fixtureSets().at(-1);
if (set === undefined) throw new Error('no fixtures');
const APP = 'app/org.example.Hello/x86_64/stable';

function objectFiles(repo: string): string[] {
  const out: string[] = [];
  for (const d of readdirSync(join(repo, 'objects'))) for (const f of readdirSync(join(repo, 'objects', d))) out.push(`${d}/${f}`);
  return out.sort();
}

function checkoutSubpath(repo: string, commit: string, subpath: string): string[] {
  const dest = join(mkdtempSync(join(tmpdir(), 'ffetch-sub-co-')), 'tree');
  ostree(['checkout', `--repo=${repo}`, '-U', `--subpath=${subpath}`, commit, dest]);
  return treeManifest(dest);
}

test('subpath matching follows libostree: path components, not string prefixes', () => {
  const s = ['/files/de', '/metadata'];
  expect(subpathWants(s, '/files', true)).toBe('path');
  expect(subpathWants(s, '/files', false)).toBe('no');
  expect(subpathWants(s, '/files/de', true)).toBe('all');
  expect(subpathWants(s, '/files/de/x/y', false)).toBe('all');
  expect(subpathWants(s, '/files/dev', true)).toBe('no');
  expect(subpathWants(s, '/metadata', false)).toBe('all');
  expect(subpathWants(s, '/usr', true)).toBe('no');
});

describeWithTools(['nginx', 'ostree'], `subpath pulls over nginx (${set.name} fixtures)`, () => {
  const { url, newRepo, since, server } = useFixtureNginx(set, 'ffetch-subpath-');

  test('the same objects as ostree pull --subpath, checkouts equal, commit partial, completed later', async () => {
    const subpaths = ['/metadata', '/files/bin'];
    const ours = newRepo('ours');
    const log = since();
    const r = await pull({ url: url('flatpak'), ref: APP, repo: ours, repoMode: 'bare-user-only', subpaths });
    expect(r.strategy).toBe('objects');
    // No delta was even looked at.
    expect(log().filter((e) => e.uri.includes('/deltas/'))).toEqual([]);
    const theirs = newRepo('theirs');
    ostree(['init', `--repo=${theirs}`, '--mode=bare-user-only']);
    ostree(['remote', 'add', `--repo=${theirs}`, '--no-gpg-verify', 'origin', url('flatpak')]);
    ostree(['pull', `--repo=${theirs}`, '--disable-static-deltas', ...subpaths.map((p) => `--subpath=${p}`), 'origin', APP]);
    expect(objectFiles(ours)).toEqual(objectFiles(theirs));
    expect(readdirSync(join(ours, 'state'))).toEqual([`${r.commit}.commitpartial`]);
    for (const p of subpaths) expect(checkoutSubpath(ours, r.commit, p)).toEqual(checkoutSubpath(server('flatpak'), r.commit, p));
    const repo = await LocalRepo.open(ours);
    expect(await repo.isPartial(r.commit)).toBe(true);
    expect(await repo.readRef(APP, { remote: 'origin' })).toBe(r.commit);
    await repo.close();

    // Again: nothing new is fetched (the walk reads the dirtrees locally).
    const again = since();
    await pull({ url: url('flatpak'), ref: APP, repo: ours, subpaths });
    expect(again().filter((e) => e.uri.includes('/objects/'))).toEqual([]);

    // A full pull completes the commit, fetching only what the subpath pull did not.
    const full = since();
    const before = new Set(objectFiles(ours));
    const r2 = await pull({ url: url('flatpak'), ref: APP, repo: ours, deltas: 'never' });
    const fetched = full()
      .filter((e) => e.uri.includes('/objects/'))
      .map((e) => e.uri.split('/objects/')[1]?.replace(/\.filez$/, '.file'));
    expect(fetched.filter((f) => f !== undefined && before.has(f))).toEqual([]);
    expect(r2.objects.present).toBeGreaterThan(0);
    expect(readdirSync(join(ours, 'state'))).toEqual([]);
    expect(fsck(ours)).toContain('Verifying content integrity');
  });

  test('bad subpaths are refused with a one-line typed error', async () => {
    await expect(pull({ url: url('flatpak'), ref: APP, repo: newRepo('bad'), subpaths: ['files'] })).rejects.toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
    });
    await expect(pull({ url: url('flatpak'), ref: APP, repo: newRepo('bad2'), subpaths: ['/files/../x'] })).rejects.toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
    });
  });
});
