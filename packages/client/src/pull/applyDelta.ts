/**
 * The delta executor: given a verified superblock, writes the target commit (and its detached
 * metadata), downloads parts a few at a time, decoding each as it streams in (xz on the thread
 * pool) and verifying its SHA-256, loads the local objects its `r` ops read, runs its ops (every produced
 * object verified by the executor) and writes the objects into the archive repository, rebuilding
 * `.filez`. Parts whose objects are all present are skipped; fallback objects are fetched loose.
 * A part that keeps failing is replaced by fetching its objects individually.
 *
 * Memory: at most `partConcurrency` parts download and decode at once, and as many run, each
 * holding its op tables and a few windows of its data (see runPart); a decoded part waiting to
 * run holds its op tables and its payload's file. Neither a part file nor its decoded payload is
 * held whole in memory (inline parts, and payloads the WebAssembly decoder made, excepted: those
 * are in memory, and keep their download slot until they have run).
 */
import createDebug from 'debug';
import pLimit, { type LimitFunction } from 'p-limit';
import { FlathubFetchError, isFlathubFetchError } from '../errors/FlathubFetchError.js';
import { CORRUPTION_CODES, ErrorCodes, TRANSIENT_CODES } from '../errors/codes.js';
import type { Checksum } from '../formats/checksum.js';
import { decodePartFile, verifyPartFile } from '../formats/DeltaPart.js';
import { DeltaPartDecoder } from '../formats/DeltaPartDecoder.js';
import { deltaPartReadSources } from '../formats/deltaPartReadSources.js';
import type { DeltaPartHeader, DeltaSuperblock } from '../formats/DeltaSuperblock.js';
import { superblockCommitMeta } from '../formats/DeltaSuperblock.js';
import { type DeltaOutput, executeDeltaPart, type PartWindow, partWindows } from '../formats/executeDeltaPart.js';
import { memoryPayload, type PartPayloadSource } from '../formats/PartPayload.js';
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
/** Data of a part run at once (see runPart): a window spans at most this, unless one object's data does. */
const WINDOW_BYTES = 1024 * 1024;
/** Windows of a part whose writes may be pending while the next one runs. */
const WRITES_BEHIND = 2;

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
  // about as fast as a 200–400 Mbit/s link brings them, so parts go first, largest first.
  // Fallback objects (which only need hashing) start once the parts have no more bytes left to
  // download than the fallbacks have, or once no part waits for a slot and a slot is free: a
  // large part is then not slowed from the start by sharing the link with them (with all of them
  // at once, the largest part gets no more of the link than a small object and finishes last),
  // and the fallbacks do not all come after the last part (with many parts, each decoded slower
  // than the link brings it, they would be the whole tail of the pull).
  // A part holds a download slot while it downloads and decodes, then a run slot while its ops
  // run: the next parts download and decode (on other cores) while one runs. Decoded payloads
  // wait in their files, so at most 2 × partConcurrency parts are under way at once.
  const slots: PartSlots = {
    fetch: pLimit(ctx.partConcurrency),
    run: pLimit(ctx.partConcurrency),
  };
  const underWay = pLimit(2 * ctx.partConcurrency);
  const buffers = new WindowBuffers();
  const queue = [...todo].sort((a, b) => b.size - a.size);
  let waiting = queue.length;
  let downloading = 0;
  const fallbackBytes = fallbacks.reduce((n, f) => n + f.size, 0);
  let partBytesLeft = queue.reduce((n, p) => n + (sb.inlineParts.has(p.index) ? 0 : p.size), 0);
  let fallbackResult: Promise<void> | null = null;
  const startFallbacks = (): Promise<void> => {
    if (fallbackResult === null) {
      fallbackResult = fetcher.fetchAll(fallbacks.map((f) => ({ type: f.type, checksum: f.checksum, size: f.size })));
      fallbackResult.catch(() => {}); // awaited below
    }
    return fallbackResult;
  };
  const slotFreed = () => {
    if (partBytesLeft <= fallbackBytes || (waiting === 0 && downloading < ctx.partConcurrency)) startFallbacks();
  };
  slotFreed();
  const partResults = queue.map((p) =>
    underWay(async () => {
      let started = false;
      let downloaded = false;
      // Once the part has a download slot (it no longer waits for one).
      const start = () => {
        started = true;
        waiting--;
        downloading++;
        tracker.emitEvent({ type: 'part', part: p.index, stage: 'downloading' });
        slotFreed();
      };
      const done = () => {
        if (!started || downloaded) return;
        downloaded = true;
        downloading--;
        if (!sb.inlineParts.has(p.index)) partBytesLeft -= p.size;
        slotFreed();
      };
      try {
        // Not `+= await`: that reads the total before the part runs, and parts run concurrently.
        const produced = await applyPart(ctx, sb, p, { start, done }, slots, buffers);
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

/** The limits a part goes through: downloading and decoding, then running. */
interface PartSlots {
  fetch: LimitFunction;
  run: LimitFunction;
}

/**
 * Downloads, decodes and applies one part; `hooks.start()` is called once it has a download
 * slot, `hooks.done()` once its bytes are all in. A payload in a file waits for a run slot
 * without its download slot; one in memory keeps it, so payloads held in memory are never more
 * than partConcurrency.
 */
async function applyPart(
  ctx: PullContext,
  sb: DeltaSuperblock,
  part: DeltaPartHeader,
  hooks: { start: () => void; done: () => void },
  slots: PartSlots,
  buffers: WindowBuffers,
): Promise<number> {
  const what = ctx.remote.http.resolve(deltaPartPath(sb.from, sb.to, part.index)).href;
  const run = async (source: PartPayloadSource): Promise<number> => {
    try {
      return await slots.run(async () => {
        ctx.tracker.emitEvent({ type: 'part', part: part.index, stage: 'running' });
        const produced = await runPart(ctx, part, source, what, buffers);
        ctx.tracker.emitEvent({ type: 'part', part: part.index, stage: 'applied', objects: produced });
        return produced;
      });
    } finally {
      source.close();
    }
  };
  const decoded = await slots.fetch(async (): Promise<{ source: PartPayloadSource } | { produced: number }> => {
    hooks.start();
    const source = await fetchPart(ctx, sb, part, what, hooks.done);
    ctx.tracker.emitEvent({ type: 'part', part: part.index, stage: 'decoded' });
    return source.inFile ? { source } : { produced: await run(source) };
  });
  return 'produced' in decoded ? decoded.produced : run(decoded.source);
}

/** Downloads (or takes from the superblock) and decodes one part: its payload. */
async function fetchPart(
  ctx: PullContext,
  sb: DeltaSuperblock,
  part: DeltaPartHeader,
  what: string,
  downloaded: () => void,
): Promise<PartPayloadSource> {
  const inline = sb.inlineParts.get(part.index);
  let source: PartPayloadSource;
  if (inline !== undefined) {
    downloaded();
    verifyPartFile(inline, part, `${what} (inline)`);
    const payload = await decodePartFile(inline, part.uncompressedSize, what, {
      xzDecoder: ctx.xzDecoder,
      ...(ctx.signal ? { signal: ctx.signal } : {}),
    });
    ctx.xzBackends.add(xzBackend(ctx.xzDecoder));
    source = memoryPayload(payload);
  } else {
    const decoder = await downloadPart(ctx, sb, part, what);
    try {
      downloaded();
      source = await decoder.finishSource({ signal: ctx.signal });
      debug('part %d: decoded', part.index);
      if (decoder.backend !== null) ctx.xzBackends.add(decoder.backend);
    } finally {
      decoder.dispose();
    }
  }
  return source;
}

/** Downloads a part file, decoding it as it streams in: the decoder, verified, for finishSource(). */
async function downloadPart(ctx: PullContext, sb: DeltaSuperblock, part: DeltaPartHeader, what: string): Promise<DeltaPartDecoder> {
  const { remote, signal } = ctx;
  // Decompression overlaps the download; the payload stays in the xz program's output file. The
  // program's lookup (started with the pull) is awaited, not run again synchronously.
  if (ctx.xzDecoder !== 'wasm') await findXzProgram();
  const decoder = new DeltaPartDecoder(part, what, { xzDecoder: ctx.xzDecoder, payloadInFile: true });
  try {
    await remote.http.download(deltaPartPath(sb.from, sb.to, part.index), {
      purpose: 'delta-part',
      maxBytes: part.size,
      expectedSize: part.size,
      signal,
      onChunk: (c) => decoder.push(c),
      onRestart: () => decoder.restart(),
      verify: () => decoder.verify(),
    });
  } catch (err) {
    decoder.dispose();
    throw err;
  }
  return decoder;
}

/**
 * Runs a decoded part's ops and writes the objects they build, a window of its data at a time
 * (see partWindows): the next window is read while one runs, and the writes of at most
 * WRITES_BEHIND windows are pending, so a part holds a few windows of its payload, not all of it.
 * Returns the number of objects built.
 */
async function runPart(
  ctx: PullContext,
  part: DeltaPartHeader,
  src: PartPayloadSource,
  what: string,
  buffers: WindowBuffers,
): Promise<number> {
  const { repo } = ctx;
  const has = (o: { type: ObjectType; checksum: Checksum }) => repo.hasCached(o.type, o.checksum);
  const windows = partWindows(part, src.ops, src.dataLength, WINDOW_BYTES);
  /** Reads a window's data: into a buffer of `buffers` (when the data is in a file), given back once its objects are written. */
  const read = (w: PartWindow) => {
    const length = w.dataEnd - w.dataStart;
    const buffer = src.inFile ? buffers.take(length) : null;
    const data = src.readData(w.dataStart, length, buffer);
    data.catch(() => {}); // awaited in turn
    return { buffer, data };
  };
  let produced = 0;
  let sourcesRead = 0;
  const pending: Array<Promise<void>> = [];
  let failure = null as { err: unknown } | null;
  let next = read(windows[0] as PartWindow);
  try {
    for (let i = 0; i < windows.length; i++) {
      const window = windows[i] as PartWindow;
      const { buffer } = next;
      const data = await next.data;
      if (i + 1 < windows.length) next = read(windows[i + 1] as PartWindow);
      if (failure !== null) throw failure.err;
      ctx.signal?.throwIfAborted();
      const windowed = { window, dataLength: src.dataLength };
      const payload = { modes: src.modes, xattrs: src.xattrs, ops: src.ops, data };
      // The local objects the window reads from, read concurrently and not hashed: every object
      // built from them is (a damaged source yields a checksum mismatch, and the part's fallback).
      const sources = new Map<Checksum, Uint8Array>();
      await mapLimit(deltaPartReadSources(part, payload, has, windowed), SOURCE_READS, async (c) => {
        sources.set(c, (await repo.readContent(c, { verify: false })).content);
      });
      sourcesRead += sources.size;
      const metadata: Array<Extract<DeltaOutput, { kind: 'metadata' }>> = [];
      const content: Array<Extract<DeltaOutput, { kind: 'content' }>> = [];
      executeDeltaPart(
        part,
        payload,
        (o) => (o.kind === 'metadata' ? metadata.push(o) : content.push(o)),
        {
          what,
          has,
          readSource: (c) => {
            const s = sources.get(c);
            if (s === undefined) throw new Error(`read source ${c} was not preloaded`);
            return s;
          },
          // Content checksums are verified by writeContentBatch, in the worker threads.
          verifyContent: false,
        },
        windowed,
      );
      produced += metadata.length + content.length;
      // This window's buffer (when it has one) is free again once its objects are written.
      const written = writeObjects(ctx, metadata, content, what).then(() => {
        if (buffer !== null) buffers.give(buffer);
      });
      written.catch((err: unknown) => {
        failure ??= { err };
      });
      pending.push(written);
      if (pending.length > WRITES_BEHIND) await pending.shift();
    }
    await Promise.all(pending);
  } catch (err) {
    // Nothing is left running on the part's buffers (or its file) when this returns.
    await Promise.allSettled([...pending, next.data]);
    throw err;
  }
  debug('part %d: %d windows, %d read sources, %d objects written', part.index, windows.length, sourcesRead, produced);
  return produced;
}

/** Writes what a window of a part built. */
async function writeObjects(
  ctx: PullContext,
  metadata: Array<Extract<DeltaOutput, { kind: 'metadata' }>>,
  content: Array<Extract<DeltaOutput, { kind: 'content' }>>,
  what: string,
): Promise<void> {
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
  // Checked here, written by the content workers (this thread runs the part's next window meanwhile).
  const metadataWrite =
    metadata.length === 0
      ? Promise.resolve()
      : ctx.txn.writeMetadataBatch(metadata).then(() => {
          for (const o of metadata) if (o.type === ObjectType.DIR_TREE) ctx.knownDirTrees.add(o.checksum, o.bytes);
          ctx.tracker.objectDone(metadata.length);
        });
  await Promise.all([contentWrite, metadataWrite]);
}

/**
 * The buffers parts' windows are read into (see runPart), reused from one window to the next:
 * a window's worth of memory allocated and freed over and over would go to the C heap (the
 * allocator serves freed sizes from its heap, not fresh mappings) and stay resident there,
 * fragmented. At most partConcurrency × (WRITES_BEHIND + 2) are kept; a window larger than
 * WINDOW_BYTES (one object's data) gets a buffer of its own.
 */
class WindowBuffers {
  readonly #free: Uint8Array[] = [];

  take(length: number): Uint8Array {
    if (length > WINDOW_BYTES) return new Uint8Array(new SharedArrayBuffer(length));
    return this.#free.pop() ?? new Uint8Array(new SharedArrayBuffer(WINDOW_BYTES));
  }

  give(buffer: Uint8Array): void {
    if (buffer.length === WINDOW_BYTES) this.#free.push(buffer);
  }
}
