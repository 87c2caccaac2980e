/**
 * What the mirrors are compared with: the primary's summary files, refs, keys, and — fetched
 * once, shared by every mirror's checks — its commits, delta listings, superblocks and the
 * object pools samples are drawn from.
 */
import type { Checksum } from '../formats/checksum.js';
import { type Commit, parseCommit } from '../formats/Commit.js';
import { parseDeltaIndex } from '../formats/DeltaIndex.js';
import { type DeltaObjectRef, type DeltaSuperblock, parseDeltaSuperblock } from '../formats/DeltaSuperblock.js';
import { parseDirTree } from '../formats/DirTree.js';
import { ObjectType } from '../formats/ObjectType.js';
import { deltaIndexPath, deltaName, deltaSuperblockPath, objectPath, parseDeltaName } from '../formats/paths.js';
import { sha256Hex } from '../formats/checksum.js';
import type { Exchange } from './Exchange.js';
import { outcome } from './Exchange.js';
import type { MirrorSession } from './MirrorSession.js';
import type { RepoView } from './RepoView.js';

export interface CommitFacts {
  checksum: Checksum;
  exchange: Exchange;
  commit: Commit;
  /** The `.commitmeta` bytes, or null when the server has none. */
  meta: Uint8Array | null;
}

/** A server and what it advertises: the primary, or a mirror. */
export interface Server {
  session: MirrorSession;
  view: RepoView;
}

const MAX_METADATA = 64 * 1024 * 1024;

export class PrimaryReference implements Server {
  readonly session: MirrorSession;
  readonly view: RepoView;
  readonly #commits = new Map<string, Promise<CommitFacts | null>>();
  readonly #pools = new Map<string, Promise<DeltaObjectRef[]>>();
  readonly #superblocks = new Map<string, Promise<DeltaSuperblock | null>>();
  readonly #walkLimit: number;

  constructor(session: MirrorSession, view: RepoView, walkLimit: number) {
    this.session = session;
    this.view = view;
    this.#walkLimit = walkLimit;
  }

  /** A commit of the primary with its commitmeta (null when the primary does not serve it). */
  commit(checksum: Checksum): Promise<CommitFacts | null> {
    let p = this.#commits.get(checksum);
    if (p === undefined) {
      p = commitFacts(this, checksum);
      this.#commits.set(checksum, p);
    }
    return p;
  }

  /** How many commits `older` is behind `head` on the primary's history (null beyond `limit` or when unrelated). */
  async behind(head: Checksum, older: Checksum, limit = 20): Promise<number | null> {
    let c: Checksum | null = head;
    for (let n = 0; c !== null && n <= limit; n++) {
      if (c === older) return n;
      c = (await this.commit(c))?.commit.parent ?? null;
    }
    return null;
  }

  /**
   * The objects of `commit` samples are drawn from: those its from-scratch delta produces (its
   * superblock from the primary, else from `via`), else a breadth-first walk of its dirtrees.
   */
  pool(commit: Checksum, via: Server): Promise<DeltaObjectRef[]> {
    let p = this.#pools.get(commit);
    if (p === undefined) {
      p = this.#pool(commit, via);
      this.#pools.set(commit, p);
    }
    return p;
  }

  /** A superblock parsed once per digest (the bytes must hash to it). */
  superblock(bytes: Uint8Array, digest: Checksum, url: string): Promise<DeltaSuperblock | null> {
    let p = this.#superblocks.get(digest);
    if (p === undefined) {
      p = (async () => {
        if (sha256Hex(bytes) !== digest) return null;
        try {
          return parseDeltaSuperblock(bytes, url);
        } catch {
          return null;
        }
      })();
      this.#superblocks.set(digest, p);
    }
    return p;
  }

