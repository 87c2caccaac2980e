/**
 * Runs the built CLI (packages/cli/dist/bin.js) in a child process, without colour, and returns
 * its exit code and output. A non-zero exit is returned, not thrown.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from './fixtures.js';

export const CLI_BIN = join(REPO_ROOT, 'packages', 'cli', 'dist', 'bin.js');

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

export async function runCli(args: readonly string[], env: Record<string, string> = {}, timeoutMs = 60_000): Promise<CliRun> {
  try {
    const r = await promisify(execFile)(process.execPath, [CLI_BIN, ...args], {
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1', ...env },
      timeout: timeoutMs,
      maxBuffer: 64 * 1024 * 1024,
    });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code: number | string; stdout: string; stderr: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? String(err) };
  }
}

/** Lines of stderr in which Node reported a runtime warning (e.g. MaxListenersExceededWarning). */
export function warningLines(stderr: string): string[] {
  return stderr.split('\n').filter((l) => /Warning/.test(l));
}
