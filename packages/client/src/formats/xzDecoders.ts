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
import { execFileSync } from 'node:child_process';
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

let program: { path: string; version: string } | null | undefined;

/** The XZ Utils `xz` program this process uses, or null (looked up once). */
export function xzProgram(): { path: string; version: string } | null {
  if (program !== undefined) return program;
  program = null;
  const wanted = process.env.FLATHUB_FETCH_XZ;
  if (wanted === 'wasm') {
    debug('FLATHUB_FETCH_XZ=wasm: the WebAssembly decoder only');
    return program;
  }
  const candidates = wanted
    ? [wanted]
    : (process.env.PATH ?? '')
        .split(delimiter)
        .filter((d) => d !== '')
        .map((d) => join(d, 'xz'));
  for (const path of candidates) {
    try {
      accessSync(path, constants.X_OK);
      const out = execFileSync(path, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 });
      const version = out.split('\n')[0]?.trim() ?? '';
      // BusyBox's applet and other look-alikes decode more slowly or lack options we pass.
      if (!version.includes('XZ Utils')) {
        debug('%s is not XZ Utils (%s): skipped', path, version);
        continue;
      }
      program = { path, version };
      debug('xz decoder: %s (%s)', path, version);
      return program;
    } catch {
      // not there, not executable, or not answering: try the next one
    }
  }
  debug('no XZ Utils xz program found: the WebAssembly decoder runs');
  return program;
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
 */
export function startXzStream(
  shared: SharedArrayBuffer | null,
  limit: number,
  choice: XzDecoderChoice = 'auto',
): { stream: XzStream; backend: XzBackend } {
  const backend = xzBackend(choice);
  const p = xzProgram();
  if (backend === 'xz' && p !== null) return { stream: new XzProcessStream(p.path, shared, limit), backend };
  return { stream: new XzWorkerStream(shared, limit), backend: 'wasm' };
}
