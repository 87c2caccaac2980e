/**
 * An OSTree repository on disk (archive-z2 for writing; archive and bare modes for reading).
 * This module reads: config, refs, loose objects (verified on request). Writing arrives with
 * the pull engine.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FlathubFetchError } from '../errors/FlathubFetchError.js';
import { ErrorCodes } from '../errors/codes.js';
import { type Checksum, parseChecksum, sha256Hex } from '../formats/checksum.js';
import { type Commit, parseCommit } from '../formats/Commit.js';
import { type DirMeta, parseDirMeta } from '../formats/DirMeta.js';
import { type DirTree, parseDirTree } from '../formats/DirTree.js';
import { contentChecksum, type FileInfo } from '../formats/FileHeader.js';
import { readFilez } from '../formats/Filez.js';
import { type KeyFile, keyFileGet, parseKeyFile } from '../formats/KeyFile.js';
import { ObjectType, objectTypeName } from '../formats/ObjectType.js';
import { objectPath } from '../formats/paths.js';

export type RepoMode = 'archive' | 'bare' | 'bare-user' | 'bare-user-only';

export class LocalRepo {
  readonly path: string;
  readonly config: KeyFile;
  readonly mode: RepoMode;

  private constructor(path: string, config: KeyFile) {
    this.path = path;
    this.config = config;
    const m = keyFileGet(config, 'core', 'mode') ?? 'bare';
    this.mode = m === 'archive-z2' || m === 'archive' ? 'archive' : (m as RepoMode);
  }

  static async open(path: string): Promise<LocalRepo> {
    let text: string;
    try {
      text = await readFile(join(path, 'config'), 'utf8');
    } catch (err) {
      throw new FlathubFetchError(
        ErrorCodes.NOT_FOUND,
        `${path} is not an OSTree repository (no config: ${(err as NodeJS.ErrnoException).code})`,
        {
          what: 'repository',
          path,
        },
      );
    }
    return new LocalRepo(path, parseKeyFile(text, join(path, 'config')));
  }

  objectFile(type: ObjectType, checksum: Checksum): string {
    return join(this.path, objectPath(checksum, type, this.mode === 'archive' ? 'archive' : 'bare'));
  }

  /** Raw bytes of a loose object, or null when absent. */
  async readObjectBytes(type: ObjectType, checksum: Checksum): Promise<Uint8Array | null> {
    try {
      return new Uint8Array(await readFile(this.objectFile(type, checksum)));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  }

  async #required(type: ObjectType, checksum: Checksum): Promise<Uint8Array> {
    const bytes = await this.readObjectBytes(type, checksum);
    if (bytes === null) {
      throw new FlathubFetchError(ErrorCodes.NOT_FOUND, `${objectTypeName(type)} ${checksum} is not in ${this.path}`, {
        what: objectTypeName(type),
        object: checksum,
      });
    }
    return bytes;
  }

  /** Reads a metadata object and checks that its bytes hash to its name. */
  async readMetadata(type: ObjectType, checksum: Checksum): Promise<Uint8Array> {
    const bytes = await this.#required(type, checksum);
    const actual = sha256Hex(bytes);
    if (actual !== checksum) {
      throw new FlathubFetchError(ErrorCodes.CHECKSUM_MISMATCH, `${this.objectFile(type, checksum)}: content hashes to ${actual}`, {
        object: checksum,
        expected: checksum,
        actual,
      });
    }
    return bytes;
  }

  async readCommit(checksum: Checksum): Promise<Commit> {
    return parseCommit(await this.readMetadata(ObjectType.COMMIT, checksum), `commit ${checksum}`);
  }

  async readDirTree(checksum: Checksum): Promise<DirTree> {
    return parseDirTree(await this.readMetadata(ObjectType.DIR_TREE, checksum), `dirtree ${checksum}`);
  }

  async readDirMeta(checksum: Checksum): Promise<DirMeta> {
    return parseDirMeta(await this.readMetadata(ObjectType.DIR_META, checksum), `dirmeta ${checksum}`);
  }

  /** Reads a content object (archive mode) and verifies its checksum. */
  async readContent(checksum: Checksum): Promise<{ info: FileInfo; content: Uint8Array }> {
    if (this.mode !== 'archive') throw new Error(`reading content from ${this.mode} repositories is not supported`);
    const file = this.objectFile(ObjectType.FILE, checksum);
    const obj = readFilez(await this.#required(ObjectType.FILE, checksum), file);
    const actual = contentChecksum(obj.info, obj.content);
    if (actual !== checksum) {
      throw new FlathubFetchError(ErrorCodes.CHECKSUM_MISMATCH, `${file}: content hashes to ${actual}`, {
        object: checksum,
        expected: checksum,
        actual,
      });
    }
    return obj;
  }

  /** Ref → commit for every ref under refs/heads (and refs/remotes/<r>/ as `r:ref`, refs/mirrors). */
  async listRefs(): Promise<Map<string, Checksum>> {
    const out = new Map<string, Checksum>();
    const walk = async (dir: string, prefix: string): Promise<void> => {
      let entries: import('node:fs').Dirent[];
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
    await walk(join(this.path, 'refs', 'heads'), '');
    const remotes = join(this.path, 'refs', 'remotes');
    for (const r of await readdir(remotes).catch(() => [] as string[])) await walk(join(remotes, r), `${r}:`);
    return out;
  }
}
