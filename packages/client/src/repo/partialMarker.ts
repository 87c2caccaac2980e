/**
 * `state/<commit>.commitpartial`, as libostree marks a commit whose objects are not all in the
 * repository yet (an interrupted pull, a subpath pull). A commit with the marker is never a
 * base for a delta, and its objects are verified and completed by the next pull of it.
 */
import { mkdir, stat, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Checksum } from '../formats/checksum.js';
import { atomicWriteFile } from './atomicWriteFile.js';
import { errnoOf, fsError } from './fsError.js';
import type { RepoCore } from './RepoCore.js';
import { syncDir } from './syncDir.js';

/** Writes the marker (durably, unless the fsync policy is 'none'). */
export async function markPartial(core: RepoCore, commit: Checksum): Promise<void> {
  const file = core.partialFile(commit);
  try {
    await mkdir(dirname(file), { recursive: true });
  } catch (err) {
    throw fsError('mkdir', dirname(file), err);
  }
  const fsync = core.options.fsync !== 'none';
  await atomicWriteFile(file, [], { tmpDir: core.tmpDir, fsync });
  if (fsync) await syncDir(dirname(file));
}

/** Removes the marker after flushing every object written so far (no marker: nothing to remove). */
export async function clearPartial(core: RepoCore, commit: Checksum): Promise<void> {
  const file = core.partialFile(commit);
  await core.flush();
  try {
    await unlink(file);
  } catch (err) {
    if (errnoOf(err) === 'ENOENT') return;
    throw fsError('unlink', file, err);
  }
  if (core.options.fsync !== 'none') await syncDir(dirname(file));
}

export async function isPartial(core: RepoCore, commit: Checksum): Promise<boolean> {
  const file = core.partialFile(commit);
  try {
    await stat(file);
    return true;
  } catch (err) {
    if (errnoOf(err) === 'ENOENT') return false;
    throw fsError('stat', file, err);
  }
}
