/**
 * "Verify every object": each loose object of a repository checked against its name, as
 * `ostree fsck` checks object integrity. One implementation for the tests (repoChecks.ts) and the
 * object benchmark (bench/lib/verify.mjs); the library's functions are passed in (the tests
 * give the sources', the benchmark the build's). Erasable TypeScript only, no imports but
 * node:*, so bench scripts load it with Node.js's type stripping.
 *
 * - commit / dirtree / dirmeta: parsed, and the SHA-256 of the bytes must be the name
 * - .filez (archive): read (header, bounded inflate), and the content checksum must be the name
 * - .file (bare-user-only): the content checksum as libostree reads it (owner 0:0, no xattrs)
 * Other files under objects/ (.commitmeta, .sig, tombstones) are counted as skipped.
 */
import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';

interface FileInfo {
  uid: number;
  gid: number;
  mode: number;
  rdev: number;
  symlinkTarget: string;
  xattrs: [];
  size: number;
}

/** The library functions the checks use (`@flathub-fetch/client`'s, from its sources or its build). */
export interface ObjectApi {
  readFilez(bytes: Uint8Array, what?: string): { info: unknown; content: Uint8Array };
  contentChecksum(info: never, content: Uint8Array): string;
  sha256Hex(bytes: Uint8Array): string;
  parseCommit(bytes: Uint8Array, what?: string): unknown;
  parseDirTree(bytes: Uint8Array, what?: string): unknown;
  parseDirMeta(bytes: Uint8Array, what?: string): unknown;
}

export interface LooseObject {
  path: string;
  /** `/objects/XX/NAME` as it is in the repository. */
  name: string;
  /** The server path, `/objects/XX/…` (a bare-user-only `.file` as the `.filez` an archive server holds). */
  serverPath: string;
  checksum: string;
  ext: string;
}

export interface ObjectCounts {
  commit: number;
  dirtree: number;
  dirmeta: number;
  filez: number;
  file: number;
  skipped: number;
  /** Bytes of the checked object files, and of the content in them. */
  bytes: number;
  contentBytes: number;
}

/** Every loose object of `repo`, in path order ([] without objects/). */
export function listObjects(repo: string): LooseObject[] {
  const root = join(repo, 'objects');
  let prefixes: string[];
  try {
    prefixes = readdirSync(root).sort();
  } catch {
    return [];
  }
  const out: LooseObject[] = [];
  for (const prefix of prefixes) {
    if (prefix.length !== 2) continue;
    for (const name of readdirSync(join(root, prefix)).sort()) {
      const dot = name.indexOf('.');
      const ext = name.slice(dot + 1);
      const server = ext === 'file' ? `${name.slice(0, dot)}.filez` : name;
      out.push({
        path: join(root, prefix, name),
        name: `/objects/${prefix}/${name}`,
        serverPath: `/objects/${prefix}/${server}`,
        checksum: prefix + name.slice(0, dot),
        ext,
      });
    }
  }
  return out;
}

/** Checks every loose object of `repo`; `corrupt` lists those that do not verify (`/objects/XX/NAME`). */
export function checkObjects(repo: string, api: ObjectApi): { counts: ObjectCounts; corrupt: string[] } {
  const counts: ObjectCounts = { commit: 0, dirtree: 0, dirmeta: 0, filez: 0, file: 0, skipped: 0, bytes: 0, contentBytes: 0 };
  const corrupt: string[] = [];
  for (const o of listObjects(repo)) {
    if (o.ext !== 'commit' && o.ext !== 'dirtree' && o.ext !== 'dirmeta' && o.ext !== 'filez' && o.ext !== 'file') {
      counts.skipped++;
      continue;
    }
    try {
      if (actualChecksum(o, api, counts) !== o.checksum) corrupt.push(o.name);
    } catch {
      corrupt.push(o.name);
    }
    counts[o.ext]++;
  }
  return { counts, corrupt };
}

function actualChecksum(o: LooseObject, api: ObjectApi, counts: ObjectCounts): string {
  if (o.ext === 'file') return bareFileChecksum(o.path, api, counts);
  const bytes = new Uint8Array(readFileSync(o.path));
  counts.bytes += bytes.length;
  if (o.ext === 'filez') {
    const { info, content } = api.readFilez(bytes, o.path);
    counts.contentBytes += content.length;
    return api.contentChecksum(info as never, content);
  }
  if (o.ext === 'commit') api.parseCommit(bytes, o.path);
  else if (o.ext === 'dirtree') api.parseDirTree(bytes, o.path);
  else api.parseDirMeta(bytes, o.path);
  return api.sha256Hex(bytes);
}

/** The checksum a bare-user-only `.file` verifies as: owner 0:0, no xattrs, as libostree reads it. */
function bareFileChecksum(path: string, api: ObjectApi, counts: ObjectCounts): string {
  const st = lstatSync(path);
  const symlink = st.isSymbolicLink();
  const content = symlink ? new Uint8Array(0) : new Uint8Array(readFileSync(path));
  counts.bytes += content.length;
  counts.contentBytes += content.length;
  const target = symlink ? readlinkSync(path) : '';
  const info: FileInfo = { uid: 0, gid: 0, mode: st.mode, rdev: 0, symlinkTarget: target, xattrs: [], size: content.length };
  return api.contentChecksum(info as never, content);
}
