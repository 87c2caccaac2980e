/**
 * Per-object fetching: makes sure a commit and every object reachable from it are present
 * (commit and its detached metadata together → dirtrees/dirmetas → files) with many requests in
 * flight, skipping what the repository already has. Each directory's children are requested as
 * soon as its dirtree arrives (no waiting for the rest of its level), and metadata requests go
 * ahead of queued file requests, so the tree is discovered in about one round trip per level.
 * Every object is verified before it is written: metadata by its SHA-256, `.filez` by inflating
 * and hashing (in the repository's worker pool); a corrupt body is re-fetched by the HTTP client
 * and never stored. Writes go through the pull's transaction (`PullContext.txn`).
 */
import createDebug from 'debug';
import pLimit from 'p-limit';
import type { Checksum } from '../formats/checksum.js';
import { parseCommit } from '../formats/Commit.js';
import { parseDirTree } from '../formats/DirTree.js';
import { ObjectType, objectTypeName } from '../formats/ObjectType.js';
import { objectPath } from '../formats/paths.js';
import type { RequestPurpose } from '../http/Transport.js';
import { PriorityLimiter } from './PriorityLimiter.js';
import { MAX_CONTENT_SIZE, MAX_METADATA_SIZE, type PullContext } from './PullContext.js';
import { throwIfAborted } from '../errors/abortError.js';

const debug = createDebug('flathub-fetch:objects');

const DONE: Promise<null> = Promise.resolve(null);

/**
 * Large objects of a list (a delta's fallbacks: `size` given, at least LARGE_FROM bytes)
 * downloaded at once. While the cores decode parts, such a body arrives faster than it is
 * inflated and written, and its paused HTTP/2 stream holds up to its flow-control window (4 MiB)
 * in memory: Node.js credits the connection's window as data arrives, so only the streams'
 * windows bound what paused streams hold. Four bodies of that size keep a link busy.
 */
export const LARGE_AT_ONCE = 4;
const LARGE_FROM = 1 << 20;

export interface ObjectRequest {
  type: ObjectType;
  checksum: Checksum;
  /** Exact size of the loose object as served, when known (delta fallbacks). */
  size?: number;
}

export class ObjectFetcher {
  readonly #ctx: PullContext;
  readonly #limit: PriorityLimiter;
  readonly #pending = new Map<string, Promise<Uint8Array | null>>();
  /** Objects fetched and written by this fetcher. */
  fetched = 0;
  /** Reachable objects found already present. */
  present = 0;

  constructor(ctx: PullContext) {
    this.#ctx = ctx;
    this.#limit = new PriorityLimiter(ctx.maxInFlight);
  }

  /**
   * Fetches (if missing) and writes one object. Returns the bytes for metadata objects fetched
   * now (so a dirtree need not be read back), else null.
   */
  ensure(req: ObjectRequest): Promise<Uint8Array | null> {
    const key = `${req.checksum}.${req.type}`;
    let p = this.#pending.get(key);
    if (p === undefined) {
      if (this.#ctx.repo.hasCached(req.type, req.checksum)) {
        this.present++;
        return DONE;
      }
      p = this.#ensure(req);
      this.#pending.set(key, p);
      // Only requests in flight are kept: once settled, the repository's index answers.
      const forget = () => void this.#pending.delete(key);
      p.then(forget, forget);
    }
    return p;
  }

