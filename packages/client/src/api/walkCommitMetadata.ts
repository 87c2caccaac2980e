/**
 * Lists every object reachable from a remote commit without downloading any file content: the
 * commit and its dirtrees are fetched (each verified by its SHA-256), dirmetas and files are
 * known by name from them. One request per distinct dirtree, level by level in parallel. The
 * planner uses it to count what a per-object pull would fetch, and what a commit you say you
 * hold (`plan --from`) already provides.
 */
import { FlathubFetchError } from '../errors/FlathubFetchError.js';
import { ErrorCodes } from '../errors/codes.js';
import type { Checksum } from '../formats/checksum.js';
import { type Commit, metadataChecksum, parseCommit } from '../formats/Commit.js';
import { parseDirTree } from '../formats/DirTree.js';
import { ObjectType } from '../formats/ObjectType.js';
import { objectPath } from '../formats/paths.js';
import { MAX_METADATA_SIZE } from '../pull/PullContext.js';
import { ObjectIndex } from '../repo/ObjectIndex.js';
import type { Remote } from '../remote/Remote.js';
import { throwIfAborted } from '../errors/abortError.js';

export interface CommitMetadataWalk {
  commit: Checksum;
  parsed: Commit;
  /** Keys `<checksum>.<ext>` (archive mode) of every reachable object: commit, dirtrees, dirmetas, files. */
  objects: Set<string>;
  dirtrees: number;
  dirmetas: number;
  files: number;
  /** Bytes of the commit and dirtrees fetched. */
  metadataBytes: number;
  /** HTTP requests the walk made (logical; retries are in the HTTP client's records). */
  requests: number;
}

export async function walkCommitMetadata(
  remote: Remote,
  commit: Checksum,
  { signal }: { signal?: AbortSignal | undefined } = {},
): Promise<CommitMetadataWalk> {
  let requests = 0;
  let metadataBytes = 0;
  const fetch = async (type: ObjectType, checksum: Checksum, purpose: 'commit' | 'dirtree'): Promise<Uint8Array> => {
    requests++;
    const bytes = await remote.http.get(objectPath(checksum, type), {
      purpose,
      maxBytes: MAX_METADATA_SIZE,
      signal,
      verify: (body) => {
        const actual = metadataChecksum(body);
        if (actual !== checksum) {
          throw new FlathubFetchError(ErrorCodes.CHECKSUM_MISMATCH, `${purpose} ${checksum} hashes to ${actual}`, {
            url: remote.http.resolve(objectPath(checksum, type)).href,
            expected: checksum,
            actual,
          });
        }
      },
    });
    metadataBytes += bytes.length;
    return bytes;
  };
  const parsed = parseCommit(await fetch(ObjectType.COMMIT, commit, 'commit'), `commit ${commit}`);
  const objects = new Set<string>([ObjectIndex.key(ObjectType.COMMIT, commit)]);
  const add = (type: ObjectType, c: Checksum) => {
    const key = ObjectIndex.key(type, c);
    if (objects.has(key)) return false;
    objects.add(key);
    return true;
  };
  let dirtrees = 0;
  let dirmetas = 0;
  let files = 0;
  if (add(ObjectType.DIR_META, parsed.rootMeta)) dirmetas++;
  let level: Checksum[] = add(ObjectType.DIR_TREE, parsed.rootTree) ? [parsed.rootTree] : [];
  while (level.length > 0) {
    throwIfAborted(signal, `walk of commit ${commit}`);
    dirtrees += level.length;
    const trees = await Promise.all(level.map(async (t) => parseDirTree(await fetch(ObjectType.DIR_TREE, t, 'dirtree'), `dirtree ${t}`)));
    const next: Checksum[] = [];
    for (const tree of trees) {
      for (const f of tree.files) if (add(ObjectType.FILE, f.checksum)) files++;
      for (const d of tree.dirs) {
        if (add(ObjectType.DIR_META, d.meta)) dirmetas++;
        if (add(ObjectType.DIR_TREE, d.tree)) next.push(d.tree);
      }
    }
    level = next;
  }
  return { commit, parsed, objects, dirtrees, dirmetas, files, metadataBytes, requests };
}
