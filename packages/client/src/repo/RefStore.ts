/**
 * The refs of a repository: `refs/heads/<ref>` (local and mirrored refs) and
 * `refs/remotes/<remote>/<ref>` (pulled refs), each a file holding `<64 hex>\n`, replaced
 * atomically (tmp + rename, fsynced with the directory under fsync policy 'object').
 */
import type { Dirent } from 'node:fs';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { FlathubFetchError } from '../errors/FlathubFetchError.js';
import { ErrorCodes } from '../errors/codes.js';
import { type Checksum, parseChecksum } from '../formats/checksum.js';
import { atomicWriteFile } from './atomicWriteFile.js';
import { errnoOf, fsError } from './fsError.js';
import { type RefLocation, refPath } from './refPath.js';
import { syncDir } from './syncDir.js';

export class RefStore {
  readonly #root: string;
  readonly #fsync: boolean;

  constructor(repoPath: string, fsync: boolean) {
    this.#root = repoPath;
    this.#fsync = fsync;
  }

  async write(ref: string, commit: Checksum, location: RefLocation = {}): Promise<Checksum> {
    const c = parseChecksum(commit, `commit for ref ${ref}`);
    const file = join(this.#root, refPath(ref, location));
    try {
      await mkdir(dirname(file), { recursive: true });
    } catch (err) {
      throw fsError('mkdir', dirname(file), err);
    }
    await atomicWriteFile(file, [new TextEncoder().encode(`${c}\n`)], { tmpDir: join(this.#root, 'tmp'), fsync: this.#fsync });
    if (this.#fsync) await syncDir(dirname(file));
    return c;
  }

  async read(ref: string, location: RefLocation = {}): Promise<Checksum | null> {
    const file = join(this.#root, refPath(ref, location));
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      const code = errnoOf(err);
      if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR') return null;
      throw fsError('read', file, err);
    }
    return parseChecksum(text.trim(), file);
  }

  async resolve(refOrCommit: string): Promise<Checksum> {
    if (/^[0-9a-fA-F]{64}$/.test(refOrCommit)) return parseChecksum(refOrCommit);
    const colon = refOrCommit.indexOf(':');
    let found: Checksum | null;
    if (colon !== -1) {
      found = await this.read(refOrCommit.slice(colon + 1), { remote: refOrCommit.slice(0, colon) });
    } else {
      found = (await this.read(refOrCommit)) ?? (await this.#fromAnyRemote(refOrCommit));
    }
    if (found === null) {
      throw new FlathubFetchError(ErrorCodes.NOT_FOUND, `ref ${refOrCommit} is not in ${this.#root}`, { what: 'ref', ref: refOrCommit });
    }
    return found;
  }

  async #fromAnyRemote(ref: string): Promise<Checksum | null> {
    const remotes = await readdir(join(this.#root, 'refs', 'remotes')).catch(() => [] as string[]);
    const hits = new Map<Checksum, string>();
    for (const r of remotes.sort()) {
      const c = await this.read(ref, { remote: r }).catch(() => null);
      if (c !== null && !hits.has(c)) hits.set(c, r);
    }
    if (hits.size > 1) {
      throw new FlathubFetchError(
        ErrorCodes.INVALID_ARGUMENT,
        `ref ${ref} is ambiguous: remotes ${[...hits.values()].join(', ')} disagree`,
        {
          argument: 'ref',
          value: ref,
          reason: 'ambiguous',
        },
      );
    }
    return hits.keys().next().value ?? null;
  }

  async list(): Promise<Map<string, Checksum>> {
    const out = new Map<string, Checksum>();
    const walk = async (dir: string, prefix: string): Promise<void> => {
      let entries: Dirent[];
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch {
        return;
      }
      for (const e of entries) {
        const p = join(dir, e.name);
        if (e.isDirectory()) await walk(p, `${prefix}${e.name}/`);
        else out.set(`${prefix}${e.name}`, parseChecksum((await readFile(p, 'utf8')).trim(), p));
      }
    };
    await walk(join(this.#root, 'refs', 'heads'), '');
    const remotes = join(this.#root, 'refs', 'remotes');
    for (const r of await readdir(remotes).catch(() => [] as string[])) await walk(join(remotes, r), `${r}:`);
    return out;
  }
}
