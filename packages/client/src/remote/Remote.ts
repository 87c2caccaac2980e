/**
 * A remote OSTree/Flatpak repository: its config, summary (classic `summary`, or Flatpak's
 * `summary.idx` plus the subsummary for an architecture), refs and static deltas.
 */
import { gunzipSync } from 'node:zlib';
import createDebug from 'debug';
import { FlathubFetchError } from '../errors/FlathubFetchError.js';
import { ErrorCodes } from '../errors/codes.js';
import { type Checksum, parseChecksum, sha256Hex } from '../formats/checksum.js';
import { parseDeltaIndex } from '../formats/DeltaIndex.js';
import { type DeltaSuperblock, MAX_SUPERBLOCK_SIZE, parseDeltaSuperblock } from '../formats/DeltaSuperblock.js';
import { type KeyFile, keyFileBool, keyFileGet, parseKeyFile } from '../formats/KeyFile.js';
import { deltaIndexPath, deltaSuperblockPath, parseDeltaName, subsummaryPath, summaryDeltaPath } from '../formats/paths.js';
import { parseSummary, type Summary, type SummaryRef } from '../formats/Summary.js';
import { findSubsummary, parseSummaryIndex, type SubsummaryEntry, type SummaryIndex } from '../formats/SummaryIndex.js';
import { applySummaryDelta } from '../formats/SummaryDelta.js';
import { lookup } from '../formats/VarDict.js';
import { type DetachedMetadata, parseDetachedMetadata } from '../formats/Signatures.js';
import { HttpClient } from '../http/HttpClient.js';
import type { Transport } from '../http/Transport.js';
import type { HttpClientOptions } from '../http/HttpClientOptions.js';
import { hostArch } from './hostArch.js';
import { SubsummaryCache } from './SubsummaryCache.js';

const debug = createDebug('flathub-fetch:remote');

export interface RemoteOptions {
  /** Transport to use instead of the default (undici for http(s), files for file://). */
  transport?: Transport;
  /** HTTP client options: connections, in-flight limit, retries, timeouts, `onRecord`, … */
  http?: Omit<HttpClientOptions, 'transport'>;
  /** Architecture whose subsummary to read from a Flatpak `summary.idx`. @default this machine's */
  arch?: string;
  /** Largest summary / summary.idx / subsummary accepted. @default 64 MiB */
  maxSummarySize?: number;
  signal?: AbortSignal | undefined;
  /**
   * Directory caching Flatpak subsummaries between opens: an unchanged subsummary costs no
   * request and a changed one only its summary delta. @default no cache
   */
  cacheDir?: string;
  /** Fetch `summary.sig` / `summary.idx.sig` alongside the summary (in parallel). @default true */
  signatures?: boolean;
}

/** A ref as a remote advertises it. */
export interface RemoteRef {
  name: string;
  commit: Checksum;
  collectionId: string | null;
  /** Commit time in seconds, when the summary says. */
  timestamp: number | null;
  version: string | null;
  commitSize: number;
  /** Flatpak download and installed sizes, from xa.cache / xa.data. */
  downloadSize: number | null;
  installedSize: number | null;
  /** End-of-life message (Flatpak `eol`), or null. */
  eol: string | null;
  /** Replacement ref for an end-of-life ref (`eolr`), or null. */
  eolRebase: string | null;
  /** The app/runtime metadata keyfile text, when the summary carries it. */
  metadata: string | null;
}

export interface RemoteDelta {
  name: string;
  from: Checksum | null;
  to: Checksum;
  /** SHA-256 of the superblock, as the summary or index declares it (null when found by probing). */
  digest: Checksum | null;
  /** Where it was found: listed in the summary or a delta index, or probed at its path. */
  source: 'summary' | 'delta-index' | 'probe';
}

export type SummarySource = 'summary' | 'summary.idx' | 'none';

export interface RemoteSignature {
  file: 'summary.sig' | 'summary.idx.sig';
  bytes: Uint8Array;
  parsed: DetachedMetadata;
}

