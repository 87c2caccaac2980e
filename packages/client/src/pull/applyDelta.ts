/**
 * The delta executor: given a verified superblock, writes the target commit (and its detached
 * metadata), downloads parts a few at a time, decoding each as it streams in (xz on the thread
 * pool) and verifying its SHA-256, loads the local objects its `r` ops read, runs its ops (every produced
 * object verified by the executor) and writes the objects into the archive repository, rebuilding
 * `.filez`. Parts whose objects are all present are skipped; fallback objects are fetched loose.
 * A part that keeps failing is replaced by fetching its objects individually.
 *
 * Memory: at most `partConcurrency` parts (decoded payload + produced objects) at once; a part
 * file is never held whole (inline parts excepted).
 */
import createDebug from 'debug';
import pLimit from 'p-limit';
import { FlathubFetchError, isFlathubFetchError } from '../errors/FlathubFetchError.js';
import { CORRUPTION_CODES, ErrorCodes, TRANSIENT_CODES } from '../errors/codes.js';
import type { Checksum } from '../formats/checksum.js';
import { type DeltaPartPayload, decodePartFile, verifyPartFile } from '../formats/DeltaPart.js';
import { DeltaPartDecoder } from '../formats/DeltaPartDecoder.js';
import { deltaPartReadSources } from '../formats/deltaPartReadSources.js';
import type { DeltaPartHeader, DeltaSuperblock } from '../formats/DeltaSuperblock.js';
import { superblockCommitMeta } from '../formats/DeltaSuperblock.js';
import { type DeltaOutput, executeDeltaPart } from '../formats/executeDeltaPart.js';
import { ObjectType } from '../formats/ObjectType.js';
import { deltaPartPath } from '../formats/paths.js';
import { serializeDetachedMetadata } from '../formats/Signatures.js';
import { findXzProgram, xzBackend } from '../formats/xzDecoders.js';
import { mapLimit } from '../repo/mapLimit.js';
import type { ObjectFetcher } from './ObjectFetcher.js';
import type { PullContext } from './PullContext.js';

const debug = createDebug('flathub-fetch:delta');
/** Read sources of a part read at once (the file reads run on libuv's thread pool). */
const SOURCE_READS = 16;

export interface DeltaOutcome {
  /** Objects written from the delta: part outputs, plus the commit carried in the superblock. */
  objectsFromDelta: number;
  partsSkipped: number;
  partsRecovered: number;
  /** Objects the delta lists (in its parts and fallbacks) that were already present. */
  objectsPresent: number;
}

export async function applyDelta(
  ctx: PullContext,
  sb: DeltaSuperblock & { bytes: Uint8Array },
  fetcher: ObjectFetcher,
): Promise<DeltaOutcome> {
  const { repo, tracker, signal } = ctx;
  const outcome: DeltaOutcome = { objectsFromDelta: 0, partsSkipped: 0, partsRecovered: 0, objectsPresent: 0 };
  const has = (o: { type: ObjectType; checksum: Checksum }) => repo.hasCached(o.type, o.checksum);

  // Totals are known up front from the superblock.
  const todo = sb.parts.filter((p) => !p.objects.every(has));
  outcome.partsSkipped = sb.parts.length - todo.length;
  const fallbacks = sb.fallbacks.filter((f) => !has(f));
  let missing = 0;
  for (const p of todo) for (const o of p.objects) if (!has(o)) missing++;
  const listed = sb.parts.reduce((n, p) => n + p.objects.length, 0) + sb.fallbacks.length;
  outcome.objectsPresent = listed - missing - fallbacks.length;
  tracker.expect(
    todo.filter((p) => !sb.inlineParts.has(p.index)).reduce((n, p) => n + p.size, 0),
    missing + fallbacks.length + (has({ type: ObjectType.COMMIT, checksum: sb.to }) ? 0 : 1),
  );

  tracker.setPhase('delta');
  // Download order. Decoding a part (xz) is the CPU-bound critical path and can take its bytes
  // about as fast as a 200–400 Mbit/s link brings them, so parts go first, largest first, and
  // fallback objects (which only need hashing) start once no part is waiting for a download slot
  // and a slot is free: they then share the link with the last parts instead of slowing every
  // part's decoding from the start (with all of them at once, the largest part gets no more of
  // the link than a small object and finishes last).
  const limit = pLimit(ctx.partConcurrency);
  const queue = [...todo].sort((a, b) => b.size - a.size);
  let waiting = queue.length;
  let downloading = 0;
  let fallbackResult: Promise<void> | null = null;
  const startFallbacks = (): Promise<void> => {
    if (fallbackResult === null) {
      fallbackResult = fetcher.fetchAll(fallbacks.map((f) => ({ type: f.type, checksum: f.checksum, size: f.size })));
      fallbackResult.catch(() => {}); // awaited below
    }
    return fallbackResult;
  };
  const slotFreed = () => {
    if (waiting === 0 && downloading < ctx.partConcurrency) startFallbacks();
  };
  slotFreed();
  const partResults = queue.map((p) =>
    limit(async () => {
      waiting--;
      downloading++;
      let downloaded = false;
      const done = () => {
        if (downloaded) return;
        downloaded = true;
        downloading--;
        slotFreed();
      };
      slotFreed();
      try {
        // Not `+= await`: that reads the total before the part runs, and parts run concurrently.
        const produced = await applyPart(ctx, sb, p, done);
        outcome.objectsFromDelta += produced;
      } catch (err) {
        done();
        if (signal?.aborted || !isRecoverable(err)) throw err;
        // The part keeps failing (missing on a mirror, corrupt, undecodable): its objects are
        // still available loose.
        const reason = (err as Error).message;
        debug('part %d failed (%s): fetching its %d objects individually', p.index, reason, p.objects.length);
        tracker.emitEvent({ type: 'part-fallback', part: p.index, reason });
        outcome.partsRecovered++;
        await fetcher.fetchAll(p.objects.filter((o) => !has(o)));
      }
    }),
  );
  // The commit and its signatures travel in the superblock: written while the parts download.
  const commitWrite = (async () => {
    const meta = superblockCommitMeta(sb);
    if (meta !== null && !repo.hasCached(ObjectType.COMMIT_META, sb.to))
      await ctx.txn.writeCommitMeta(sb.to, serializeDetachedMetadata(meta));
    if (!repo.hasCached(ObjectType.COMMIT, sb.to)) {
      await ctx.txn.writeMetadata(ObjectType.COMMIT, sb.to, sb.commitBytes);
      outcome.objectsFromDelta++;
      tracker.objectDone();
    }
  })();
  await Promise.all([commitWrite, ...partResults]);
  await startFallbacks();
  return outcome;
}

