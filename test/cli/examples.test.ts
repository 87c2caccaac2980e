/** The examples in examples/ run against a served fixture repository and print what they should. */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
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

test('plan.mjs prints the chosen strategy and each path’s totals', async () => {
  const ref = 'app/org.example.Hello/x86_64/stable';
  const out = await run('plan.mjs', [server.url, ref]);
  expect(out).toMatch(/chosen delta-scratch/);
  expect(out).toMatch(/^objects\t\d+ requests, \d+ bytes \(approximate\)$/m);
  expect(out).toMatch(/^delta-scratch\t\d+ requests, \d+ bytes \(exact\)$/m);
});

test('pull-with-progress.mjs and export-har.mjs pull; the HAR has one entry per request', async () => {
  const ref = 'app/org.example.Hello/x86_64/stable';
  const dir = mkdtempSync(join(tmpdir(), 'ffetch-examples-'));
  try {
    const pulled = await run('pull-with-progress.mjs', [server.url, ref, join(dir, 'a')]);
    const [, n] = /: (\d+) requests, strategy delta-scratch/.exec(pulled) ?? [];
    expect(Number(n)).toBeGreaterThan(0);
    const before = server.log.length;
    const out = await run('export-har.mjs', [server.url, ref, join(dir, 'b'), join(dir, 'pull.har')]);
    const har = JSON.parse(readFileSync(join(dir, 'pull.har'), 'utf8'));
    expect(har.log.entries).toHaveLength(server.log.length - before);
    expect(out).toContain(`${har.log.entries.length} requests written`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
