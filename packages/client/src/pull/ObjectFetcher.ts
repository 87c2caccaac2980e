/**
 * Per-object fetching: makes sure a commit and every object reachable from it are present
 * (commit and its detached metadata together → dirtrees/dirmetas → files) with many requests in
 * flight, skipping what the repository already has. Each directory's children are requested as
 * soon as its dirtree arrives (no waiting for the rest of its level), and metadata requests go
 * ahead of queued file requests, so the tree is discovered in about one round trip per level.
 * Every object is verified before it is written: metadata by its SHA-256, `.filez` by inflating
 * and hashing (in the repository's worker pool); a corrupt body is re-fetched by the HTTP client
 * and never stored. Writes wait for `PullContext.ready` (the commit marked partial).
 */
import createDebug from 'debug';
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
      p = this.#ensure(req);
      this.#pending.set(key, p);
    }
    return p;
  }

  async #ensure(req: ObjectRequest): Promise<Uint8Array | null> {
    const { repo, remote, tracker, signal } = this.#ctx;
    if (repo.hasCached(req.type, req.checksum)) {
      this.present++;
      return null;
    }
    const path = objectPath(req.checksum, req.type, 'archive');
    const purpose = objectTypeName(req.type) as RequestPurpose;
    if (req.size !== undefined) tracker.expect(req.size, 0);
    const bytes = await this.#limit.run(
      () =>
        remote.http.get(path, {
          purpose: req.size !== undefined ? 'fallback' : purpose,
          maxBytes: req.size ?? (req.type === ObjectType.FILE ? MAX_CONTENT_SIZE : MAX_METADATA_SIZE),
          ...(req.size !== undefined ? { expectedSize: req.size } : {}),
          signal,
          verify: async (body: Uint8Array) => {
            await this.#ctx.ready;
            if (req.type === ObjectType.FILE) await repo.writeFilez(req.checksum, body);
            else await repo.writeMetadata(req.type, req.checksum, body);
          },
        }),
      req.type !== ObjectType.FILE,
    );
    this.fetched++;
    tracker.objectDone();
    return req.type === ObjectType.FILE ? null : bytes;
  }

  /** Fetches a list of objects (delta fallbacks, or the objects of a delta part that kept failing). */
  async fetchAll(list: readonly ObjectRequest[]): Promise<void> {
    await Promise.all(list.map((r) => this.ensure(r)));
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
          await this.#ctx.ready;
          await repo.writeCommitMeta(commit, meta);
        });
      commitMeta.catch(() => {}); // awaited below; avoids an unhandled rejection meanwhile
    }
    const commitBytes =
      (await this.ensure({ type: ObjectType.COMMIT, checksum: commit })) ?? (await repo.readMetadata(ObjectType.COMMIT, commit));
    // Verified either way: by writeMetadata when just fetched, by readMetadata when read back.
    const c = parseCommit(commitBytes, `commit ${commit}`);
    const seenTrees = new Set<Checksum>();
    const seenFiles = new Set<Checksum>();
    // Every request of the walk, in the order made; the first failure ends the walk.
    const work: Promise<unknown>[] = [commitMeta];
    let fail: (err: unknown) => void = () => {};
    const failed = new Promise<never>((_, reject) => {
      fail = reject;
    });
    failed.catch(() => {});
    const track = (p: Promise<unknown>) => {
      work.push(p);
      p.catch(fail);
    };
    /**
     * `path` is the directory's path with a trailing `/` (`/`, `/files/`); `inside` is true once
     * it lies within a subpath (everything beneath is wanted). Outside, only the entries on the
     * way to a subpath are (see `subpathWants`), and such a dirtree is walked once per path.
     */
    const visit = async (tree: Checksum, meta: Checksum, path: string, inside: boolean): Promise<void> => {
      throwIfAborted(signal, `fetch of ${path}`);
      if (!repo.hasCached(ObjectType.DIR_META, meta)) tracker.expect(0, 1);
      if (!repo.hasCached(ObjectType.DIR_TREE, tree)) tracker.expect(0, 1);
      const [treeBytes] = await Promise.all([
        this.ensure({ type: ObjectType.DIR_TREE, checksum: tree }),
        this.ensure({ type: ObjectType.DIR_META, checksum: meta }),
      ]);
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
          track(this.ensure({ type: ObjectType.DIR_META, checksum: d.meta }));
          continue;
        }
        seenTrees.add(d.tree);
        // The subdirectory is walked as soon as this dirtree is known, not after the whole level.
        track(visit(d.tree, d.meta, `${path}${d.name}/`, true));
      }
      let missing = 0;
      for (const f of t.files) {
        if (!inside && subpaths !== null && subpathWants(subpaths, `${path}${f.name}`, false) === 'no') continue;
        // Each file once (the same content recurs across directories); one already requested is
        // waited for; one present (after a delta: nearly all) is counted without a promise.
        if (seenFiles.has(f.checksum)) continue;
        seenFiles.add(f.checksum);
        const pending = this.#pending.get(`${f.checksum}.${ObjectType.FILE}`);
        if (pending !== undefined) track(pending);
        else if (repo.hasCached(ObjectType.FILE, f.checksum)) this.present++;
        else {
          missing++;
          track(this.ensure({ type: ObjectType.FILE, checksum: f.checksum }));
        }
      }
      tracker.expect(0, missing);
    };
    track(visit(c.rootTree, c.rootMeta, '/', subpaths === null));
    // `work` grows while the walk runs: wait for each entry, including those added meanwhile.
    for (let i = 0; i < work.length; i++) await Promise.race([work[i], failed]);
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
