/**
 * Runs the built CLI (packages/cli/dist/bin.js) in a child process, without colour, and returns
 * its exit code and output. A non-zero exit is returned, not thrown.
 */
import { type ChildProcess, execFile, spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from './fixtures.js';

/** The CLI as users run it: the package's bin entry (compile cache, V8 settings), which loads dist/. */
export const CLI_BIN = join(REPO_ROOT, 'packages', 'cli', 'bin', 'flathub-fetch.js');

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

/**
 * `runCli`, synchronously (for tests whose servers run in another process); `nodeArgs` go before
 * the bin (e.g. a module loader).
 */
export function runCliSync(args: readonly string[], env: Record<string, string> = {}, nodeArgs: readonly string[] = []): CliRun {
  const r = spawnSync(process.execPath, [...nodeArgs, CLI_BIN, ...args], {
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', ...env },
    timeout: 60_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Lines of stderr in which Node reported a runtime warning (e.g. MaxListenersExceededWarning). */
export function warningLines(stderr: string): string[] {
  return stderr.split('\n').filter((l) => /Warning/.test(l));
}

/** A long-running CLI command (e.g. `exporter`): resolves once a stderr line matches `ready`, with that match. */
export async function spawnCli(
  args: readonly string[],
  ready: RegExp,
  timeoutMs = 20_000,
): Promise<{ child: ChildProcess; match: RegExpExecArray; stderr: () => string; stop: () => Promise<number | null> }> {
  const child = spawn(process.execPath, [CLI_BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
  let err = '';
  const match = await new Promise<RegExpExecArray>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${ready} on stderr within ${timeoutMs} ms: ${err}`)), timeoutMs);
    child.stderr?.on('data', (c) => {
      err += String(c);
      const m = ready.exec(err);
      if (m !== null) {
        clearTimeout(timer);
        resolve(m);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code}: ${err}`));
    });
  });
  return {
    child,
    match,
    stderr: () => err,
    stop: async () => {
      if (child.exitCode !== null) return child.exitCode;
      const done = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
      child.kill('SIGTERM');
      return done;
    },
  };
}
