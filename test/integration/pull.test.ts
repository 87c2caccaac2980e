/**
 * The pull engine against repositories made by the real ostree/flatpak tools, served by nginx:
 * request counts from nginx's own log, `ostree fsck` on our repository, and `ostree checkout`
 * of our repository equal to the server's, byte for byte.
 */
import { cpSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { pull, type RequestRecord } from '../../packages/client/src/index.js';
import { fixtureSets } from '../support/fixtures.js';
import { checkout, fsck, treeManifest } from '../support/ostree.js';
import { useFixtureNginx } from '../support/fixtureNginx.js';
import { tmpLeftovers } from '../support/repoChecks.js';
import { describeWithTools } from '../support/tools.js';

const set = fixtureSets().at(-1);
if (set === undefined) throw new Error('no fixtures');
const m = set.manifest.repos;
const APP = 'app/org.example.Hello/x86_64/stable';

describeWithTools(['nginx', 'ostree'], `pull over nginx (${set.name} fixtures)`, () => {
  const { url, newRepo, since, server } = useFixtureNginx(set, 'ffetch-pull-');
  const expectSameCheckout = (ours: string, repo: string, commit: string) => {
    expect(fsck(ours)).toContain('Verifying content integrity');
    expect(treeManifest(checkout(ours, commit))).toEqual(treeManifest(checkout(server(repo), commit)));
  };

  test('fresh pull uses the from-scratch delta: metadata + superblock + parts + fallbacks, nothing loose', async () => {
    const log = since();
    const repo = newRepo('fresh');
    const head = m.archive?.heads[APP] as string;
    const delta = m.archive?.deltas.find((d) => d.from === null && d.to === head);
    if (delta === undefined) throw new Error('fixture lacks the scratch delta');
    const result = await pull({ url: url('archive'), ref: APP, repo });
    expect(result.strategy).toBe('delta-scratch');
    expect(result.commit).toBe(head);
    const uris = log().map((e) => e.uri.replace('/archive/', ''));
    const parts = uris.filter((u) => u.startsWith(delta.path) && /\/\d+$/.test(u));
    expect(parts).toHaveLength(delta.parts);
    const loose = uris.filter((u) => u.startsWith('objects/'));
    // Only the fallback objects are fetched loose: the commit came in the superblock.
    expect(loose.sort()).toEqual(delta.fallback_checksums.map((c) => `objects/${c.slice(0, 2)}/${c.slice(2)}.filez`).sort());
    // The summary lists the deltas, so no delta index is needed.
    expect(uris.filter((u) => !u.startsWith('objects/') && !u.startsWith('deltas/')).sort()).toEqual([
      'config',
      'summary',
      'summary.idx',
      'summary.sig',
    ]);
    expect(uris.length).toBe(4 + 1 + delta.parts + delta.fallback_count);
    expect(result.requests.length).toBe(uris.length);
    // Download order: parts largest first, two at a time; the fallbacks once the parts have no
    // more bytes left to download than the fallbacks have, or no part waits for a slot and one
    // is free (so they do not slow down every part's decoding from the start).
    const partRecords = result.requests.filter((r) => r.purpose === 'delta-part');
    const fallbackRecords = result.requests.filter((r) => r.purpose === 'fallback');
    expect(delta.parts).toBeGreaterThanOrEqual(2);
    expect(fallbackRecords.length).toBe(delta.fallback_count);
    const sizes = [...partRecords].sort((a, b) => a.timings.queued - b.timings.queued).map((r) => r.bodyBytes);
    expect(sizes).toEqual([...sizes].sort((a, b) => b - a));
    const lastPartStart = Math.max(...partRecords.map((r) => r.timings.queued));
    const partEnds = partRecords.map((r) => r.timings.lastByte as number).sort((a, b) => a - b);
    const fallbackBytes = fallbackRecords.reduce((n, r) => n + r.bodyBytes, 0);
    for (const f of fallbackRecords) {
      // When the fallbacks start, every part but at most one has all its bytes, or the parts
      // still downloading have no more bytes than the fallbacks.
      const partsLeft = partRecords.filter((r) => (r.timings.lastByte as number) > f.timings.queued);
      const bytesLeft = partsLeft.reduce((n, r) => n + r.bodyBytes, 0);
      if (bytesLeft > fallbackBytes) {
        expect(f.timings.queued).toBeGreaterThanOrEqual(lastPartStart);
        expect(partEnds.filter((t) => t <= f.timings.queued).length).toBeGreaterThanOrEqual(delta.parts - 1);
      }
    }
    expectSameCheckout(repo, 'archive', head);
    // The writers' temporary files and their directories are gone.
    expect(tmpLeftovers(repo)).toEqual([]);
  });

  test('delta parts: the next part downloads and decodes while one runs; at most partConcurrency in each stage', async () => {
    const head = m.archive?.heads[APP] as string;
    const delta = m.archive?.deltas.find((d) => d.from === null && d.to === head);
    if (delta === undefined) throw new Error('fixture lacks the scratch delta');
    expect(delta.parts).toBeGreaterThan(1);
    for (const partConcurrency of [1, 2]) {
      const repo = newRepo(`stages-${partConcurrency}`);
      const events: Array<{ part: number; stage: string; objects?: number }> = [];
      const result = await pull({
        url: url('archive'),
        ref: APP,
        repo,
        partConcurrency,
        onEvent: (e) => {
          if (e.type === 'part') events.push({ part: e.part, stage: e.stage, ...(e.objects !== undefined ? { objects: e.objects } : {}) });
        },
      });
      const parts = [...new Set(events.map((e) => e.part))];
      expect(parts.sort((a, b) => a - b)).toEqual(Array.from({ length: delta.parts }, (_, i) => i));
      // Each part's stages, in order; the objects it applied add up to what the delta wrote (the
      // commit, from the superblock, aside).
      for (const p of parts)
        expect(events.filter((e) => e.part === p).map((e) => e.stage)).toEqual(['downloading', 'decoded', 'running', 'applied']);
      expect(events.filter((e) => e.stage === 'applied').reduce((n, e) => n + (e.objects ?? 0), 0)).toBe(result.objects.fromDelta - 1);
      // Stages overlap: replaying the events, never more than partConcurrency parts download or
      // decode, nor run, at once (a decoded part may wait for a run slot in between) …
      let fetching = 0;
      let running = 0;
      for (const e of events) {
        if (e.stage === 'downloading') fetching++;
        else if (e.stage === 'decoded') fetching--;
        else if (e.stage === 'running') running++;
        else running--;
        expect(fetching).toBeLessThanOrEqual(partConcurrency);
        expect(running).toBeLessThanOrEqual(partConcurrency);
      }
      // … and the part after the first `partConcurrency` starts downloading as soon as one of
      // those is decoded, before any of them has run.
      if (delta.parts > partConcurrency) {
        const starts = events.flatMap((e, i) => (e.stage === 'downloading' ? [i] : []));
        const firstApplied = events.findIndex((e) => e.stage === 'applied');
        expect(starts[partConcurrency]).toBeLessThan(firstApplied);
      }
      expectSameCheckout(repo, 'archive', head);
    }
  });

  test('delta parts whose objects are all present are skipped', async () => {
    const head = m.archive?.heads[APP] as string;
    const delta = m.archive?.deltas.find((d) => d.from === null && d.to === head);
    const donor = newRepo('donor');
    await pull({ url: url('archive'), ref: APP, repo: donor, deltas: 'never' });
    // A repository holding every object of the commit but the commit itself.
    const repo = newRepo('skip');
    cpSync(donor, repo, { recursive: true });
    rmSync(join(repo, 'objects', head.slice(0, 2), `${head.slice(2)}.commit`));
    rmSync(join(repo, 'refs', 'remotes', 'origin'), { recursive: true, force: true });
    const log = since();
    const result = await pull({ url: url('archive'), ref: APP, repo });
    expect(result.strategy).toBe('delta-scratch');
    expect(result.partsSkipped).toBe(delta?.parts);
    expect(log().filter((e) => /\/deltas\/.+\/\d+$/.test(e.uri) || e.uri.includes('/objects/'))).toEqual([]);
    expectSameCheckout(repo, 'archive', head);
  });

  test('update pulls use from-revision deltas with bsdiff and rollsum ops', async () => {
    const repo = newRepo('update');
    const [a1, a2, a3] = (m.archive?.refs[APP] ?? []) as [string, string, string];
    const first = await pull({ url: url('archive'), ref: `${APP}@${a1}`, repo });
    expect(first.commit).toBe(a1);
    const log = since();
    const second = await pull({ url: url('archive'), ref: `${APP}@${a2}`, repo });
    expect(second.strategy).toBe('delta-from');
    expect(second.plan.chosen?.from).toBe(a1);
    const d12 = m.archive?.deltas.find((d) => d.from === a1 && d.to === a2);
    expect(d12?.has_bsdiff_ops && d12.has_rollsum_ops).toBe(true);
    expect(log().filter((e) => e.uri.includes('/objects/'))).toEqual([]);
    expectSameCheckout(repo, 'archive', a2);
    const log3 = since();
    const third = await pull({ url: url('archive'), ref: APP, repo });
    expect(third.strategy).toBe('delta-from');
    expect(third.plan.chosen?.from).toBe(a2);
    expect(log3().length).toBeLessThanOrEqual(7);
    // Without download sizes in the summary, the from-revision delta is taken as libostree takes
    // it: only its superblock is requested (the from-scratch one would only price the alternative).
    const superblocks = third.requests.filter((r) => r.purpose === 'superblock');
    expect(superblocks).toHaveLength(1);
    expect(superblocks[0]?.url).toContain('-'); // from-revision: deltas/FROM-TO/superblock
    expect(third.plan.alternatives.find((a) => a.strategy === 'delta-scratch')?.note).toBe('superblock not fetched');
    expect(third.plan.reason).not.toContain('cheaper');
    expectSameCheckout(repo, 'archive', a3);
    // Asked for a full plan, both superblocks (from a2, and from scratch, to price the
    // alternative) are requested in the same round trip, not one after the other.
    const priced = newRepo('update-full-plan');
    await pull({ url: url('archive'), ref: `${APP}@${a2}`, repo: priced });
    const full = await pull({ url: url('archive'), ref: APP, repo: priced, fullPlan: true });
    expect(full.strategy).toBe('delta-from');
    const both = full.requests.filter((r) => r.purpose === 'superblock');
    expect(both).toHaveLength(2);
    const [x, y] = both as [RequestRecord, RequestRecord];
    expect(Math.max(x.timings.queued, y.timings.queued)).toBeLessThan(Math.min(x.timings.firstByte ?? 0, y.timings.firstByte ?? 0));
    expect(full.plan.alternatives.find((a) => a.strategy === 'delta-scratch')?.estimate).toBe('exact');
    expectSameCheckout(priced, 'archive', a3);
  });

  test('--no-deltas pulls every object individually and verifies', async () => {
    const repo = newRepo('objects');
    const log = since();
    const head = m.archive?.heads[APP] as string;
    const result = await pull({ url: url('archive'), ref: APP, repo, deltas: 'never' });
    expect(result.strategy).toBe('objects');
    expect(log().some((e) => e.uri.includes('/deltas/'))).toBe(false);
    expect(result.objects.fromDelta).toBe(0);
    expect(result.objects.loose).toBeGreaterThan(10);
    expectSameCheckout(repo, 'archive', head);
  });

  test('the object walk: commit and its detached metadata together, directories ahead of queued files', async () => {
    const head = m.archive?.heads[APP] as string;
    // One request at a time makes the order the walk's own priority order.
    const serial = await pull({ url: url('archive'), ref: APP, repo: newRepo('walk-serial'), deltas: 'never', http: { maxInFlight: 1 } });
    const kinds = serial.requests.filter((r) => r.attempt === 1).map((r) => r.purpose);
    const lastMetadata = Math.max(kinds.lastIndexOf('dirtree'), kinds.lastIndexOf('dirmeta'));
    expect(kinds.filter((k) => k === 'dirtree').length).toBeGreaterThan(2);
    // Every directory is discovered before any file is fetched, though the files of the upper
    // directories were queued long before the deeper dirtrees (a level-by-level FIFO walk
    // fetched 2,886 of the benchmark repository's 3,069 files before its last dirtree).
    expect(kinds.slice(0, lastMetadata).filter((k) => k === 'file')).toEqual([]);
    expectSameCheckout(newRepo('walk-serial'), 'archive', head);
    // With requests in parallel, the commit and its .commitmeta are in flight at the same time.
    const parallel = await pull({ url: url('archive'), ref: APP, repo: newRepo('walk-parallel'), deltas: 'never' });
    const commit = parallel.requests.find((r) => r.purpose === 'commit');
    const meta = parallel.requests.find((r) => r.purpose === 'commitmeta');
    if (commit === undefined || meta === undefined) throw new Error('no commit or commitmeta request');
    expect(commit.timings.dispatched as number).toBeLessThan(meta.timings.done as number);
    expect(meta.timings.dispatched as number).toBeLessThan(commit.timings.done as number);
  });

  test('a repository without a summary: ref via refs/heads, delta found by probing its path', async () => {
    const repo = newRepo('nosummary');
    const [ref, head] = Object.entries(m.nosummary?.heads ?? {})[0] as [string, string];
    const log = since();
    const result = await pull({ url: url('nosummary'), ref, repo });
    expect(result.commit).toBe(head);
    expect(result.strategy).toBe('delta-scratch');
    expect(log().map((e) => e.uri)).toContain(`/nosummary/refs/heads/${ref}`);
    expectSameCheckout(repo, 'nosummary', head);
  });

  test('inline and byte-swapped deltas', async () => {
    for (const name of ['archive-inline', 'archive-swapped']) {
      const repo = newRepo(name);
      const head = m[name]?.heads[APP] as string;
      const result = await pull({ url: url(name), ref: APP, repo });
      expect(result.strategy, name).toBe('delta-scratch');
      expectSameCheckout(repo, name, head);
    }
  });

  test('a Flatpak repository through summary.idx and delta indexes', async () => {
    const repo = newRepo('flatpak');
    const head = m.flatpak?.heads[APP] as string;
    const log = since();
    const result = await pull({ url: url('flatpak'), ref: APP, repo, arch: 'x86_64' });
    expect(result.commit).toBe(head);
    expect(result.strategy).toBe('delta-scratch');
    expect(log().map((e) => e.uri.replace('/flatpak/', ''))).toContain('summary.idx');
    expectSameCheckout(repo, 'flatpak', head);
    // The commit's GPG signatures came inside the superblock and were stored as .commitmeta.
    const metaDir = join(repo, 'objects', head.slice(0, 2));
    expect(readdirSync(metaDir)).toContain(`${head.slice(2)}.commitmeta`);
  });

  test('an object pull announces the plan’s byte estimate as its progress total from the start', async () => {
    const repo = newRepo('objects-progress');
    const events: Array<{ phase: string; bytes: { done: number; total: number } }> = [];
    const result = await pull({
      url: url('flatpak'),
      ref: APP,
      repo,
      arch: 'x86_64',
      deltas: 'never',
      onEvent: (e) => e.type === 'progress' && events.push(e.progress),
    });
    const estimate = result.plan.chosen?.bytes;
    expect(result.strategy).toBe('objects');
    expect(estimate).toBeGreaterThan(0);
    const first = events.find((e) => e.phase === 'objects');
    expect(first?.bytes.total, 'known before the objects arrive').toBeGreaterThanOrEqual(estimate as number);
    expect(first?.bytes.done).toBeLessThan(first?.bytes.total as number);
    // Totals never shrink.
    for (let i = 1; i < events.length; i++) expect(events[i]?.bytes.total).toBeGreaterThanOrEqual(events[i - 1]?.bytes.total as number);
  });

  test('a local commit with no delta from it: the plan prices the from-scratch delta against the missing objects', async () => {
    const repo = newRepo('weigh');
    const [v1, , v3] = (m.flatpak?.refs[APP] ?? []) as [string, string, string];
    await pull({ url: url('flatpak'), ref: `${APP}@${v1}`, repo, arch: 'x86_64' });
    const events: Array<{ bytes: { done: number; total: number }; objects: { done: number; total: number } }> = [];
    const result = await pull({
      url: url('flatpak'),
      ref: APP,
      repo,
      arch: 'x86_64',
      onEvent: (e) => e.type === 'progress' && events.push(e.progress),
    });
    expect(result.commit).toBe(v3);
    const byStrategy = Object.fromEntries(result.plan.alternatives.map((a) => [a.strategy, a]));
    expect(byStrategy['delta-from']?.available).toBe(false);
    expect(byStrategy['delta-scratch']?.available).toBe(true);
    expect(byStrategy['delta-scratch']?.estimate).toBe('exact');
    expect(byStrategy.objects?.requests).toBeGreaterThan(0);
    expect(['delta-scratch', 'objects']).toContain(result.plan.strategy);
    expect(result.plan.reason).toMatch(/beats/);
    expectSameCheckout(repo, 'flatpak', v3);
    // Progress never runs backwards: totals only grow and done never exceeds total.
    expect(events.length).toBeGreaterThan(0);
    for (let i = 0; i < events.length; i++) {
      const e = events[i] as (typeof events)[number];
      expect(e.bytes.done).toBeLessThanOrEqual(e.bytes.total);
      expect(e.objects.done).toBeLessThanOrEqual(e.objects.total);
      if (i > 0) {
        const p = events[i - 1] as (typeof events)[number];
        expect(e.bytes.total).toBeGreaterThanOrEqual(p.bytes.total);
        expect(e.bytes.done).toBeGreaterThanOrEqual(p.bytes.done);
        expect(e.objects.total).toBeGreaterThanOrEqual(p.objects.total);
      }
    }
  });
});
