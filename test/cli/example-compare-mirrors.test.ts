/** examples/compare-mirrors.mjs against a fixture repository served by RepoServer: a faithful mirror and one corrupting objects. */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { RepoServer } from '../../packages/client/src/testing/index.js';
import { fixtureSets, REPO_ROOT } from '../support/fixtures.js';

const set = fixtureSets().at(-1);
if (set === undefined) throw new Error('no fixtures');
const servers: RepoServer[] = [];
beforeAll(async () => {
  const root = set.repoPath('archive');
  servers.push(
    await RepoServer.start(root),
    await RepoServer.start(root),
    await RepoServer.start(root, { faults: (ctx) => (ctx.path.endsWith('.filez') ? { kind: 'corrupt' } : null) }),
  );
});
afterAll(async () => Promise.all(servers.map((s) => s.close())));

test('compare-mirrors.mjs prints each mirror’s verdict per check and exits 1 when one fails', async () => {
  const [primary, good, corrupt] = servers.map((s) => s.url);
  // Asynchronous on purpose: the servers run in this process and must keep answering.
  const r = await promisify(execFile)(
    process.execPath,
    [join(REPO_ROOT, 'examples', 'compare-mirrors.mjs'), primary as string, good as string, corrupt as string],
    {
      encoding: 'utf8',
      cwd: REPO_ROOT,
    },
  ).catch((err: { code: number; stdout: string; stderr: string }) => err);
  expect('code' in r ? r.code : 0).toBe(1);
  const out = r.stdout.split('\n');
  expect(out[0]).toBe(`${good} pass`);
  expect(out.slice(1, 6)).toEqual(['  freshness: pass', '  trust: skip', '  completeness: pass', '  http: pass', '  performance: pass']);
  expect(out[6]).toBe(`${corrupt} fail`);
  expect(out[9]).toMatch(/^ {2}completeness: fail — file [0-9a-f]{64}: expected [0-9a-f]{64}, got corrupt/);
  expect(r.stderr).toContain(`checked ${good}`);
});
