// Decode and verify every loose object of an archive repository with the client library —
// what `ostree fsck` does for object integrity.
//
// - commit / dirtree / dirmeta: parse, and SHA-256 of the bytes must be the name
// - .filez: readFilez (header, bounded inflate) + contentChecksum must be the name
// Other files under objects/ (.commitmeta, .sig, tombstones) are counted and skipped.
import { readdirSync, readFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';

/** Every loose object of `repo`: `{ path, checksum, ext }`. */
export function listObjects(repo) {
  const root = join(repo, 'objects');
  const out = [];
  for (const prefix of readdirSync(root).sort()) {
    if (prefix.length !== 2) continue;
    for (const name of readdirSync(join(root, prefix))) {
      const dot = name.indexOf('.');
      out.push({ path: join(root, prefix, name), checksum: prefix + name.slice(0, dot), ext: name.slice(dot + 1) });
    }
  }
  return out;
}

function fail(o, actual) {
  throw new Error(`${o.path}: hashes to ${actual}`);
}

/** Synchronous: read, parse, checksum each object with the formats API. Returns counts. */
export function verifyAllSync(client, repo) {
  const { parseCommit, parseDirTree, parseDirMeta, readFilez, contentChecksum, sha256Hex } = client;
  const counts = { commit: 0, dirtree: 0, dirmeta: 0, filez: 0, skipped: 0, bytes: 0, contentBytes: 0 };
  for (const o of listObjects(repo)) {
    if (o.ext !== 'commit' && o.ext !== 'dirtree' && o.ext !== 'dirmeta' && o.ext !== 'filez') {
      counts.skipped++;
      continue;
    }
    const bytes = new Uint8Array(readFileSync(o.path));
    counts.bytes += bytes.length;
    if (o.ext === 'filez') {
      const { info, content } = readFilez(bytes, o.path);
      counts.contentBytes += content.length;
      const actual = contentChecksum(info, content);
      if (actual !== o.checksum) fail(o, actual);
    } else {
      if (o.ext === 'commit') parseCommit(bytes, o.path);
      else if (o.ext === 'dirtree') parseDirTree(bytes, o.path);
      else parseDirMeta(bytes, o.path);
      const actual = sha256Hex(bytes);
      if (actual !== o.checksum) fail(o, actual);
    }
    counts[o.ext]++;
  }
  return counts;
}

/**
 * Through the public LocalRepo API (async, one object after another): readCommit /
 * readDirTree / readDirMeta / readContent, each of which verifies the checksum.
 */
export async function verifyAllLocalRepo(client, repo) {
  const r = await client.LocalRepo.open(repo);
  try {
    return await readEach(r, repo);
  } finally {
    await r.close?.();
  }
}

async function readEach(r, repo) {
  const counts = { commit: 0, dirtree: 0, dirmeta: 0, filez: 0, skipped: 0 };
  const root = join(repo, 'objects');
  for (const prefix of (await readdir(root)).sort()) {
    if (prefix.length !== 2) continue;
    for (const name of await readdir(join(root, prefix))) {
      const dot = name.indexOf('.');
      const checksum = prefix + name.slice(0, dot);
      const ext = name.slice(dot + 1);
      if (ext === 'commit') await r.readCommit(checksum);
      else if (ext === 'dirtree') await r.readDirTree(checksum);
      else if (ext === 'dirmeta') await r.readDirMeta(checksum);
      else if (ext === 'filez') await r.readContent(checksum);
      else {
        counts.skipped++;
        continue;
      }
      counts[ext]++;
    }
  }
  return counts;
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