/** Failures of a part that fetching its objects one by one can get past (not an abort, a disk error, a bug). */
function isRecoverable(err: unknown): boolean {
  return isFlathubFetchError(err) && (TRANSIENT_CODES.has(err.code) || CORRUPTION_CODES.has(err.code));
}

/** Downloads, decodes and applies one part; `downloaded()` is called once its bytes are all in. */
async function applyPart(ctx: PullContext, sb: DeltaSuperblock, part: DeltaPartHeader, downloaded: () => void): Promise<number> {
  const { repo, remote, signal } = ctx;
  const path = deltaPartPath(sb.from, sb.to, part.index);
  const what = remote.http.resolve(path).href;
  const inline = sb.inlineParts.get(part.index);
  let payload: DeltaPartPayload;
  if (inline !== undefined) {
    downloaded();
    verifyPartFile(inline, part, `${what} (inline)`);
    payload = await decodePartFile(inline, part.uncompressedSize, what, { xzDecoder: ctx.xzDecoder, ...(signal ? { signal } : {}) });
    ctx.xzBackends.add(xzBackend(ctx.xzDecoder));
  } else {
    // Decoded as it streams in: decompression overlaps the download. The xz program's lookup
    // (started with the pull) is awaited, not run again synchronously.
    if (ctx.xzDecoder !== 'wasm') await findXzProgram();
    const decoder = new DeltaPartDecoder(part, what, { xzDecoder: ctx.xzDecoder });
    try {
      await remote.http.download(path, {
        purpose: 'delta-part',
        maxBytes: part.size,
        expectedSize: part.size,
        signal,
        onChunk: (c) => decoder.push(c),
        onRestart: () => decoder.restart(),
        verify: () => decoder.verify(),
      });
      downloaded();
      payload = await decoder.finish({ signal });
      debug('part %d: decoded', part.index);
      if (decoder.backend !== null) ctx.xzBackends.add(decoder.backend);
    } finally {
      decoder.dispose();
    }
  }
  const has = (o: { type: ObjectType; checksum: Checksum }) => repo.hasCached(o.type, o.checksum);
  // The local objects the part reads from, read concurrently and not hashed: every object built
  // from them is (a damaged source yields a checksum mismatch, and the part's fallback).
  const sources = new Map<Checksum, Uint8Array>();
  await mapLimit(deltaPartReadSources(part, payload, has), SOURCE_READS, async (c) => {
    sources.set(c, (await repo.readContent(c, { verify: false })).content);
  });

  const metadata: Array<Extract<DeltaOutput, { kind: 'metadata' }>> = [];
  const content: Array<Extract<DeltaOutput, { kind: 'content' }>> = [];
  executeDeltaPart(part, payload, (o) => (o.kind === 'metadata' ? metadata.push(o) : content.push(o)), {
    what,
    has,
    readSource: (c) => {
      const s = sources.get(c);
      if (s === undefined) throw new Error(`read source ${c} was not preloaded`);
      return s;
    },
    // Content checksums are verified by writeContentBatch, in the worker threads.
    verifyContent: false,
  });
  const produced = metadata.length + content.length;
  debug('part %d: %d read sources, %d objects built', part.index, sources.size, produced);
  const contentWrite = ctx.txn
    .writeContentBatch(content, { onWritten: (n) => ctx.tracker.objectDone(n) })
    .then((stored) => {
      // Objects another write stored meanwhile count as done too.
      if (content.length > stored) ctx.tracker.objectDone(content.length - stored);
    })
    .catch((err: unknown) => {
      throw isFlathubFetchError(err) && err.code === ErrorCodes.CHECKSUM_MISMATCH
        ? new FlathubFetchError(ErrorCodes.CHECKSUM_MISMATCH, `${what}: produced ${err.message}`, err.data, { cause: err })
        : err;
    });
  const writes = pLimit(8);
  const metadataWrites = metadata.map((o) =>
    writes(async () => {
      await ctx.txn.writeMetadata(o.type, o.checksum, o.bytes);
      if (o.type === ObjectType.DIR_TREE) ctx.knownDirTrees.add(o.checksum, o.bytes);
      ctx.tracker.objectDone();
    }),
  );
  await Promise.all([contentWrite, ...metadataWrites]);
  debug('part %d: %d objects written', part.index, produced);
  return produced;
}
