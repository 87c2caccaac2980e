/**
 * Options of `pull()`, each with its default, resolved in one place (`resolvePullOptions`).
 */
import type { HttpClientOptions } from '../http/HttpClientOptions.js';
import type { Transport } from '../http/Transport.js';
import { WRITABLE_REPO_MODES, type WritableRepoMode } from '../repo/LocalRepo.js';
import type { GpgKeyInput } from '../trust/GpgKeyring.js';
import type { PullEvent } from './PullEvent.js';
import type { XzDecoderChoice } from '../formats/xzDecoders.js';
import { invalidArgument } from '../errors/invalidArgument.js';

export type DeltaPolicy = 'prefer' | 'never' | 'require';

export interface PullOptions {
  /** Remote repository URL (http, https or file). */
  url: string;
  /** Ref to pull, `REF@COMMIT` for an older commit, or a 64-hex commit. */
  ref: string;
  /** Local repository directory (created in `repoMode` when missing). */
  repo: string;
  /**
   * Mode of the local repository: `archive` (archive-z2, compressed `.filez`, servable as a
   * remote) or `bare-user-only` (plain files, Flatpak's mode for per-user installations: no
   * compression, so a delta pull needs ~1/3 less CPU; objects owned by anyone but 0:0, with
   * xattrs or with permission bits outside 0775 are refused with ERR_UNSUPPORTED_OBJECT). A
   * missing repository is created in this mode; an existing one must be in it when it is given.
   * @default the existing repository's mode, else 'archive'
   */
  repoMode?: WritableRepoMode;
  /** Remote name: the ref is written to refs/remotes/<remote>/<ref>; null writes refs/heads/<ref> (mirror). @default 'origin' */
  remote?: string | null;
  /** Static deltas: prefer them, never use them, or fail without one. @default 'prefer' */
  deltas?: DeltaPolicy;
  /** Connections per origin. @default 8 */
  connections?: number;
  /**
   * HTTP requests in flight at once. Object pulls are round-trip bound: over HTTP/2 (TLS, when
   * the server offers it) they are multiplexed on the connections; over HTTP/1.1 each connection
   * carries `pipelining` of them and the rest wait in the client's queue (no timer runs
   * there). 128: at 64, a no-delta pull over HTTP/2 with 20 ms RTT was bound by it (2.7–3.1 s
   * vs 2.0–2.2 s at 128; 192 and 256 gained nothing more — BENCHMARKS.md, "pull"); adaptive
   * concurrency lowers it when the server signals overload. @default 128
   */
  maxInFlight?: number;
  /**
   * HTTP/1.1 pipelining of object requests. `'auto'`: an origin's connections start with one
   * request at a time and pipeline up to 16 object GETs once it has answered 4 of them promptly
   * on kept-alive connections; a first byte later than 1 s or a failure below HTTP turns it off
   * for that origin for the rest of the pull (a pipelined request waits behind the one before
   * it, so a slow first byte — a cache fetching from a busy origin — would delay the requests
   * queued behind it). Summaries, superblocks and delta parts never have requests queued behind
   * them. With a plain-HTTP server that answers promptly it makes a no-delta pull ~4× faster
   * (BENCHMARKS.md, "pull"). A number fixes the depth for every request (1: never pipeline).
   * HTTP/2 connections multiplex instead, whatever this is. @default 'auto'
   */
  pipelining?: number | 'auto';
  /**
   * xz decoder for delta parts: the system's `xz` program (XZ Utils) when found, else the
   * WebAssembly decoder ('auto'); 'wasm' never runs a program. The result's `decoders` says which
   * ran. @default 'auto'
   */
  xzDecoder?: XzDecoderChoice;
  /** Delta parts downloaded and applied at once (bounds memory: each part is held while applied). @default 2 */
  partConcurrency?: number;
  /**
   * Retries per request for transient failures. By default a request is retried for as long as
   * the pull makes progress: retries are paced by the HTTP client's retry budget (`http.retry.budget`:
   * one per successful request plus 10 a second) and backoff, and the pull fails on a permanent
   * error (a required object missing, a corrupt body that repeats, a bad signature) or when
   * nothing arrives for `stallTimeout`. @default Infinity
   */
  retries?: number;
  /**
   * The stall window, ms: the pull fails with ERR_STALLED when requests are pending and nothing
   * has been received or verified for this long (a server down for good); a shorter outage is
   * ridden out. 0 disables. @default 120_000
   */
  stallTimeout?: number;
  /** Architecture for Flatpak summary.idx subsummaries. @default this machine's */
  arch?: string;
  /** Fetch every alternative's superblock to price the plan exactly (the `plan` command does). @default false */
  fullPlan?: boolean;
  /** Cost model used to compare alternatives: assumed bandwidth (bytes/s) and round trip (ms). @default 6_250_000 and 50 */
  costModel?: { bandwidth?: number; rttMs?: number };
  /** Further HTTP client options (timeouts, retry policy, HTTP/2); `connections`, `maxInFlight`, `pipelining`, `retries` and `stallTimeout` above take precedence. */
  http?: Omit<HttpClientOptions, 'transport' | 'onRecord'>;
  transport?: Transport;
  /**
   * Require good OpenPGP signatures on the summary (summary.sig, or summary.idx.sig) and on the
   * commit (.commitmeta) from a key in `gpgKeys`, before anything else is downloaded; otherwise
   * fail with ERR_SIGNATURE. @default false
   */
  verify?: boolean;
  /** Public keys for `verify`: binary, ASCII-armored, or base64 (a .flatpakrepo's GPGKey). Required with `verify`. @default [] */
  gpgKeys?: GpgKeyInput[];
  /**
   * Fetch only these paths of the commit's tree (absolute, like `ostree pull --subpath`:
   * `/metadata`, `/files/de`): the dirtrees on the way to them and everything beneath them.
   * Static deltas are not used (a delta carries the whole commit; flatpak disables them for
   * such pulls too) and the commit stays marked partial, as libostree leaves it, so a later
   * full pull completes it. @default the whole tree
   */
  subpaths?: string[];
  signal?: AbortSignal | undefined;
  onEvent?: (event: PullEvent) => void;
}

