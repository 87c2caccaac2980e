/** The examples in examples/ run against a served fixture repository and print what they should. */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { RepoServer } from '../../packages/client/src/testing/index.js';
import { fixtureSets, REPO_ROOT } from '../support/fixtures.js';

const set = fixtureSets().at(-1);
if (set === undefined) throw new Error('no fixtures');
let server: RepoServer;
beforeAll(async () => {
  server = await RepoServer.start(set.repoPath('archive'));
});
afterAll(async () => server?.close());

// Asynchronous on purpose: the server runs in this process and must keep answering.
const run = async (name: string, args: string[]) =>
  (await promisify(execFile)(process.execPath, [join(REPO_ROOT, 'examples', name), ...args], { encoding: 'utf8', cwd: REPO_ROOT })).stdout;

test('list-refs.mjs lists every ref with its commit', async () => {
  const out = await run('list-refs.mjs', [server.url]);
  for (const [ref, commit] of Object.entries(set.manifest.repos.archive?.heads ?? {}))
    expect(out).toContain(`${ref}\t${commit.slice(0, 12)}`);
});

test('show-deltas.mjs shows every delta with its parts', async () => {
  const out = (await run('show-deltas.mjs', [server.url])).trim().split('\n');
  expect(out).toHaveLength(set.manifest.repos.archive?.deltas.length ?? -1);
  expect(out.some((l) => l.startsWith('scratch -> '))).toBe(true);
});