async function fetchSignature(
  http: HttpClient,
  file: RemoteSignature['file'],
  signal: AbortSignal | undefined,
): Promise<RemoteSignature | null> {
  const bytes = await http.get(file, { purpose: file, maxBytes: 1024 * 1024, allowMissing: true, signal });
  if (bytes === null) return null;
  return { file, bytes, parsed: parseDetachedMetadata(bytes, http.resolve(file).href) };
}

export class Remote {
  readonly url: string;
  readonly arch: string;
  readonly http: HttpClient;
  readonly config: KeyFile | null;
  /** The summary used for refs: the classic summary, or the arch's subsummary. */
  readonly summary: Summary | null;
  readonly summaryIndex: SummaryIndex | null;
  readonly summarySource: SummarySource;
  /** Raw bytes of the summary used for refs (the classic summary or the subsummary). */
  readonly summaryBytes: Uint8Array | null;
  /** Raw bytes of summary.idx, when the remote has one. */
  readonly indexBytes: Uint8Array | null;
  /**
   * The detached signatures of what was opened (`summary.sig` over the summary, or
   * `summary.idx.sig` over summary.idx; subsummaries are authenticated through the index's
   * checksums), or null when the remote publishes none. Verification is the caller's (mirror
   * checks, `--verify`).
   */
  readonly signature: RemoteSignature | null;
  readonly #maxSummary: number;

  private constructor(init: {
    http: HttpClient;
    arch: string;
    config: KeyFile | null;
    summary: Summary | null;
    summaryIndex: SummaryIndex | null;
    summarySource: SummarySource;
    summaryBytes: Uint8Array | null;
    indexBytes: Uint8Array | null;
    signature: RemoteSignature | null;
    maxSummary: number;
  }) {
    this.http = init.http;
    this.url = init.http.base.href;
    this.arch = init.arch;
    this.config = init.config;
    this.summary = init.summary;
    this.summaryIndex = init.summaryIndex;
    this.summarySource = init.summarySource;
    this.summaryBytes = init.summaryBytes;
    this.indexBytes = init.indexBytes;
    this.signature = init.signature;
    this.#maxSummary = init.maxSummary;
  }

  /**
   * Opens a repository: GET config and summary.idx (Flatpak) together, then the subsummary for
   * `arch` (cached, by summary delta, or whole) and summary.idx.sig; else summary and
   * summary.sig together. A repository with no summary is still usable: refs resolve through
   * refs/heads/.
   */
  static async open(url: string | URL, options: RemoteOptions = {}): Promise<Remote> {
    const http = new HttpClient(url, { ...options.http, ...(options.transport ? { transport: options.transport } : {}) });
    const maxSummary = options.maxSummarySize ?? 64 * 1024 * 1024;
    const arch = options.arch ?? hostArch();
    const signal = options.signal;
    try {
      // config and summary.idx together: one round trip for what every open needs.
      const [configBytes, idxBytes] = await Promise.all([
        http.get('config', { purpose: 'config', maxBytes: 1024 * 1024, allowMissing: true, signal }),
        http.get('summary.idx', { purpose: 'summary.idx', maxBytes: maxSummary, allowMissing: true, acceptEncoding: true, signal }),
      ]);
      const config = configBytes === null ? null : parseKeyFile(new TextDecoder().decode(configBytes), http.resolve('config').href);
      const wantSignature = options.signatures ?? true;
      if (idxBytes !== null) {
        const index = parseSummaryIndex(idxBytes, http.resolve('summary.idx').href);
        const entry = findSubsummary(index, arch);
        const cache = options.cacheDir === undefined ? null : new SubsummaryCache(options.cacheDir);
        const [bytes, signature] = await Promise.all([
          entry === undefined ? null : loadSubsummary(http, entry, cache, maxSummary, signal),
          wantSignature ? fetchSignature(http, 'summary.idx.sig', signal) : null,
        ]);
        const summary =
          bytes === null || entry === undefined ? null : parseSummary(bytes, http.resolve(subsummaryPath(entry.checksum)).href);
        debug('opened %s via summary.idx (%s: %s)', http.base.href, arch, entry?.checksum ?? 'no subsummary');
        return new Remote({
          http,
          arch,
          config,
          summary,
          summaryIndex: index,
          summarySource: 'summary.idx',
          summaryBytes: bytes,
          indexBytes: idxBytes,
          signature,
          maxSummary,
        });
      }
      const [summaryBytes, signature] = await Promise.all([
        http.get('summary', { purpose: 'summary', maxBytes: maxSummary, allowMissing: true, acceptEncoding: true, signal }),
        wantSignature ? fetchSignature(http, 'summary.sig', signal) : null,
      ]);
      const summary = summaryBytes === null ? null : parseSummary(summaryBytes, http.resolve('summary').href);
      debug('opened %s via %s', http.base.href, summary === null ? 'no summary' : 'summary');
      return new Remote({
        http,
        arch,
        config,
        summary,
        summaryIndex: null,
        summarySource: summary === null ? 'none' : 'summary',
        summaryBytes,
        indexBytes: null,
        signature: summary === null ? null : signature,
        maxSummary,
      });
    } catch (err) {
      await http.close();
      throw err;
    }
  }

