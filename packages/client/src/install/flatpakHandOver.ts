/**
 * The hand-over: `flatpak install --no-pull` / `flatpak update --no-pull` (the `flatpak` found on
 * PATH) deploys what was downloaded, runs its triggers and exports, with no request of its own.
 * Its exit code is returned; the caller decides where its output goes.
 */
import { spawn } from 'node:child_process';
import { FlathubFetchError } from '../errors/FlathubFetchError.js';
import { ErrorCodes } from '../errors/codes.js';
import type { TransactionResult } from './downloadOps.js';

/** `--user`, `--system` or `--installation=ID`, as flatpak takes them. */
export function installationFlag(id: string): string {
  return id === 'user' ? '--user' : id === 'default' ? '--system' : `--installation=${id}`;
}

/**
 * The flatpak command lines that deploy a transaction's downloads, in order:
 *
 * - install: `flatpak install --no-pull REMOTE REFS` for the refs asked for (flatpak adds their
 *   runtime itself from what is now in the repository). A `--no-pull` transaction only relates
 *   extensions that are already deployed, so the related refs (`.Locale`…) follow in their own
 *   `flatpak install --no-pull --no-auto-pin [--subpath=/de …]` (one per set of subpaths; no
 *   pin, as flatpak does not pin related refs);
 * - update: `flatpak update --no-pull REFS` for the refs updated (flatpak merges a `.Locale`'s
 *   deployed subpaths with the configured languages, as the pull did), then the new related refs
 *   as above.
 */
export function handOverCommands(kind: 'install' | 'update', result: TransactionResult): string[][] {
  const flag = installationFlag(result.installation.id);
  const base = ['--no-pull', '--noninteractive', '-y'];
  const out: string[][] = [];
  if (kind === 'update') {
    const refs = result.ops.filter((o) => o.why === 'update').map((o) => o.ref);
    if (refs.length > 0) out.push(['update', flag, ...base, ...refs]);
  } else {
    const byRemote = new Map<string, string[]>();
    for (const o of result.ops.filter((x) => x.why === 'requested')) byRemote.set(o.remote, [...(byRemote.get(o.remote) ?? []), o.ref]);
    for (const [remote, refs] of byRemote) out.push(['install', flag, ...base, remote, ...refs]);
  }
  const related = new Map<string, { remote: string; subpaths: string[]; refs: string[] }>();
  for (const o of result.ops.filter((x) => x.why === 'related')) {
    const subpaths = o.subpaths ?? [];
    const key = `${o.remote}\0${subpaths.join(';')}`;
    const g = related.get(key) ?? { remote: o.remote, subpaths, refs: [] };
    g.refs.push(o.ref);
    related.set(key, g);
  }
  for (const g of related.values()) {
    out.push(['install', flag, ...base, '--no-auto-pin', ...g.subpaths.map((p) => `--subpath=${p}`), g.remote, ...g.refs]);
  }
  return out;
}

export interface RunFlatpakOptions {
  /** 'inherit' passes flatpak's output through (stdout and stderr, as it prints them); 'pipe' collects it. @default 'pipe' */
  stdio?: 'inherit' | 'pipe';
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal | undefined;
}

export interface FlatpakRun {
  args: string[];
  exitCode: number;
  stdout: string;
  stderr: string;
  /** flatpak's last non-empty stderr line (its error), or null (always with 'inherit'). */
  error: string | null;
}

/** Runs `flatpak ARGS`; ERR_FLATPAK when it is not on PATH. A non-zero exit is returned, not thrown. */
export function runFlatpak(args: readonly string[], options: RunFlatpakOptions = {}): Promise<FlatpakRun> {
  return new Promise((resolve, reject) => {
    const child = spawn('flatpak', args, {
      stdio: options.stdio === 'inherit' ? ['ignore', 'inherit', 'inherit'] : ['ignore', 'pipe', 'pipe'],
      ...(options.env ? { env: options.env } : {}),
      signal: options.signal,
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (c: Buffer) => {
      stdout += c.toString();
    });
    child.stderr?.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    child.once('error', (err: NodeJS.ErrnoException) => {
      reject(
        new FlathubFetchError(
          ErrorCodes.FLATPAK,
          err.code === 'ENOENT'
            ? 'flatpak is not installed (not found on PATH); use --download-only to only download'
            : `flatpak: ${err.message}`,
          { command: `flatpak ${args.join(' ')}`, exitCode: null, message: err.message },
        ),
      );
    });
    child.once('close', (code, sig) => {
      const lines = stderr
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => l !== '');
      resolve({ args: [...args], exitCode: code ?? (sig !== null ? 128 : 1), stdout, stderr, error: lines.at(-1) ?? null });
    });
  });
}
