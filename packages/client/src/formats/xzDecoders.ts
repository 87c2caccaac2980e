/**
 * Which xz decoder runs. Two backends, neither compiled at install:
 * - `xz`: the system's `xz` program (XZ Utils, i.e. liblzma, the decoder libostree uses), one
 *   child process per stream (XzProcessStream);
 * - `wasm`: XZ Embedded compiled to WebAssembly (the xz-decompress package), in a worker thread
 *   (XzWorkerStream); runs wherever Node.js does.
 * `auto` (the default) takes `xz` when an XZ Utils `xz` is found, else `wasm`; the environment
 * variable FLATHUB_FETCH_XZ names the program to use (a path), or `wasm` to never use one.
 * BENCHMARKS.md compares both with `xz -d`.
 */
import { execFile, execFileSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import createDebug from 'debug';
import { XzProcessStream } from './XzProcessStream.js';
import { XzWorkerStream } from './XzWorkerStream.js';
import type { XzStream } from './xzOutput.js';

const debug = createDebug('flathub-fetch:xz');

export type XzBackend = 'xz' | 'wasm';
export type XzDecoderChoice = XzBackend | 'auto';

export interface XzDecoderInfo {
  backend: XzBackend;
  /** What runs: e.g. `xz (XZ Utils) 5.4.1 at /usr/bin/xz`, `xz-decompress (XZ Embedded, WebAssembly)`. */
  description: string;
}

type XzProgram = { path: string; version: string } | null;

let program: XzProgram | undefined;
let looking: Promise<XzProgram> | null = null;

/** The `xz` programs to try, in order; null when FLATHUB_FETCH_XZ=wasm rules them out. */
function candidates(): string[] | null {
  const wanted = process.env.FLATHUB_FETCH_XZ;
  if (wanted === 'wasm') {
    debug('FLATHUB_FETCH_XZ=wasm: the WebAssembly decoder only');
    return null;
  }
  if (wanted) return [wanted];
  return (process.env.PATH ?? '')
    .split(delimiter)
    .filter((d) => d !== '')
    .map((d) => join(d, 'xz'));
}

/** The program at `path` from its `--version` output, or null unless it is XZ Utils' xz. */
function recognise(path: string, out: string): XzProgram {
  const version = out.split('\n')[0]?.trim() ?? '';
  // BusyBox's applet and other look-alikes decode more slowly or lack options we pass.
  if (!version.includes('XZ Utils')) {
    debug('%s is not XZ Utils (%s): skipped', path, version);
    return null;
  }
  return { path, version };
}

function found(p: XzProgram): XzProgram {
  if (program !== undefined) return program;
  program = p;
  if (p === null) debug('no XZ Utils xz program found: the WebAssembly decoder runs');
  else debug('xz decoder: %s (%s)', p.path, p.version);
  return program;
}

/** The XZ Utils `xz` program this process uses, or null (looked up once). */
export function xzProgram(): XzProgram {
  if (program !== undefined) return program;
  for (const path of candidates() ?? []) {
    try {
      accessSync(path, constants.X_OK);
      const p = recognise(
        path,
        execFileSync(path, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 }),
      );
      if (p !== null) return found(p);
    } catch {
      // not there, not executable, or not answering: try the next one
    }
  }
  return found(null);
}

/**
 * Looks the program up without blocking (the same lookup as `xzProgram`, its `--version` run
 * asynchronously), so that a pull can have it known before its first xz part arrives instead of
 * waiting for the program's start then.
 */
export function findXzProgram(): Promise<XzProgram> {
  if (program !== undefined) return Promise.resolve(program);
  looking ??= (async () => {
    for (const path of candidates() ?? []) {
      try {
        accessSync(path, constants.X_OK);
        const out = await new Promise<string>((resolve, reject) =>
          execFile(path, ['--version'], { encoding: 'utf8', timeout: 5000 }, (err, stdout) =>
            err === null ? resolve(stdout) : reject(err),
          ),
        );
        const p = recognise(path, out);
        if (p !== null) return found(p);
      } catch {
        // as in xzProgram
      }
    }
    return found(null);
  })();
  return looking;
}

/** The backend a choice resolves to here. */
export function xzBackend(choice: XzDecoderChoice = 'auto'): XzBackend {
  if (choice === 'wasm') return 'wasm';
  return xzProgram() === null ? 'wasm' : 'xz';
}

/** What a choice runs here, for reports and `--version`. */
export function xzDecoderInfo(choice: XzDecoderChoice = 'auto'): XzDecoderInfo {
  const backend = xzBackend(choice);
  const p = xzProgram();
  if (backend === 'xz' && p !== null) return { backend, description: `${p.version} at ${p.path}` };
  return { backend: 'wasm', description: 'xz-decompress (XZ Embedded, WebAssembly)' };
}

/**
 * Starts decoding one xz stream with the chosen backend. Output goes to `shared` first (see
 * XzOutputSink); `limit` bounds it. Choosing `xz` where no program exists falls back to `wasm`.
 * `keepFile`: the `xz` program's output file is handed over at the end (XzOutput.file) rather
 * than read into memory (the other backend decodes into memory all the same).
 */
export function startXzStream(
  shared: SharedArrayBuffer | null,
  limit: number,
  choice: XzDecoderChoice = 'auto',
  keepFile = false,
): { stream: XzStream; backend: XzBackend } {
  const backend = xzBackend(choice);
  const p = xzProgram();
  if (backend === 'xz' && p !== null) return { stream: new XzProcessStream(p.path, shared, limit, keepFile), backend };
  return { stream: new XzWorkerStream(shared, limit), backend: 'wasm' };
}
