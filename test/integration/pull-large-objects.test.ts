/**
 * Large content objects (over the size at which `.filez` bodies are streamed to disk instead of
 * buffered): a repository made by the real ostree with multi-megabyte files, pulled loose and
 * as a delta's fallbacks, into archive and bare-user-only repositories. Each pull must pass
 * `ostree fsck`, check out equal to the source tree, leave nothing in `tmp/`, and ride out a
 * corrupt body, connections lost mid-body (resumed with Range) and a stalled body;
 * a body that is corrupt every time fails with ERR_CHECKSUM_MISMATCH and stores nothing.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { isFlathubFetchError, LocalRepo, pull, type RequestRecord } from '../../packages/client/src/index.js';
import { LARGE_AT_ONCE } from '../../packages/client/src/pull/ObjectFetcher.js';
import { type Fault, RepoServer } from '../../packages/client/src/testing/index.js';
import { startNginx } from '../support/nginx.js';
import { checkout, fsck, ostree, treeManifest } from '../support/ostree.js';
import { tmpLeftovers } from '../support/repoChecks.js';
import { describeWithTools } from '../support/tools.js';

const REF = 'test/large';

describeWithTools(['nginx', 'ostree'], 'large content objects: streamed to disk, verified, resumable', () => {
  let base: string;
  let repo: string;
  let tree: string;
  let commit: string;
  /** The object paths (archive layout) of the large files. */
  let large: string[];
  let nginx: Awaited<ReturnType<typeof startNginx>>;

  beforeAll(async () => {
    base = mkdtempSync(join(tmpdir(), 'ffetch-large-'));
    repo = join(base, 'repo');
    tree = join(base, 'tree');
    mkdirSync(join(tree, 'lib'), { recursive: true });
    // Incompressible (the .filez is about as large as the content), compressible (base64 text:
    // it inflates to more than its body), executable, and small files beside them.
    writeFileSync(join(tree, 'lib', 'random.so'), randomBytes(3 * 1024 * 1024));
    writeFileSync(join(tree, 'lib', 'text.dat'), randomBytes(4 * 1024 * 1024).toString('base64'));
    writeFileSync(join(tree, 'lib', 'tool'), randomBytes(1536 * 1024));
    chmodSync(join(tree, 'lib', 'tool'), 0o755);
    for (let i = 0; i < 40; i++) writeFileSync(join(tree, `small-${i}.txt`), `small file ${i}\n`.repeat(1 + i));
    ostree(['init', `--repo=${repo}`, '--mode=archive']);
    commit = ostree(['commit', `--repo=${repo}`, `--branch=${REF}`, '--subject=large', `--tree=dir=${tree}`]).trim();
    // Objects over 1 MB travel as fallbacks (loose objects beside the delta's parts).
    ostree(['static-delta', 'generate', `--repo=${repo}`, '--empty', `--to=${REF}`, '--min-fallback-size=1']);
    ostree(['summary', '-u', `--repo=${repo}`]);
    const sizes = ostree(['ls', `--repo=${repo}`, '-R', '-C', REF]);
    large = sizes
      .split('\n')
      .filter((l) => /\/lib\/(random\.so|text\.dat|tool)$/.test(l))
      .map((l) => l.trim().split(/\s+/)[4] as string)
      .map((c) => `objects/${c.slice(0, 2)}/${c.slice(2)}.filez`);
    expect(large).toHaveLength(3);
    nginx = await startNginx(repo);
  });

  afterAll(async () => {
    await nginx?.stop();
    if (base !== undefined) rmSync(base, { recursive: true, force: true });
  });

  /** fsck, equality with the source tree, and an empty tmp/. */
  const expectComplete = (dest: string, mode: string) => {
    expect(readFileSync(join(dest, 'config'), 'utf8')).toContain(`mode=${mode === 'archive' ? 'archive-z2' : mode}\n`);
    expect(fsck(dest)).toContain('Verifying content integrity');
    expect(treeManifest(checkout(dest, commit))).toEqual(treeManifest(tree));
    expect(tmpLeftovers(dest)).toEqual([]);
  };

  for (const mode of ['archive', 'bare-user-only'] as const) {
    test(`${mode}: loose objects and delta fallbacks over nginx`, async () => {
      for (const deltas of ['never', 'prefer'] as const) {
        const dest = join(base, `${mode}-${deltas}`);
        const emitted: RequestRecord[] = [];
        const result = await pull({
          url: nginx.url,
          ref: REF,
          repo: dest,
          repoMode: mode,
          deltas,
          onEvent: (e) => {
            if (e.type === 'request') emitted.push(e.record);
          },
        });
        expect(result.strategy).toBe(deltas === 'never' ? 'objects' : 'delta-scratch');
        // The result's records (kept compact during the pull) are the ones delivered as events,
        // field for field and in the same order, nginx's cache headers included.
        expect(result.requests).toStrictEqual(emitted);
        expect(JSON.stringify(result.requests)).toBe(JSON.stringify(emitted));
        expect(result.requests.filter((r) => r.status === 200).every((r) => r.cacheHeaders.etag !== undefined)).toBe(true);
        const fetched = result.requests.filter((r) => large.some((p) => r.url.endsWith(p)) && r.status === 200);
        expect(fetched.map((r) => r.purpose).sort()).toEqual(Array(3).fill(deltas === 'never' ? 'file' : 'fallback'));
        expectComplete(dest, mode);
      }
    });
  }

  test(`fallbacks: at most ${LARGE_AT_ONCE} large bodies downloading at once, all of them stored`, async () => {
    // A second repository: seven incompressible 1.5 MiB files, each a fallback of the delta.
    const many = join(base, 'many');
    const manyTree = join(base, 'many-tree');
    mkdirSync(manyTree, { recursive: true });
    for (let i = 0; i < 7; i++) writeFileSync(join(manyTree, `blob-${i}.bin`), randomBytes(1536 * 1024));
    ostree(['init', `--repo=${many}`, '--mode=archive']);
    const manyCommit = ostree(['commit', `--repo=${many}`, `--branch=${REF}`, '--subject=many', `--tree=dir=${manyTree}`]).trim();
    ostree(['static-delta', 'generate', `--repo=${many}`, '--empty', `--to=${REF}`, '--min-fallback-size=1']);
    ostree(['summary', '-u', `--repo=${many}`]);
    const server = await startNginx(many);
    try {
      const dest = join(base, 'many-pulled');
      const result = await pull({ url: server.url, ref: REF, repo: dest, repoMode: 'bare-user-only', deltas: 'prefer' });
      expect(result.strategy).toBe('delta-scratch');
      const fallbacks = result.requests.filter((r) => r.purpose === 'fallback');
      expect(fallbacks.filter((r) => r.status === 200)).toHaveLength(7);
      // Each attempt's life, from its creation to its end: never more than LARGE_AT_ONCE overlap.
      const edges = fallbacks.flatMap((r) => [
        { t: r.timings.queued, d: 1 },
        { t: r.timings.done ?? Number.POSITIVE_INFINITY, d: -1 },
      ]);
      edges.sort((a, b) => a.t - b.t || a.d - b.d);
      let open = 0;
      let most = 0;
      for (const e of edges) {
        open += e.d;
        most = Math.max(most, open);
      }
      expect(most).toBe(LARGE_AT_ONCE);
      expect(fsck(dest)).toContain('Verifying content integrity');
      expect(treeManifest(checkout(dest, manyCommit))).toEqual(treeManifest(manyTree));
      expect(tmpLeftovers(dest)).toEqual([]);
    } finally {
      await server.stop();
    }
  });

  test('a corrupt body, connections lost mid-body, a stall: each large object is fetched again or resumed, and stored once', async () => {
    const [first, second, third] = large as [string, string, string];
    const faults: Record<string, Fault[]> = {
      [`/${first}`]: [{ kind: 'corrupt' }, { kind: 'reset', after: 700_000 }],
      // A reset, then a resumed body cut short under a Content-Length that lies: resumed again.
      [`/${second}`]: [
        { kind: 'reset', after: 600_000 },
        { kind: 'truncate', keep: 800_000, lie: true },
      ],
      [`/${third}`]: [{ kind: 'stall', after: 100_000, ms: 50 }],
    };
    // Requests per path since the current pull began (the server's own count spans all pulls).
    const seen = new Map<string, number>();
    const server = await RepoServer.start(repo, {
      faults: (ctx) => {
        const k = (seen.get(ctx.path) ?? 0) + 1;
        seen.set(ctx.path, k);
        return faults[ctx.path]?.[k - 1] ?? null;
      },
    });
    try {
      for (const mode of ['archive', 'bare-user-only'] as const) {
        const dest = join(base, `faults-${mode}`);
        const n = server.log.length;
        seen.clear();
        const result = await pull({ url: server.url, ref: REF, repo: dest, repoMode: mode, deltas: 'never' });
        expectComplete(dest, mode);
        const log = server.log.slice(n);
        // The corrupt body was fetched again; the reset bodies were resumed with Range.
        expect(log.filter((e) => e.path === `/${first}`).length).toBeGreaterThanOrEqual(3);
        expect(log.some((e) => e.path === `/${first}` && e.range !== null)).toBe(true);
        expect(log.some((e) => e.path === `/${second}` && e.range !== null)).toBe(true);
        expect(result.requests.some((r) => r.url.endsWith(first) && r.error?.code === 'ERR_CHECKSUM_MISMATCH')).toBe(true);
      }
    } finally {
      await server.close();
    }
  });

  test('an abort while large objects stream in: ERR_ABORTED, nothing of them in objects/ or tmp/', async () => {
    const slow = new Set(large.map((p) => `/${p}`));
    const server = await RepoServer.start(repo, {
      faults: (ctx) => (slow.has(ctx.path) ? { kind: 'slow', bytesPerSecond: 300_000 } : null),
    });
    try {
      for (const mode of ['archive', 'bare-user-only'] as const) {
        const dest = join(base, `abort-${mode}`);
        const controller = new AbortController();
        let streaming = 0;
        const err = await pull({
          url: server.url,
          ref: REF,
          repo: dest,
          repoMode: mode,
          deltas: 'never',
          signal: controller.signal,
          // Aborted once every small file is in: the large ones are then part-way through.
          onEvent: (e) => {
            if (e.type === 'request' && e.record.purpose === 'file' && e.record.status === 200 && ++streaming === 40) controller.abort();
          },
        }).catch((e: unknown) => e);
        expect(isFlathubFetchError(err, 'ERR_ABORTED')).toBe(true);
        for (const p of large) expect(existsSync(join(dest, p.replace('.filez', mode === 'archive' ? '.filez' : '.file')))).toBe(false);
        expect(tmpLeftovers(dest)).toEqual([]);
      }
    } finally {
      await server.close();
    }
  });

  test("a transaction's abort removes the file of a body still streaming in (its receiver not yet disposed)", async () => {
    const [first] = large as [string];
    const checksum = first
      .replace(/^objects\//, '')
      .replace('/', '')
      .replace('.filez', '');
    const filez = readFileSync(join(repo, first));
    for (const mode of ['archive', 'bare-user-only'] as const) {
      const local = await LocalRepo.create(join(base, `txn-abort-${mode}`), { mode, fsync: 'none' });
      try {
        const txn = local.beginTransaction();
        await txn.ready();
        const receiver = txn.receiveFilez(checksum, { declaredSize: filez.length });
        await receiver.push(filez.subarray(0, 1024 * 1024));
        const tmpFiles = () => tmpLeftovers(local.path);
        expect(tmpFiles()).toHaveLength(1);
        await txn.abort();
        expect(tmpFiles()).toEqual([]);
      } finally {
        await local.close();
      }
    }
  });

  test('a large object corrupt on every request: ERR_CHECKSUM_MISMATCH naming it, nothing of it stored', async () => {
    const [first] = large as [string];
    const server = await RepoServer.start(repo, { faults: (ctx) => (ctx.path === `/${first}` ? { kind: 'corrupt' } : null) });
    try {
      for (const mode of ['archive', 'bare-user-only'] as const) {
        const dest = join(base, `corrupt-${mode}`);
        const err = await pull({ url: server.url, ref: REF, repo: dest, repoMode: mode, deltas: 'never' }).catch((e: unknown) => e);
        expect(isFlathubFetchError(err, 'ERR_CHECKSUM_MISMATCH')).toBe(true);
        const checksum = first
          .replace(/^objects\//, '')
          .replace('/', '')
          .replace('.filez', '');
        expect((err as Error).message).toContain(checksum);
        const stored = join(dest, first.replace('.filez', mode === 'archive' ? '.filez' : '.file'));
        expect(existsSync(stored)).toBe(false);
        expect(tmpLeftovers(dest)).toEqual([]);
      }
    } finally {
      await server.close();
    }
  });
});