export type ResolvedPullOptions = Required<
  Omit<PullOptions, 'transport' | 'signal' | 'onEvent' | 'arch' | 'costModel' | 'http' | 'repoMode' | 'subpaths'>
> & {
  /** Normalised subpaths (no trailing `/`), or null for the whole tree. */
  subpaths: string[] | null;
  repoMode: WritableRepoMode | undefined;
  http: Omit<HttpClientOptions, 'transport' | 'onRecord'>;
  transport: Transport | undefined;
  signal: AbortSignal | undefined;
  onEvent: (event: PullEvent) => void;
  arch: string | undefined;
  costModel: { bandwidth: number; rttMs: number };
};

export function resolvePullOptions(o: PullOptions): ResolvedPullOptions {
  const positive = (name: string, v: number | undefined, d: number): number => {
    const x = v ?? d;
    if (!Number.isInteger(x) || x < 1) throw invalidArgument(name, v, 'not a positive integer');
    return x;
  };
  if (typeof o.url !== 'string' || o.url === '') throw invalidArgument('url', o.url, 'required');
  if (typeof o.ref !== 'string' || o.ref === '') throw invalidArgument('ref', o.ref, 'required');
  if (typeof o.repo !== 'string' || o.repo === '') throw invalidArgument('repo', o.repo, 'required');
  const deltas = o.deltas ?? 'prefer';
  if (!['prefer', 'never', 'require'].includes(deltas)) throw invalidArgument('deltas', deltas, 'expected prefer, never or require');
  if (o.repoMode !== undefined && !WRITABLE_REPO_MODES.includes(o.repoMode)) {
    throw invalidArgument('repoMode', o.repoMode, `expected ${WRITABLE_REPO_MODES.join(' or ')}`);
  }
  const verify = o.verify ?? false;
  const gpgKeys = o.gpgKeys ?? [];
  if (verify && gpgKeys.length === 0) throw invalidArgument('gpgKeys', 'none', 'verify needs at least one public key');
  // `/` is the whole tree (libostree would match nothing below the root with it).
  const listed = o.subpaths === undefined ? null : o.subpaths.map(normaliseSubpath);
  const subpaths = listed === null || listed.includes('/') ? null : listed;
  if (subpaths !== null && deltas === 'require') throw invalidArgument('deltas', deltas, 'a subpath pull fetches objects, not deltas');
  return {
    subpaths,
    url: o.url,
    ref: o.ref,
    repo: o.repo,
    repoMode: o.repoMode,
    remote: o.remote === undefined ? 'origin' : o.remote,
    deltas: subpaths === null ? deltas : 'never',
    connections: positive('connections', o.connections, 8),
    maxInFlight: positive('maxInFlight', o.maxInFlight, 128),
    pipelining: o.pipelining === 'auto' || o.pipelining === undefined ? 'auto' : positive('pipelining', o.pipelining, 1),
    partConcurrency: positive('partConcurrency', o.partConcurrency, 2),
    xzDecoder: xzDecoderChoice(o.xzDecoder),
    retries: retries(o.retries),
    stallTimeout: stallTimeout(o.stallTimeout ?? o.http?.stallTimeout),
    fullPlan: o.fullPlan ?? false,
    verify,
    gpgKeys,
    costModel: { bandwidth: o.costModel?.bandwidth ?? 6_250_000, rttMs: o.costModel?.rttMs ?? 50 },
    arch: o.arch,
    http: o.http ?? {},
    transport: o.transport,
    signal: o.signal,
    onEvent: o.onEvent ?? (() => {}),
  };
}

function xzDecoderChoice(v: XzDecoderChoice | undefined): XzDecoderChoice {
  const choice = v ?? 'auto';
  if (!['auto', 'xz', 'wasm'].includes(choice)) throw invalidArgument('xzDecoder', v, 'expected auto, xz or wasm');
  return choice;
}

function retries(v: number | undefined): number {
  if (v === undefined || v === Number.POSITIVE_INFINITY) return Number.POSITIVE_INFINITY;
  if (!Number.isSafeInteger(v) || v < 0) throw invalidArgument('retries', v, 'not an integer ≥ 0 or Infinity');
  return v;
}

function stallTimeout(v: number | undefined): number {
  if (v === undefined) return 120_000;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > 2 ** 31 - 1)
    throw invalidArgument('stallTimeout', v, 'not a duration in ms');
  return v;
}

/** `/files/de/` → `/files/de`; relative paths, `.`/`..` components and an empty list's elements are refused. */
function normaliseSubpath(p: unknown): string {
  if (typeof p !== 'string' || !p.startsWith('/'))
    throw invalidArgument('subpaths', p, 'each subpath must be an absolute path such as /files/de');
  const parts = p.split('/').filter((x) => x !== '');
  if (parts.some((x) => x === '.' || x === '..')) throw invalidArgument('subpaths', p, 'no . or .. components');
  return `/${parts.join('/')}`;
}