  /** True when the server keeps per-commit delta indexes (config or summary says so). */
  get indexedDeltas(): boolean {
    const fromConfig = this.config !== null && keyFileBool(this.config, 'core', 'indexed-deltas') === true;
    const idx = this.summaryIndex !== null && lookup(this.summaryIndex.metadata, 'ostree.summary.indexed-deltas')?.value === true;
    return fromConfig || idx || this.summary?.indexedDeltas === true;
  }

  /** The repository's collection ID, if any. */
  get collectionId(): string | null {
    return (
      this.summary?.collectionId ??
      this.summaryIndex?.collectionId ??
      (this.config !== null ? (keyFileGet(this.config, 'core', 'collection-id') ?? null) : null)
    );
  }

  /** Refs advertised by the summary (empty when the repository has none), sorted by name. */
  refs(): RemoteRef[] {
    if (this.summary === null) return [];
    const out = this.summary.refs.map(toRemoteRef);
    for (const list of this.summary.collections.values()) out.push(...list.map(toRemoteRef));
    return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /**
   * Resolves a ref name (or a 64-hex commit) to a commit. Without a summary entry, reads
   * `refs/heads/<ref>` as libostree does.
   */
  async resolve(
    ref: string,
    { signal }: { signal?: AbortSignal | undefined } = {},
  ): Promise<{ name: string | null; commit: Checksum; ref: RemoteRef | null }> {
    if (/^[0-9a-f]{64}$/i.test(ref)) return { name: null, commit: parseChecksum(ref), ref: null };
    const hit = this.refs().find((r) => r.name === ref);
    if (hit !== undefined) return { name: ref, commit: hit.commit, ref: hit };
    // Not in the summary (or no summary): refs/heads/ may still have it.
    debug('ref %s not in the summary; trying refs/heads', ref);
    if (ref.split('/').some((c) => c === '' || c === '.' || c === '..')) {
      throw new FlathubFetchError(ErrorCodes.INVALID_ARGUMENT, `invalid ref name "${ref}"`, {
        argument: 'ref',
        value: ref,
        reason: 'empty, . or .. component',
      });
    }
    const bytes = await this.http.get(`refs/heads/${ref}`, { purpose: 'ref', maxBytes: 4096, allowMissing: true, signal });
    if (bytes === null) {
      throw new FlathubFetchError(
        ErrorCodes.NOT_FOUND,
        `ref "${ref}" not found at ${this.url} (not in the summary, no refs/heads/${ref})`,
        {
          what: `ref ${ref}`,
          url: this.http.resolve(`refs/heads/${ref}`).href,
        },
      );
    }
    const text = new TextDecoder().decode(bytes).trim();
    return { name: ref, commit: parseChecksum(text, `refs/heads/${ref}`), ref: null };
  }

  /**
   * Static deltas the remote advertises: the summary's list, plus — when the remote keeps delta
   * indexes — the index of each commit in `targets` (default: every ref's commit).
   */
  async deltas(targets?: readonly Checksum[], { signal }: { signal?: AbortSignal | undefined } = {}): Promise<RemoteDelta[]> {
    const out = new Map<string, RemoteDelta>();
    for (const [name, digest] of this.summary?.deltas ?? []) {
      const { from, to } = parseDeltaName(name);
      out.set(name, { name, from, to, digest, source: 'summary' });
    }
    // A summary that lists deltas lists them all (ostree writes the list unless told not to), so
    // delta indexes are only read when it lists none: one request fewer per pull.
    if ((this.indexedDeltas || this.summarySource === 'summary.idx') && out.size === 0) {
      const commits = targets ?? [...new Set(this.refs().map((r) => r.commit))];
      for (const to of commits) {
        for (const d of await this.deltaIndex(to, { signal })) if (!out.has(d.name)) out.set(d.name, d);
      }
    }
    return [...out.values()];
  }

  /** Deltas ending at `to` from its delta index (empty when the index is absent). */
  async deltaIndex(to: Checksum, { signal }: { signal?: AbortSignal | undefined } = {}): Promise<RemoteDelta[]> {
    const path = deltaIndexPath(to);
    const bytes = await this.http.get(path, { purpose: 'delta-index', maxBytes: this.#maxSummary, allowMissing: true, signal });
    if (bytes === null) return [];
    const out: RemoteDelta[] = [];
    for (const [name, digest] of parseDeltaIndex(bytes, this.http.resolve(path).href)) {
      const { from, to: t } = parseDeltaName(name);
      out.push({ name, from, to: t, digest, source: 'delta-index' });
    }
    return out;
  }

  /** Fetches and parses a superblock; checks its SHA-256 when `digest` is given (not null). */
  async superblock(
    from: Checksum | null,
    to: Checksum,
    { digest = null, signal }: { digest?: Checksum | null; signal?: AbortSignal | undefined } = {},
  ): Promise<DeltaSuperblock & { bytes: Uint8Array }> {
    const path = deltaSuperblockPath(from, to);
    const url = this.http.resolve(path).href;
    let parsed: DeltaSuperblock | null = null;
    // Checked as part of the request: a corrupt body (digest mismatch, unparsable) is fetched again.
    const verify = (bytes: Uint8Array) => {
      if (digest !== undefined && digest !== null) {
        const actual = sha256Hex(bytes);
        if (actual !== digest) {
          throw new FlathubFetchError(
            ErrorCodes.CHECKSUM_MISMATCH,
            `${url}: superblock SHA-256 ${actual} does not match the advertised ${digest}`,
            {
              url,
              expected: digest,
              actual,
            },
          );
        }
      }
      parsed = parseDeltaSuperblock(bytes, url);
    };
    const bytes = await this.http.get(path, { purpose: 'superblock', maxBytes: MAX_SUPERBLOCK_SIZE, acceptEncoding: true, verify, signal });
    return { ...(parsed ?? parseDeltaSuperblock(bytes, url)), bytes };
  }

  /**
   * Looks for a superblock at its well-known path when nothing lists deltas (libostree does the
   * same): the parsed superblock, or null on 404/403/410.
   */
  async probeDelta(
    from: Checksum | null,
    to: Checksum,
    { signal }: { signal?: AbortSignal | undefined } = {},
  ): Promise<(DeltaSuperblock & { bytes: Uint8Array }) | null> {
    const path = deltaSuperblockPath(from, to);
    const bytes = await this.http.get(path, {
      purpose: 'superblock',
      maxBytes: MAX_SUPERBLOCK_SIZE,
      allowMissing: true,
      acceptEncoding: true,
      signal,
    });
    if (bytes === null) return null;
    return { ...parseDeltaSuperblock(bytes, this.http.resolve(path).href), bytes };
  }

  async close(): Promise<void> {
    await this.http.close();
  }
}

/**
 * The subsummary `entry` names: from the cache when unchanged; else by applying a summary delta
 * to a cached older subsummary the index lists in its history (the result must hash to the
 * index's checksum); else the whole `.gz`. Whatever was obtained is cached.
 */
async function loadSubsummary(
  http: HttpClient,
  entry: SubsummaryEntry,
  cache: SubsummaryCache | null,
  maxSize: number,
  signal: AbortSignal | undefined,
): Promise<Uint8Array> {
  if (cache !== null) {
    const hit = await cache.get(entry.checksum);
    if (hit !== null) {
      debug('subsummary %s from cache', entry.checksum);
      return hit;
    }
    for (const old of entry.history) {
      const base = await cache.get(old);
      if (base === null) continue;
      const path = summaryDeltaPath(old, entry.checksum);
      try {
        const gz = await http.get(path, { purpose: 'summary-delta', maxBytes: maxSize, allowMissing: true, signal });
        if (gz === null) break;
        const out = applySummaryDelta(base, gunzipSync(gz, { maxOutputLength: maxSize }), maxSize, http.resolve(path).href);
        if (sha256Hex(out) !== entry.checksum) throw new Error('result does not match summary.idx');
        debug('subsummary %s from summary delta %s (%d bytes)', entry.checksum, path, gz.length);
        await cache.put(entry.checksum, out);
        return out;
      } catch (err) {
        if (signal?.aborted) throw err;
        debug('summary delta %s unusable (%s): fetching the whole subsummary', path, (err as Error).message);
        break;
      }
    }
  }
  const bytes = await fetchSubsummary(http, entry.checksum, maxSize, signal);
  await cache?.put(entry.checksum, bytes);
  return bytes;
}

async function fetchSubsummary(
  http: HttpClient,
  checksum: Checksum,
  maxSize: number,
  signal: AbortSignal | undefined,
): Promise<Uint8Array> {
  const path = subsummaryPath(checksum);
  const url = http.resolve(path).href;
  const gz = await http.get(path, { purpose: 'subsummary', maxBytes: maxSize, signal });
  let bytes: Uint8Array;
  try {
    bytes = gunzipSync(gz, { maxOutputLength: maxSize });
  } catch (err) {
    throw new FlathubFetchError(
      ErrorCodes.DECOMPRESS,
      `${url}: gzip data is invalid or too large (${(err as Error).message})`,
      { what: url, format: 'gzip' },
      { cause: err },
    );
  }
  const actual = sha256Hex(bytes);
  if (actual !== checksum) {
    throw new FlathubFetchError(
      ErrorCodes.CHECKSUM_MISMATCH,
      `${url}: uncompressed SHA-256 ${actual} does not match summary.idx's ${checksum}`,
      {
        url,
        expected: checksum,
        actual,
      },
    );
  }
  return bytes;
}

function toRemoteRef(r: SummaryRef): RemoteRef {
  const eol = r.sparse.find(([k]) => k === 'eol' || k === 'xa.eol')?.[1];
  const eolr = r.sparse.find(([k]) => k === 'eolr' || k === 'xa.eolr')?.[1];
  return {
    name: r.name,
    commit: r.commit,
    collectionId: r.collectionId,
    timestamp: r.timestamp === null ? null : Number(r.timestamp),
    version: r.version,
    commitSize: Number(r.commitSize),
    downloadSize: r.flatpak === null ? null : Number(r.flatpak.downloadSize),
    installedSize: r.flatpak === null ? null : Number(r.flatpak.installedSize),
    eol: eol?.type === 's' ? (eol.value as string) : null,
    eolRebase: eolr?.type === 's' ? (eolr.value as string) : null,
    metadata: r.flatpak?.metadata ?? null,
  };
}
