/**
 * `flathub-fetch --help`, every `<command> --help` and a usage error start without importing the
 * client library or undici (the start-up benchmark's target depends on it): run under a loader
 * that refuses those imports, each still answers and exits as documented.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, test } from 'vitest';
import { REPO_ROOT } from '../support/fixtures.js';

const BIN = join(REPO_ROOT, 'packages', 'cli', 'dist', 'bin.js');
const LOADER = pathToFileURL(join(REPO_ROOT, 'test', 'support', 'refuseLibraryLoader.mjs')).href;
const COMMANDS = ['refs', 'deltas', 'plan', 'compare', 'pull', 'install', 'update', 'checkout', 'mirrors', 'demo'];

function run(args: string[]) {
  const r = spawnSync(process.execPath, ['--no-warnings', '--loader', LOADER, BIN, ...args], {
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
    timeout: 30_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('help and usage errors never load the library', () => {
  test('the loader does refuse the library (a command that needs it fails under it)', () => {
    const r = run(['refs', 'file:///nonexistent/']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('refused: @flathub-fetch/client');
  });

  test('flathub-fetch --help', () => {
    const r = run(['--help']);
    expect(r.code, r.stderr).toBe(0);
    for (const c of COMMANDS) expect(r.stdout).toContain(`  ${c}`);
  });

  test.each(COMMANDS)('%s --help', (command) => {
    const r = run([command, '--help']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^Usage: flathub-fetch ${command}`));
  });

  test('a usage error (unknown option) exits 2 without loading it', () => {
    const r = run(['pull', '--no-such-option']);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).not.toContain('refused');
  });
});
