/**
 * A mirror that syncs objects/, deltas/ and refs/ but neither the summary nor delta-indexes/,
 * while its `config` still says `indexed-deltas=true`: nothing lists a delta, so the pull probes
 * the superblock paths as libostree does without a delta list — the from-scratch delta on a
 * fresh pull (≤ 12 requests in all), the from-revision delta when a local commit exists.
 */
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { deltaSuperblockPath } from '../../packages/client/src/formats/paths.js';
import { pull } from '../../packages/client/src/index.js';
import { RepoServer } from '../../packages/client/src/testing/index.js';
import { checkoutManifest, fsck, ostree } from '../support/ostree.js';
import { describeWithTools } from '../support/tools.js';

describeWithTools(['ostree'], 'probing for static deltas nothing lists', () => {
  const base = mkdtempSync(join(tmpdir(), 'ffetch-probe-'));
  const repo = join(base, 'repo');
  const tree = join(base, 'tree');
  const ref = 'probe/test';
  mkdirSync(join(tree, 'd'), { recursive: true });
  for (let i = 0; i < 60; i++) writeFileSync(join(tree, 'd', `f${i}`), `file ${i}\n`.repeat(1 + i * 13));
  ostree(['init', `--repo=${repo}`, '--mode=archive']);
  const commit = (subject: string) =>
    ostree(['commit', `--repo=${repo}`, `--branch=${ref}`, `--subject=${subject}`, '--no-xattrs', `--tree=dir=${tree}`]).trim();
  const first = commit('first');
  for (let i = 0; i < 5; i++) writeFileSync(join(tree, 'd', `new${i}`), `new ${i}\n`.repeat(40));
  const second = commit('second');
  ostree(['static-delta', 'generate', `--repo=${repo}`, '--empty', `--to=${ref}`]);
  ostree(['static-delta', 'generate', `--repo=${repo}`, `--from=${first}`, `--to=${second}`]);
  ostree(['static-delta', 'generate', `--repo=${repo}`, '--empty', `--to=${first}`]);
  // No `ostree summary -u`: no summary, no delta-indexes/; the config claims indexed deltas.
  appendFileSync(join(repo, 'config'), 'indexed-deltas=true\n');
  const expected = checkoutManifest(repo, ref);
  afterAll(() => rmSync(base, { recursive: true, force: true }));

  test('a fresh pull finds the from-scratch delta by probing, in ≤ 12 requests', async () => {
    const server = await RepoServer.start(repo);
    try {
      const local = join(base, 'fresh');
      const result = await pull({ url: server.url, ref, repo: local });
      expect(result.commit).toBe(second);
      expect(result.strategy).toBe('delta-scratch');
      expect(result.objects.loose).toBe(0);
      const paths = server.log.map((e) => `${e.status} ${e.path}`);
      expect(paths).toContain('404 /summary');
      expect(paths).toContain(`200 /${deltaSuperblockPath(null, second)}`);
      if (process.env.RELIABILITY_VERBOSE) console.log(JSON.stringify(paths));
      expect(server.log.length, paths.join('\n')).toBeLessThanOrEqual(12);
      fsck(local);
      expect(checkoutManifest(local, ref)).toEqual(expected);
    } finally {
      await server.close();
    }
  });

  test('with a local commit, the delta from it is found by probing', async () => {
    const server = await RepoServer.start(repo);
    try {
      const local = join(base, 'update');
      await pull({ url: server.url, ref: `${ref}@${first}`, repo: local });
      const before = server.log.length;
      const result = await pull({ url: server.url, ref, repo: local });
      expect(result.strategy).toBe('delta-from');
      expect(result.plan.chosen?.from).toBe(first);
      const paths = server.log.slice(before).map((e) => `${e.status} ${e.path}`);
      expect(paths).toContain(`200 /${deltaSuperblockPath(first, second)}`);
      fsck(local);
      expect(checkoutManifest(local, ref)).toEqual(expected);
    } finally {
      await server.close();
    }
  });
});
