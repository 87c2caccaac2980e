// Decode and verify every loose object of an archive repository with the client library — what
// `ostree fsck` does for object integrity — three ways, for the object benchmark: the formats API
// in one synchronous loop (test/support/looseObjects.ts, the tests' own check), LocalRepo's
// read*() one object after another, and LocalRepo.verifyCommit per commit.
import { checkObjects, listObjects } from '../../test/support/looseObjects.ts';

export { listObjects };

/** Synchronous: read, parse, checksum each object with the formats API. Returns counts; throws on the first failures. */
export function verifyAllSync(client, repo) {
  const { counts, corrupt } = checkObjects(repo, client);
  if (corrupt.length > 0) throw new Error(`${repo}: ${corrupt.length} objects do not verify (${corrupt.slice(0, 3).join(', ')})`);
  return counts;
}

/**
 * Through the public LocalRepo API (async, one object after another): readCommit /
 * readDirTree / readDirMeta / readContent, each of which verifies the checksum.
 */
export async function verifyAllLocalRepo(client, repo) {
  const r = await client.LocalRepo.open(repo);
  const counts = { commit: 0, dirtree: 0, dirmeta: 0, filez: 0, skipped: 0 };
  const read = {
    commit: (c) => r.readCommit(c),
    dirtree: (c) => r.readDirTree(c),
    dirmeta: (c) => r.readDirMeta(c),
    filez: (c) => r.readContent(c),
  };
  try {
    for (const o of listObjects(repo)) {
      const fn = read[o.ext];
      if (fn === undefined) counts.skipped++;
      else {
        await fn(o.checksum);
        counts[o.ext]++;
      }
    }
    return counts;
  } finally {
    await r.close?.();
  }
}

/**
 * `LocalRepo.verifyCommit` (the library's `ostree fsck` for one commit: walks the tree, checks
 * every reachable object, content on worker threads) for every commit object in the repo.
 * Objects shared between commits are checked once per commit (ostree fsck checks them once).
 */
export async function verifyCommits(client, repo) {
  const commits = listObjects(repo)
    .filter((o) => o.ext === 'commit')
    .map((o) => o.checksum);
  const r = await client.LocalRepo.open(repo);
  try {
    let objects = 0;
    for (const c of commits) {
      const res = await r.verifyCommit(c);
      if (!res.ok) throw new Error(`verifyCommit ${c}: ${res.missing.length} missing, ${res.corrupt.length} corrupt`);
      objects += res.objects;
    }
    return { commits: commits.length, objects };
  } finally {
    await r.close?.();
  }
}
