/**
 * Per-object fetching: makes sure a commit and every object reachable from it are present,
 * breadth-first (commit → dirtrees/dirmetas → files) with many requests in flight, skipping
 * what the repository already has. Every object is verified before it is written: metadata by
 * its SHA-256, `.filez` by inflating and hashing (in the repository's worker pool); a corrupt
 * body is re-fetched by the HTTP client and never stored.
 */
import createDebug from 'debug';
import pLimit, { type LimitFunction } from 'p-limit';
import type { Checksum } from '../formats/checksum.js';
import { parseCommit } from '../formats/Commit.js';
import { parseDirTree } from '../formats/DirTree.js';
import { ObjectType, objectTypeName } from '../formats/ObjectType.js';
import { objectPath } from '../formats/paths.js';
import type { RequestPurpose } from '../http/Transport.js';
import { MAX_CONTENT_SIZE, MAX_METADATA_SIZE, type PullContext } from './PullContext.js';

const debug = createDebug('flathub-fetch:objects');

export interface ObjectRequest {
  type: ObjectType;
  checksum: Checksum;
  /** Exact size of the loose object as served, when known (delta fallbacks). */
  size?: number;
}

export class ObjectFetcher {
  readonly #ctx: PullContext;
  readonly #limit: LimitFunction;
  readonly #pending = new Map<string, Promise<Uint8Array | null>>();
  /** Objects fetched and written by this fetcher. */
  fetched = 0;
  /** Reachable objects found already present. */
  present = 0;

  constructor(ctx: PullContext) {
    this.#ctx = ctx;
    this.#limit = pLimit(ctx.maxInFlight);
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
    const bytes = await this.#limit(() =>
      remote.http.get(path, {
        purpose: req.size !== undefined ? 'fallback' : purpose,
        maxBytes: req.size ?? (req.type === ObjectType.FILE ? MAX_CONTENT_SIZE : MAX_METADATA_SIZE),
        ...(req.size !== undefined ? { expectedSize: req.size } : {}),
        signal,
        verify: async (body: Uint8Array) => {
          if (req.type === ObjectType.FILE) await repo.writeFilez(req.checksum, body);
          else await repo.writeMetadata(req.type, req.checksum, body);
        },
      }),
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
   * is fetched too when the commit itself is (403/404/410 mean it has none).
   */
  async fetchCommitTree(commit: Checksum): Promise<void> {
    const { repo, remote, tracker, signal } = this.#ctx;
    if (!repo.hasCached(ObjectType.COMMIT, commit)) {
      const meta = await this.#limit(() =>
        remote.http.get(objectPath(commit, ObjectType.COMMIT_META), {
          purpose: 'commitmeta',
          maxBytes: MAX_METADATA_SIZE,
          allowMissing: true,
          signal,
        }),
      );
      if (meta !== null) await repo.writeCommitMeta(commit, meta);
      tracker.expect(0, 1);
    }
    const commitBytes =
      (await this.ensure({ type: ObjectType.COMMIT, checksum: commit })) ?? (await repo.readMetadata(ObjectType.COMMIT, commit));
    // Verified either way: by writeMetadata when just fetched, by readMetadata when read back.
    const c = parseCommit(commitBytes, `commit ${commit}`);
    // Breadth-first over directories; each level's requests go out together.
    let level: Array<{ tree: Checksum; meta: Checksum }> = [{ tree: c.rootTree, meta: c.rootMeta }];
    const seenTrees = new Set<Checksum>();
    // Files are fetched while deeper directory levels are still being discovered.
    const files: Promise<unknown>[] = [];
    const track = (p: Promise<unknown>) => {
      p.catch(() => {}); // observed by the Promise.all below; avoids an unhandled rejection meanwhile
      files.push(p);
    };
    while (level.length > 0) {
      signal?.throwIfAborted();
      const next: Array<{ tree: Checksum; meta: Checksum }> = [];
      await Promise.all(
        level.map(async ({ tree, meta }) => {
          if (!repo.hasCached(ObjectType.DIR_META, meta)) tracker.expect(0, 1);
          if (!repo.hasCached(ObjectType.DIR_TREE, tree)) tracker.expect(0, 1);
          const [treeBytes] = await Promise.all([
            this.ensure({ type: ObjectType.DIR_TREE, checksum: tree }),
            this.ensure({ type: ObjectType.DIR_META, checksum: meta }),
          ]);
          const bytes = treeBytes ?? this.#ctx.knownDirTrees.get(tree) ?? (await repo.readMetadata(ObjectType.DIR_TREE, tree));
          const t = parseDirTree(bytes, `dirtree ${tree}`);
          let missing = 0;
          for (const f of t.files) {
            if (!repo.hasCached(ObjectType.FILE, f.checksum)) missing++;
            track(this.ensure({ type: ObjectType.FILE, checksum: f.checksum }));
          }
          tracker.expect(0, missing);
          for (const d of t.dirs) {
            if (seenTrees.has(d.tree)) {
              // Identical subtrees recur (empty dirs): their dirmeta may still differ.
              track(this.ensure({ type: ObjectType.DIR_META, checksum: d.meta }));
              continue;
            }
            seenTrees.add(d.tree);
            next.push({ tree: d.tree, meta: d.meta });
          }
        }),
      );
      level = next;
    }
    await Promise.all(files);
    debug('commit %s: %d fetched, %d present', commit, this.fetched, this.present);
  }
}
