/**
 * What an installation has deployed, read as flatpak reads it: `{app,runtime}/ID/ARCH/BRANCH/
 * active/deploy`, a GVariant `(ssasta{sv})` — origin remote, deployed commit, subpaths (empty:
 * the whole tree), installed size (big-endian), metadata (`eol`, `eolr`, …).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decode } from '../gvariant/decode.js';
import { vardictGet } from '../gvariant/dict.js';

export interface DeployedRef {
  ref: string;
  origin: string;
  commit: string;
  /** Subpaths deployed (`/de`…), empty for the whole tree. */
  subpaths: string[];
  installedSize: number;
  eol: string | null;
  eolRebase: string | null;
}

/** The deployed state of `ref` (`app/ID/ARCH/BRANCH`), or null when it is not installed. */
export function readDeployed(installationPath: string, ref: string): DeployedRef | null {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(join(installationPath, ref, 'active', 'deploy'));
  } catch {
    return null;
  }
  const [origin, commit, subpaths, size, meta] = decode('(ssasta{sv})', bytes);
  return {
    ref,
    origin,
    commit,
    subpaths,
    installedSize: Number(swap64(size)),
    eol: vardictGet<string>(meta, 'eol', 's') ?? null,
    eolRebase: vardictGet<string>(meta, 'eolr', 's') ?? null,
  };
}

/** Every deployed ref of the installation (apps then runtimes, sorted). */
export function listDeployed(installationPath: string): DeployedRef[] {
  const out: DeployedRef[] = [];
  for (const kind of ['app', 'runtime']) {
    for (const id of dirs(join(installationPath, kind))) {
      for (const arch of dirs(join(installationPath, kind, id))) {
        for (const branch of dirs(join(installationPath, kind, id, arch))) {
          const d = readDeployed(installationPath, `${kind}/${id}/${arch}/${branch}`);
          if (d !== null) out.push(d);
        }
      }
    }
  }
  return out;
}

function dirs(path: string): string[] {
  try {
    return readdirSync(path, { withFileTypes: true })
      .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
      .map((e) => e.name)
      .sort();
  } catch {
    return [];
  }
}

/** flatpak stores the installed size big-endian: the decoder reads GVariant's little-endian. */
function swap64(v: bigint): bigint {
  let out = 0n;
  let x = v;
  for (let i = 0; i < 8; i++) {
    out = (out << 8n) | (x & 0xffn);
    x >>= 8n;
  }
  return out;
}
