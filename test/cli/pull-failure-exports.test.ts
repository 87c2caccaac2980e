import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RepoServer } from '@flathub-fetch/client/testing';
import { afterAll, describe, expect, test } from 'vitest';
import { fixtureSets } from '../support/fixtures.js';
import { runCli } from '../support/cli.js';

const require = createRequire(import.meta.url);
const harValidator = require('har-validator') as { har(data: unknown): Promise<unknown> };
const parsePrometheus = require('parse-prometheus-text-format') as (
  text: string,
) => Array<{ name: string; metrics: Array<{ value?: string; labels?: Record<string, string> }> }>;

const set = fixtureSets().at(-1);
if (set === undefined) throw new Error('no fixtures');
const APP = 'app/org.example.Hello/x86_64/stable';

/** The CLI as a child process, without blocking this process's event loop (the server runs here). */
const run = runCli;

interface HarEntry {
  request: { url: string };
  response: { status: number };
}

const metric = (text: string, name: string) => parsePrometheus(text).find((f) => f.name === name)?.metrics ?? [];

describe(`cli pull: HAR and metrics of a failed pull (${set.name} fixtures)`, () => {
  const tmp = mkdtempSync(join(tmpdir(), 'ffetch-cli-fail-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  test('an object the server keeps corrupting: exit 3, one line; the HAR lists every attempt the server logged', async () => {
    let victim: string | null = null;
    const server = await RepoServer.start(set.repoPath('archive'), {
      faults: ({ path }) => {
        if (!path.endsWith('.dirtree')) return null;
        victim ??= path;
        return path === victim ? { kind: 'corrupt' } : null;
      },
    });
    try {
      const har = join(tmp, 'corrupt.har');
      const prom = join(tmp, 'corrupt.prom');
      const r = await run(['pull', server.url, APP, '--repo', join(tmp, 'corrupt-repo'), '--no-deltas', '--har', har, '--metrics', prom]);
      expect(r.code, r.stderr).toBe(3);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toContain(`${victim}`);
      const doc = JSON.parse(readFileSync(har, 'utf8')) as { log: { entries: HarEntry[] } };
      await harValidator.har(doc);
      const ours = doc.log.entries.map((e) => `${new URL(e.request.url).pathname} ${e.response.status}`).sort();
      const theirs = server.log.map((e) => `${e.path} ${e.status}`).sort();
      expect(ours).toEqual(theirs);
      // The corrupt object was fetched more than once (re-fetched, then given up).
      expect(ours.filter((x) => x.startsWith(`${victim} `)).length).toBeGreaterThan(1);
      const text = readFileSync(prom, 'utf8');
      expect(metric(text, 'flathub_fetch_pull_success')[0]?.value).toBe('0');
      expect(metric(text, 'flathub_fetch_pull_failure_info')[0]?.labels?.code).toBe('ERR_CHECKSUM_MISMATCH');
      expect(metric(text, 'flathub_fetch_pull_info')[0]?.labels?.strategy).toBe('objects');
    } finally {
      await server.close();
    }
  });

  test('a summary that always answers 503: exit 1; the HAR and the HTML report have the 503s and their retries', async () => {
    const server = await RepoServer.start(set.repoPath('archive'), {
      faults: ({ path }) => (path === '/summary' ? { kind: 'status', status: 503, retryAfter: 0 } : null),
    });
    try {
      const har = join(tmp, '503.har');
      const prom = join(tmp, '503.prom');
      // Since issue #16 a pull retries until nothing has arrived for the stall window (120 s by
      // default) instead of giving up after 5 retries: a short window keeps this test quick.
      const html = join(tmp, '503.html');
      const r = await run([
        'pull',
        server.url,
        APP,
        '--repo',
        join(tmp, '503-repo'),
        '--har',
        har,
        '--metrics',
        prom,
        '--html',
        html,
        '--stall-timeout',
        '3',
      ]);
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toContain('/summary');
      const doc = JSON.parse(readFileSync(har, 'utf8')) as { log: { entries: HarEntry[] } };
      await harValidator.har(doc);
      // The server logs a request when its response ends. Every attempt answered is in its log
      // (the last one, cut off when the stall window ended the pull, may end after the CLI
      // exited); an attempt cut off before the server read it (no response in the HAR) is not.
      const answered = doc.log.entries.filter((e) => e.response.status !== 0).length;
      await expect.poll(() => server.log.length, { timeout: 5000 }).toBeGreaterThanOrEqual(answered);
      expect(server.log.length).toBeLessThanOrEqual(doc.log.entries.length);
      const summary503 = doc.log.entries.filter((e) => e.request.url.endsWith('/summary') && e.response.status === 503).length;
      expect(summary503).toBe(server.log.filter((e) => e.path === '/summary' && e.status === 503).length);
      expect(summary503).toBeGreaterThan(1);
      // Unanswered, at most the attempt under way when the stall window ended the pull.
      expect(doc.log.entries.length - answered).toBeLessThanOrEqual(1);
      const text = readFileSync(prom, 'utf8');
      expect(metric(text, 'flathub_fetch_pull_success')[0]?.value).toBe('0');
      expect(metric(text, 'flathub_fetch_pull_failure_info')[0]?.labels?.code).toMatch(/^ERR_/);
      // The HTML report: every 503 drawn as a failed attempt, every attempt after the first as a retry.
      expect(r.stderr).toContain(`HTML report: ${html}`);
      const page = readFileSync(html, 'utf8');
      expect(page.match(/<g class="req err[ "]/g)?.length).toBe(summary503);
      expect(page.match(/<g class="req [^"]*\bretry\b/g)?.length).toBe(summary503 - 1);
      expect(page).toContain(`${summary503} failed attempts`);
    } finally {
      await server.close();
    }
  });
});