  async #ensure(req: ObjectRequest): Promise<Uint8Array | null> {
    const { tracker } = this.#ctx;
    const path = objectPath(req.checksum, req.type, 'archive');
    if (req.size !== undefined) tracker.expect(req.size, 0);
    const bytes = await this.#limit.run(
      () => (req.type === ObjectType.FILE ? this.#fetchFilez(req, path) : this.#fetchMetadata(req, path)),
      req.type !== ObjectType.FILE,
    );
    this.fetched++;
    tracker.objectDone();
    return bytes;
  }

  /** A metadata object, verified and written, returned for the walk. */
  #fetchMetadata(req: ObjectRequest, path: string): Promise<Uint8Array> {
    const { txn, remote, signal } = this.#ctx;
    return remote.http.get(path, {
      purpose: req.size !== undefined ? 'fallback' : (objectTypeName(req.type) as RequestPurpose),
      maxBytes: req.size ?? MAX_METADATA_SIZE,
      ...(req.size !== undefined ? { expectedSize: req.size } : {}),
      signal,
      verify: (body: Uint8Array) => txn.writeMetadata(req.type, req.checksum, body).then(() => undefined),
    });
  }

  /**
   * A content object, received by the repository as it streams in (large ones are inflated,
   * verified and written chunk by chunk: memory does not grow with the object's size).
   */
  async #fetchFilez(req: ObjectRequest, path: string): Promise<null> {
    const { txn, remote, signal } = this.#ctx;
    const receiver = txn.receiveFilez(req.checksum, { declaredSize: req.size });
    try {
      await remote.http.download(path, {
        purpose: req.size !== undefined ? 'fallback' : 'file',
        maxBytes: req.size ?? MAX_CONTENT_SIZE,
        ...(req.size !== undefined ? { expectedSize: req.size } : {}),
        signal,
        onChunk: (c) => receiver.push(c),
        onRestart: () => receiver.restart(),
        verify: () => receiver.commit(),
      });
    } finally {
      await receiver.dispose();
    }
    return null;
  }

  /** Fetches a list of objects (delta fallbacks, or the objects of a delta part that kept failing). */
  async fetchAll(list: readonly ObjectRequest[]): Promise<void> {
    const large = pLimit(LARGE_AT_ONCE);
    try {
      await Promise.all(list.map((r) => (r.size !== undefined && r.size >= LARGE_FROM ? large(() => this.ensure(r)) : this.ensure(r))));
    } finally {
      // A failure ends the list: what waits for a turn is not started.
      large.clearQueue();
    }
  }

  /**
   * Makes the commit and everything reachable from it present. The commit's detached metadata
   * is fetched together with the commit when the commit itself is missing (403/404/410 mean it
   * has none). Fails on the first object that cannot be fetched or verified.
   */
  async fetchCommitTree(commit: Checksum, subpaths: readonly string[] | null = null): Promise<void> {
    const { repo, remote, tracker, signal } = this.#ctx;
    let commitMeta: Promise<void> = Promise.resolve();
    if (!repo.hasCached(ObjectType.COMMIT, commit)) {
      tracker.expect(0, 1);
      commitMeta = this.#limit
        .run(
          () =>
            remote.http.get(objectPath(commit, ObjectType.COMMIT_META), {
              purpose: 'commitmeta',
              maxBytes: MAX_METADATA_SIZE,
              allowMissing: true,
              signal,
            }),
          true,
        )
        .then(async (meta) => {
          if (meta === null) return;
          await this.#ctx.txn.writeCommitMeta(commit, meta);
        });
      commitMeta.catch(() => {}); // awaited below; avoids an unhandled rejection meanwhile
    }
    const commitBytes =
      (await this.ensure({ type: ObjectType.COMMIT, checksum: commit })) ?? (await repo.readMetadata(ObjectType.COMMIT, commit));
    // Verified either way: by writeMetadata when just fetched, by readMetadata when read back.
    const c = parseCommit(commitBytes, `commit ${commit}`);
    const seenTrees = new Set<Checksum>();
    const seenMetas = new Set<Checksum>();
    const seenFiles = new Set<Checksum>();
    // Operations of the walk not yet settled; the walk is over when none is left. The first
    // failure ends it. (Counted, not collected: a runtime's walk makes tens of thousands.)
    let outstanding = 0;
    let finish!: () => void;
    let fail!: (err: unknown) => void;
    const finished = new Promise<void>((resolve, reject) => {
      finish = resolve;
      fail = reject;
    });
    const settle = () => {
      if (--outstanding === 0) finish();
    };
    const track = (p: Promise<unknown>) => {
      outstanding++;
      p.then(settle, fail);
    };
    // Missing files wait here as checksums until a request slot is near: the walk discovers a
    // whole commit's files far sooner than they can be fetched, and a queued checksum costs a
    // small fraction of a queued request. At most `feed` of them are handed on at once (the
    // limiter then always has files waiting while metadata goes first).
    const queue: Checksum[] = [];
    let head = 0;
    let feeding = 0;
    const feed = 2 * this.#ctx.maxInFlight;
    const pump = () => {
      while (feeding < feed && head < queue.length) {
        const checksum = queue[head++] as Checksum;
        feeding++;
        outstanding++;
        this.ensure({ type: ObjectType.FILE, checksum }).then(() => {
          feeding--;
          pump();
          settle();
        }, fail);
      }
      if (head === queue.length) {
        queue.length = 0;
        head = 0;
      } else if (head > 4096 && head * 2 > queue.length) {
        queue.splice(0, head);
        head = 0;
      }
    };
    const ensureMeta = (meta: Checksum) => {
      if (seenMetas.has(meta)) return;
      seenMetas.add(meta);
      track(this.ensure({ type: ObjectType.DIR_META, checksum: meta }));
    };
    /**
     * `path` is the directory's path with a trailing `/` (`/`, `/files/`); `inside` is true once
     * it lies within a subpath (everything beneath is wanted). Outside, only the entries on the
     * way to a subpath are (see `subpathWants`), and such a dirtree is walked once per path.
     */
    const visit = async (tree: Checksum, meta: Checksum, path: string, inside: boolean): Promise<void> => {
      throwIfAborted(signal, `fetch of ${path}`);
      if (!repo.hasCached(ObjectType.DIR_META, meta) && !seenMetas.has(meta)) tracker.expect(0, 1);
      if (!repo.hasCached(ObjectType.DIR_TREE, tree)) tracker.expect(0, 1);
      ensureMeta(meta);
      const treeBytes = await this.ensure({ type: ObjectType.DIR_TREE, checksum: tree });
      const bytes = treeBytes ?? this.#ctx.knownDirTrees.get(tree) ?? (await repo.readMetadata(ObjectType.DIR_TREE, tree));
      const t = parseDirTree(bytes, `dirtree ${tree}`);
      // Subdirectories first, so that they take a free slot before this directory's files do.
      for (const d of t.dirs) {
        let within = inside;
        if (!inside && subpaths !== null) {
          const want = subpathWants(subpaths, `${path}${d.name}`, true);
          if (want === 'no') continue;
          within = want === 'all';
          if (!within) {
            track(visit(d.tree, d.meta, `${path}${d.name}/`, false));
            continue;
          }
        }
        if (seenTrees.has(d.tree)) {
          // Identical subtrees recur (empty dirs): their dirmeta may still differ.
          ensureMeta(d.meta);
          continue;
        }
        seenTrees.add(d.tree);
        // The subdirectory is walked as soon as this dirtree is known, not after the whole level.
        track(visit(d.tree, d.meta, `${path}${d.name}/`, true));
      }
      let missing = 0;
      for (const f of t.files) {
        if (!inside && subpaths !== null && subpathWants(subpaths, `${path}${f.name}`, false) === 'no') continue;
        // Each file once (the same content recurs across directories); one being fetched
        // already (a delta's fallback) is waited for; one present (after a delta: nearly all) is
        // counted without a promise.
        if (seenFiles.has(f.checksum)) continue;
        seenFiles.add(f.checksum);
        const pending = this.#pending.get(`${f.checksum}.${ObjectType.FILE}`);
        if (pending !== undefined) track(pending);
        else if (repo.hasCached(ObjectType.FILE, f.checksum)) this.present++;
        else {
          missing++;
          queue.push(f.checksum);
        }
      }
      tracker.expect(0, missing);
      pump();
    };
    track(commitMeta);
    track(visit(c.rootTree, c.rootMeta, '/', subpaths === null));
    await finished;
    debug('commit %s: %d fetched, %d present', commit, this.fetched, this.present);
  }
}

/**
 * libostree's subpath rule (`ostree pull --subpath`): an entry is wanted when it is a subpath,
 * lies beneath one (`all`: everything below it is wanted too), or is a directory on the way to
 * one (`path`: only its entries leading there are). `/files/de` does not match `/files/dev`.
 */
export function subpathWants(subpaths: readonly string[], entry: string, isDir: boolean): 'all' | 'path' | 'no' {
  let result: 'path' | 'no' = 'no';
  for (const s of subpaths) {
    if (entry === s || entry.startsWith(`${s}/`)) return 'all';
    if (isDir && s.startsWith(`${entry}/`)) result = 'path';
  }
  return result;
}
