/**
 * On a terminal (a pseudo-terminal from util-linux `script`): pull draws its live progress line
 * on stderr — phase, bar, bytes and objects against totals, rate, ETA, requests, retries and
 * errors — and the tables are coloured, unless NO_COLOR is set.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { CLI_BIN } from '../support/cli.js';
import { RepoServer } from '../../packages/client/src/testing/index.js';
import { fixtureSets } from '../support/fixtures.js';
import { describeWithTools } from '../support/tools.js';

const BIN = CLI_BIN;
const set = fixtureSets().at(-1);
if (set === undefined) throw new Error('no fixtures');

describeWithTools(['script'], 'pull on a terminal', () => {
  let server: RepoServer;
  let dir: string;
  beforeAll(async () => {
    // The first attempt of every 4th object or delta request fails with 503: retries and errors to show.
    let n = 0;
    server = await RepoServer.start(set.repoPath('archive'), {
      faults: (ctx) =>
        ctx.attempt === 1 && /^\/(objects|deltas)\//.test(ctx.path) && ++n % 4 === 0 ? { kind: 'status', status: 503 } : null,
    });
    dir = mkdtempSync(join(tmpdir(), 'ffetch-tty-'));
  });
  afterAll(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Runs the bin under a pseudo-terminal; returns everything it wrote (stdout and stderr together). */
  const onTerminal = async (args: string[], env: Record<string, string | undefined>) => {
    const cmd = [process.execPath, BIN, ...args].map((a) => `'${a}'`).join(' ');
    const r = await promisify(execFile)('script', ['-qec', cmd, '/dev/null'], {
      encoding: 'utf8',
      env: { ...process.env, TERM: 'xterm', NO_COLOR: undefined, ...env },
    });
    return r.stdout;
  };

  test('progress line with totals, rate, ETA, retries and errors; colour unless NO_COLOR', async () => {
    const ref = 'app/org.example.Hello/x86_64/stable';
    const out = await onTerminal(['pull', server.url, ref, '--repo', join(dir, 'a'), '--no-deltas'], {});
    // Each redraw starts with "\r ESC[2K"; the text up to the next line break is the progress line
    // (what follows a clear can be a message such as the plan line).
    const frames = out
      .split('\r\u001b[2K')
      .slice(1)
      .map((f) => f.split(/[\r\n]/)[0] as string)
      .filter((f) => /^(metadata|delta|fallbacks|objects|verify|done) /.test(f));
    expect(frames.length).toBeGreaterThan(0);
    const line =
      /^(metadata|delta|fallbacks|objects|verify|done) +\[[#.]+\] [\d.]+ (B|KiB|MiB)\/[\d.]+ (B|KiB|MiB) \d+\/\d+ obj [\d.]+ (B|KiB|MiB)\/s ETA (\d+s|-) \d+ req( \(\d+ retries, \d+ errors\))?/;
    for (const f of frames) expect(f).toMatch(line);
    // Retries and errors so far appear once the injected 503s have happened.
    expect(frames.some((f) => / \(\d+ retries, \d+ errors[,)]/.test(f))).toBe(true);
    expect(out).toContain('\u001b[1mPulled\u001b[0m');

    const plain = await onTerminal(['pull', server.url, ref, '--repo', join(dir, 'b'), '--no-deltas'], { NO_COLOR: '1' });
    expect(plain).toContain('\r\u001b[2K'); // progress is not colour
    expect(plain).not.toContain('\u001b[1m');
    expect(plain).toContain('Pulled');
  });
});
