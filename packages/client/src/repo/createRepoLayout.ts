/**
 * Creates the on-disk layout of a repository as `ostree init --mode=archive` (or
 * `--mode=bare-user-only`) does (checked against ostree 2022.7): `objects/ tmp/ tmp/cache/ refs/heads refs/remotes
 * refs/mirrors state/ extensions/` and a `config` written last (atomically), so a directory
 * with a `config` is always a complete repository.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { atomicWriteFile } from './atomicWriteFile.js';
import { fsError } from './fsError.js';
import { assertRefName } from './refPath.js';
import { invalidArgument } from '../errors/invalidArgument.js';

/** Names these options in argument errors. */
const WHOSE = 'create repository:';

export interface RemoteConfig {
  /** Remote name (one ref fragment: `[-._A-Za-z0-9]+`). */
  name: string;
  url: string;
}

export interface CreateRepoOptions {
  /**
   * `archive` (archive-z2: compressed `.filez`, what a server holds) or `bare-user-only` (plain
   * files, what Flatpak uses for per-user installations). @default 'archive'
   */
  mode?: 'archive' | 'bare-user-only';
  /** `core.collection-id`. @default undefined (none) */
  collectionId?: string;
  /** A `[remote "name"]` section with `url=` and `gpg-verify=false` (as `ostree remote add --no-gpg-verify`). */
  remote?: RemoteConfig;
}

export const REPO_DIRS = [
  'objects',
  'tmp',
  'tmp/cache',
  'refs',
  'refs/heads',
  'refs/remotes',
  'refs/mirrors',
  'state',
  'extensions',
] as const;

/** The `config` text ostree writes for these options. */
export function repoConfigText(options: CreateRepoOptions = {}): string {
  let text = `[core]\nrepo_version=1\nmode=${options.mode === 'bare-user-only' ? 'bare-user-only' : 'archive-z2'}\n`;
  if (options.collectionId !== undefined) {
    assertConfigValue('collectionId', options.collectionId);
    if (!/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$/.test(options.collectionId)) {
      throw invalidArgument(
        'collectionId',
        options.collectionId,
        'must be a reverse-DNS name (at least two dot-separated elements)',
        WHOSE,
      );
    }
    text += `collection-id=${options.collectionId}\n`;
  }
  if (options.remote !== undefined) text += remoteSectionText(options.remote);
  return text;
}

/** `\n[remote "name"]\nurl=…\ngpg-verify=false\n`, as `ostree remote add --no-gpg-verify` appends it. */
export function remoteSectionText(remote: RemoteConfig): string {
  assertRefName(remote.name, 'remote');
  assertConfigValue('remote.url', remote.url);
  return `\n[remote "${remote.name}"]\nurl=${remote.url}\ngpg-verify=false\n`;
}

export async function createRepoLayout(path: string, options: CreateRepoOptions = {}, fsync = true): Promise<void> {
  if (options.mode !== undefined && options.mode !== 'archive' && options.mode !== 'bare-user-only') {
    throw invalidArgument('mode', options.mode, "only 'archive' and 'bare-user-only' repositories can be created", WHOSE);
  }
  const config = repoConfigText(options);
  for (const d of ['', ...REPO_DIRS]) {
    const dir = join(path, d);
    try {
      await mkdir(dir, { recursive: d === '' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw fsError('mkdir', dir, err);
    }
  }
  await atomicWriteFile(join(path, 'config'), [new TextEncoder().encode(config)], { tmpDir: join(path, 'tmp'), fsync });
}

function assertConfigValue(argument: string, value: string): void {
  if (value.length === 0 || /[\n\r\0]/.test(value) || value !== value.trim())
    throw invalidArgument(argument, value, 'must be a non-empty single line', WHOSE);
}
