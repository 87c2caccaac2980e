import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, test } from 'vitest';
import { REPO_ROOT } from '../support/fixtures.js';
import { runCliSync } from '../support/cli.js';

const LOADER = pathToFileURL(join(REPO_ROOT, 'test', 'support', 'refuseLibraryLoader.mjs')).href;
const COMMANDS = ['refs', 'deltas', 'plan', 'compare', 'pull', 'install', 'update', 'checkout', 'mirrors', 'doctor', 'exporter', 'demo'];

const run = (args: string[]) => runCliSync(args, {}, ['--no-warnings', '--loader', LOADER]);

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
