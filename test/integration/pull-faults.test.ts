/**
 * Pulls through a misbehaving server (RepoServer fault injection): transient 503s, resets
 * mid-body, first-byte stalls and corrupt bodies are ridden through with correct content;
 * persistent corruption fails with one clear line naming the object and URL, and nothing
 * corrupt ever lands in objects/. Interrupted pulls resume without re-fetching verified objects.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { FlathubFetchError, isFlathubFetchError, pull, type RequestRecord } from '../../packages/client/src/index.js';
import { randomFaults, RepoServer } from '../../packages/client/src/testing/index.js';
import { fixtureSets, REPO_ROOT } from '../support/fixtures.js';
import { checkout, copyRepo, fsck, treeManifest } from '../support/ostree.js';
import { objectPaths, verifiedObjectCount } from '../support/repoChecks.js';
import { describeWithTools } from '../support/tools.js';

const set = fixtureSets().at(-1);
if (set === undefined) throw new Error('no fixtures');
const m = set.manifest.repos;
const APP = 'app/org.example.Hello/x86_64/stable';
const HEAD = m.archive?.heads[APP] as string;

describeWithTools(['ostree'], `pull under faults (${set.name} fixtures)`, () => {
  const tmp = mkdtempSync(join(tmpdir(), 'ffetch-faults-'));
  const serverRepo = copyRepo(set.repoPath('archive'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));
  const expected = () => treeManifest(checkout(serverRepo, HEAD));

  test('20% 503s, resets mid-body and first-byte stalls: the pull completes with correct content', async () => {
    for (const deltas of ['prefer', 'never'] as const) {
      const server = await RepoServer.start(set.repoPath('archive'), {
        faults: randomFaults({ seed: 7, p503: 0.2, pReset: 0.05, pStall: 0.05, stallMs: 1200, maxFaultsPerPath: 2 }),
      });
      try {
        const repo = join(tmp, `faults-${deltas}`);
        const emitted: RequestRecord[] = [];
        const result = await pull({
          url: server.url,
          ref: APP,
          repo,
          deltas,
          http: { timeouts: { firstByte: 500 }, retry: { retries: 5, minDelay: 1, maxDelay: 20 } },
          onEvent: (e) => {
            if (e.type === 'request') emitted.push(e.record);
          },
        });
        expect(result.commit).toBe(HEAD);
        const faults = server.log.filter((e) => e.fault !== null).length;
        expect(faults, 'the policy injected faults').toBeGreaterThan(0);
        expect(result.requests.filter((r) => r.error !== null).length).toBeGreaterThanOrEqual(1);
        // The result's records (kept compact during the pull) are the ones delivered as events:
        // same values, same fields in the same order (failed attempts, retries, resumed ranges).
        expect(result.requests).toStrictEqual(emitted);
        expect(JSON.stringify(result.requests)).toBe(JSON.stringify(emitted));
        expect(result.requests.some((r) => r.range !== null || r.retryOf !== null)).toBe(true);
        fsck(repo);
        expect(treeManifest(checkout(repo, HEAD))).toEqual(expected());
        verifiedObjectCount(repo);
      } finally {
        await server.close();
      }
    }
  });

  test('a pull that fails before writing leaves no repository where there was none (an existing directory stays)', async () => {
    const server = await RepoServer.start(set.repoPath('archive'));
    try {
      // The remote cannot be opened (nothing listens there), or the ref does not exist.
      const closed = await RepoServer.start(set.repoPath('archive'));
      const deadUrl = closed.url;
      await closed.close();
      const cases: Array<[string, string, string]> = [
        ['unreachable remote', deadUrl, APP],
        ['unknown ref', server.url, 'app/org.example.Nope/x86_64/stable'],
      ];
      for (const [name, url, ref] of cases) {
        const repo = join(tmp, `never-${name.replace(/ /g, '-')}`);
        await expect(pull({ url, ref, repo, http: { retry: 0 } }), name).rejects.toBeInstanceOf(FlathubFetchError);
        expect(existsSync(repo), name).toBe(false);
      }
      const existing = mkdtempSync(join(tmp, 'existing-'));
      await expect(pull({ url: server.url, ref: 'app/org.example.Nope/x86_64/stable', repo: existing })).rejects.toThrow('Nope');
      expect(existsSync(existing)).toBe(true);
    } finally {
      await server.close();
    }
  });

  test('a corrupt body is detected and re-fetched', async () => {
    const file = m.archive?.deltas.find((d) => d.from === null && d.to === HEAD)?.fallback_checksums[0] as string;
    const corruptPath = `/objects/${file.slice(0, 2)}/${file.slice(2)}.filez`;
    const server = await RepoServer.start(set.repoPath('archive'), {
      faults: (ctx) => (ctx.path === corruptPath && ctx.attempt === 1 ? { kind: 'corrupt' } : null),
    });
    try {
      const repo = join(tmp, 'corrupt-once');
      const result = await pull({ url: server.url, ref: APP, repo });
      expect(server.log.filter((e) => e.path === corruptPath).map((e) => e.fault)).toEqual(['corrupt', null]);
      expect(result.requests.some((r) => r.error?.class === 'checksum-mismatch')).toBe(true);
      expect(treeManifest(checkout(repo, HEAD))).toEqual(expected());
    } finally {
      await server.close();
    }
  });

  test('persistent corruption fails with one line naming the object and URL; nothing corrupt is written', async () => {
    const file = m.archive?.deltas.find((d) => d.from === null && d.to === HEAD)?.fallback_checksums[0] as string;
    const corruptPath = `/objects/${file.slice(0, 2)}/${file.slice(2)}.filez`;
    const server = await RepoServer.start(set.repoPath('archive'), {
      faults: (ctx) => (ctx.path === corruptPath ? { kind: 'corrupt' } : null),
    });
    try {
      const repo = join(tmp, 'corrupt-always');
      const err = await pull({ url: server.url, ref: APP, repo }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(FlathubFetchError);
      expect(isFlathubFetchError(err, 'ERR_CHECKSUM_MISMATCH')).toBe(true);
      const msg = (err as Error).message;
      expect(msg.split('\n')).toHaveLength(1);
      expect(msg).toContain(`${server.url}${corruptPath.slice(1)}`);
      expect(msg).toContain(file);
      expect(existsSync(join(repo, corruptPath))).toBe(false);
      verifiedObjectCount(repo);
      // The commit stays marked partial.
      expect(existsSync(join(repo, 'state', `${HEAD}.commitpartial`))).toBe(true);
    } finally {
      await server.close();
    }
  });

  test('a delta part that keeps failing is replaced by fetching its objects individually', async () => {
    const delta = m.archive?.deltas.find((d) => d.from === null && d.to === HEAD);
    if (delta === undefined) throw new Error('no delta');
    const partPath = `/${delta.path}/0`;
    const server = await RepoServer.start(set.repoPath('archive'), {
      faults: (ctx) => (ctx.path === partPath ? { kind: 'status', status: 404 } : null),
    });
    try {
      const repo = join(tmp, 'part-missing');
      const result = await pull({ url: server.url, ref: APP, repo });
      expect(result.partsRecovered).toBe(1);
      expect(result.objects.loose).toBeGreaterThanOrEqual(delta.parts_meta[0]?.nobjects ?? 1);
      expect(treeManifest(checkout(repo, HEAD))).toEqual(expected());
    } finally {
      await server.close();
    }
  });

  test('abort mid-pull, then rerun: completes and re-fetches nothing already verified', async () => {
    const server = await RepoServer.start(set.repoPath('archive'), {
      faults: (ctx) => (ctx.path.startsWith('/objects/') ? { kind: 'slow', bytesPerSecond: 20_000 } : null),
    });
    try {
      const repo = join(tmp, 'abort');
      const controller = new AbortController();
      let files = 0;
      const err = await pull({
        url: server.url,
        ref: APP,
        repo,
        deltas: 'never',
        signal: controller.signal,
        // One request per connection: files then complete a few at a time. Pipelined, a
        // connection's later responses are already buffered by the server when the slow one
        // before them ends, so most of this small pull completes at once, before the abort.
        http: { pipelining: 1 },
        // Abort once 8 files are written (a record is delivered after its body was verified and
        // stored); progress events are throttled and could come too late for a pull this small.
        // At 20 kB/s per response the larger files are still on the wire then (faster, the whole
        // pull could be done before the abort is seen).
        onEvent: (e) => {
          if (e.type === 'request' && e.record.purpose === 'file' && e.record.status === 200 && ++files === 8) controller.abort();
        },
      }).catch((e: unknown) => e);
      expect(isFlathubFetchError(err, 'ERR_ABORTED')).toBe(true);
      const before = verifiedObjectCount(repo);
      expect(before).toBeGreaterThan(0);
      expect(existsSync(join(repo, 'state', `${HEAD}.commitpartial`))).toBe(true);
      // Objects verified and written before the abort (they are in objects/ now).
      const written = objectPaths(repo);
      const n = server.log.length;
      server.faults = undefined;
      const result = await pull({ url: server.url, ref: APP, repo, deltas: 'never' });
      // None of them is requested again.
      expect(server.log.slice(n).filter((e) => written.has(e.path))).toEqual([]);
      expect(result.objects.present).toBeGreaterThan(0);
      expect(existsSync(join(repo, 'state', `${HEAD}.commitpartial`))).toBe(false);
      expect(treeManifest(checkout(repo, HEAD))).toEqual(expected());
    } finally {
      await server.close();
    }
  });

  test('kill -9 of the CLI mid-pull, then rerun: the repository is consistent and the pull completes', async () => {
    const server = await RepoServer.start(set.repoPath('archive'), {
      faults: (ctx) => (ctx.path.startsWith('/objects/') ? { kind: 'slow', bytesPerSecond: 100_000 } : null),
    });
    try {
      const repo = join(tmp, 'kill9');
      const child = spawn(
        process.execPath,
        [join(REPO_ROOT, 'packages/cli/dist/bin.js'), 'pull', server.url, APP, '--repo', repo, '--no-deltas'],
        { stdio: 'ignore' },
      );
      const deadline = Date.now() + 20_000;
      while (server.log.filter((e) => e.path.startsWith('/objects/') && e.status === 200).length < 6 && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 20));
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      expect(verifiedObjectCount(repo)).toBeGreaterThan(0);
      expect(existsSync(join(repo, 'state', `${HEAD}.commitpartial`))).toBe(true);
      const written = objectPaths(repo);
      const n = server.log.length;
      server.faults = undefined;
      await pull({ url: server.url, ref: APP, repo, deltas: 'never' });
      expect(server.log.slice(n).filter((e) => written.has(e.path))).toEqual([]);
      fsck(repo);
      expect(treeManifest(checkout(repo, HEAD))).toEqual(expected());
    } finally {
      await server.close();
    }
  });
});
