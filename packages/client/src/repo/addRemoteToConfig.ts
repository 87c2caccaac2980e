/**
 * Adds a `[remote "name"]` section (url, gpg-verify=false) to a repository's `config`, as
 * `ostree remote add --no-gpg-verify` does, when it is missing. The same URL is a no-op; a
 * different URL is ERR_PATH_CONFLICT (the caller decides what to do with an existing remote).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FlathubFetchError } from '../errors/FlathubFetchError.js';
import { ErrorCodes } from '../errors/codes.js';
import { type KeyFile, keyFileGet } from '../formats/KeyFile.js';
import { atomicWriteFile } from './atomicWriteFile.js';
import { type RemoteConfig, remoteSectionText } from './createRepoLayout.js';
import { fsError } from './fsError.js';

/** Returns true when the config file was changed. */
export async function addRemoteToConfig(repoPath: string, config: KeyFile, remote: RemoteConfig, fsync: boolean): Promise<boolean> {
  const section = remoteSectionText(remote);
  const file = join(repoPath, 'config');
  const existing = keyFileGet(config, `remote "${remote.name}"`, 'url');
  if (existing === remote.url) return false;
  if (existing !== undefined) {
    throw new FlathubFetchError(ErrorCodes.PATH_CONFLICT, `${repoPath}: remote "${remote.name}" already has url ${existing}`, {
      path: file,
      reason: `remote "${remote.name}" exists with another url`,
    });
  }
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw fsError('read', file, err);
  }
  const body = text.endsWith('\n') ? text : `${text}\n`;
  await atomicWriteFile(file, [new TextEncoder().encode(body + section)], { tmpDir: join(repoPath, 'tmp'), fsync });
  return true;
}