  async #pool(commit: Checksum, via: Server): Promise<DeltaObjectRef[]> {
    const scratch = deltaName(null, commit);
    for (const server of via === this ? [this] : [this as Server, via]) {
      const digest = (await deltasTo(server, commit)).get(scratch);
      if (digest === undefined) continue;
      const e = await server.session.get(deltaSuperblockPath(null, commit), 'superblock', MAX_METADATA);
      if (outcome(e) !== 'ok' || e.body === null) continue;
      const sb = await this.superblock(e.body, digest, e.url);
      if (sb === null) continue;
      const out: DeltaObjectRef[] = sb.parts.flatMap((p) => p.objects);
      for (const f of sb.fallbacks) out.push({ type: f.type, checksum: f.checksum });
      return out.filter((o) => o.type === ObjectType.FILE || o.type === ObjectType.DIR_TREE || o.type === ObjectType.DIR_META);
    }
    return this.#walk(commit, via);
  }

  /** Objects reachable from the commit, walking at most `walkLimit` dirtrees (from the primary, or `via` when the primary lacks the commit). */
  async #walk(commit: Checksum, via: Server): Promise<DeltaObjectRef[]> {
    const facts = (await this.commit(commit)) ?? (await commitFacts(via, commit));
    if (facts === null) return [];
    const server = (await this.commit(commit)) !== null ? this : via;
    const out: DeltaObjectRef[] = [
      { type: ObjectType.DIR_TREE, checksum: facts.commit.rootTree },
      { type: ObjectType.DIR_META, checksum: facts.commit.rootMeta },
    ];
    const queue: Checksum[] = [facts.commit.rootTree];
    const seen = new Set<string>(queue);
    for (let walked = 0; queue.length > 0 && walked < this.#walkLimit; walked++) {
      const tree = queue.shift() as Checksum;
      const e = await server.session.get(objectPath(tree, ObjectType.DIR_TREE), 'walk', MAX_METADATA);
      if (outcome(e) !== 'ok' || e.body === null || sha256Hex(e.body) !== tree) continue;
      const dt = parseDirTree(e.body, e.url);
      for (const f of dt.files) out.push({ type: ObjectType.FILE, checksum: f.checksum });
      for (const d of dt.dirs) {
        out.push({ type: ObjectType.DIR_TREE, checksum: d.tree }, { type: ObjectType.DIR_META, checksum: d.meta });
        if (!seen.has(d.tree)) {
          seen.add(d.tree);
          queue.push(d.tree);
        }
      }
    }
    return out;
  }
}

/** True when the server keeps delta indexes (config, summary or summary.idx says so). */
export function hasDeltaIndexes(view: RepoView): boolean {
  return view.index !== null || view.summary?.indexedDeltas === true;
}

/** Deltas a server lists that end at `to`: its summary's list plus its delta index for `to` (name → superblock digest). */
export async function deltasTo(server: Server, to: Checksum): Promise<Map<string, Checksum>> {
  const out = new Map<string, Checksum>();
  for (const [name, digest] of server.view.summaryDeltas) if (parseDeltaName(name).to === to) out.set(name, digest);
  const e = await deltaIndexExchange(server, to);
  if (e !== null && outcome(e) === 'ok' && e.body !== null) {
    try {
      for (const [name, digest] of parseDeltaIndex(e.body, e.url)) if (!out.has(name)) out.set(name, digest);
    } catch {
      // An unreadable index lists nothing; the completeness check reports the file itself.
    }
  }
  return out;
}

/** The server's delta index of `to`, when it keeps indexes. */
export async function deltaIndexExchange(server: Server, to: Checksum): Promise<Exchange | null> {
  if (!hasDeltaIndexes(server.view)) return null;
  return server.session.get(deltaIndexPath(to), 'delta-index', MAX_METADATA);
}

/** A commit object (checked against its name) and its commitmeta, from one server; null when it does not serve a good commit. */
export async function commitFacts(server: Server, checksum: Checksum): Promise<CommitFacts | null> {
  const [e, m] = await Promise.all([
    server.session.get(objectPath(checksum, ObjectType.COMMIT), 'commit', MAX_METADATA),
    server.session.get(objectPath(checksum, ObjectType.COMMIT_META), 'commitmeta', MAX_METADATA),
  ]);
  if (outcome(e) !== 'ok' || e.body === null || sha256Hex(e.body) !== checksum) return null;
  let commit: Commit;
  try {
    commit = parseCommit(e.body, e.url);
  } catch {
    return null;
  }
  return { checksum, exchange: e, commit, meta: outcome(m) === 'ok' ? m.body : null };
}
