/**
 * Options of `pull()`, each with its default, resolved in one place (`resolvePullOptions`).
 */
import type { HttpClientOptions } from '../http/HttpClientOptions.js';
import { resolveHttpOptions } from '../http/resolveHttpOptions.js';
import type { Transport } from '../http/Transport.js';
import { WRITABLE_REPO_MODES, type WritableRepoMode } from '../repo/LocalRepo.js';
import type { GpgKeyInput } from '../trust/GpgKeyring.js';
import type { PullEvent } from './PullEvent.js';
import type { XzDecoderChoice } from '../formats/xzDecoders.js';
import { invalidArgument } from '../errors/invalidArgument.js';

export type DeltaPolicy = 'prefer' | 'never' | 'require';

/** The HTTP options of a pull (`PullOptions.http`): the client's, less what the pull sets itself. */
export type PullHttpOptions = Omit<HttpClientOptions, 'transport' | 'onRecord'>;

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
  /**
   * xz decoder for delta parts: the system's `xz` program (XZ Utils) when found, else the
   * WebAssembly decoder ('auto'); 'wasm' never runs a program. The result's `decoders` says which
   * ran. @default 'auto'
   */
  xzDecoder?: XzDecoderChoice;
  /**
   * Delta parts downloaded and decoded at once, and parts applied at once (bounds memory: a part
   * being applied holds its op tables and a few windows of its data; a decoded one waiting to be
   * applied, its decoder's temporary file). @default 2
   */
  partConcurrency?: number;
  /** Architecture for Flatpak summary.idx subsummaries. @default this machine's */
  arch?: string;
  /** Fetch every alternative's superblock to price the plan exactly (the `plan` command does). @default false */
  fullPlan?: boolean;
  /** Cost model used to compare alternatives: assumed bandwidth (bytes/s) and round trip (ms). @default 6_250_000 and 50 */
  costModel?: { bandwidth?: number; rttMs?: number };
  /**
   * The HTTP client's options (see `HttpClientOptions`: connections, timeouts, retry policy,
   * HTTP/2, stall window…), with the pull's own defaults where they differ from the client's:
   *
   * - `maxInFlight` (HTTP requests in flight at once) @default 128. Object pulls are round-trip
   *   bound: over HTTP/2 (TLS, when the server offers it) requests are multiplexed on the
   *   connections; over HTTP/1.1 each connection carries `pipelining` of them and the rest wait
   *   in the client's queue (no timer runs there). Adaptive concurrency lowers it when the
   *   server signals overload.
   * - `pipelining` @default 'auto': an origin's connections start with one request at a time
   *   and pipeline up to 16 object GETs once it has answered 4 of them promptly on kept-alive
   *   connections; a first byte later than 1 s (from when the server could start on the request:
   *   waiting behind a large body is not slowness) or a failure below HTTP sends the origin back
   *   to one request at a time for a cool-down (1 s, doubling while strikes follow, at most 30 s),
   *   then to the same probation. Summaries, superblocks, delta parts, fallbacks and responses
   *   declaring 1 MiB or more never have requests queued behind them. A number fixes the depth
   *   for every request (1: never pipeline). HTTP/2 multiplexes instead.
   * - `retry` (a number is the retries per request) @default retries: Infinity — a request is
   *   retried for as long as the pull makes progress: retries are paced by the retry budget and
   *   backoff, and the pull fails on a permanent error (a required object missing, a corrupt
   *   body that repeats, a bad signature) or when nothing arrives for `stallTimeout` (the
   *   stall window, ms, @default 120_000; 0 disables). Until the server has answered once,
   *   a refused, unresolvable or timed-out connection gets at most 5 retries: a server that
   *   never answered is down or the URL is wrong, not slow.
   *
   * Validated once, by the HTTP client's rules (`resolveHttpOptions`).
   */
  http?: PullHttpOptions;
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
  /** `http` with the pull's defaults applied (the HTTP client resolves the rest). */
  http: PullHttpOptions;
  /** The HTTP requests in flight at once (`http.maxInFlight` resolved): the object fetcher's and the planner's parallelism. */
  maxInFlight: number;
  transport: Transport | undefined;
  signal: AbortSignal | undefined;
  onEvent: (event: PullEvent) => void;
  arch: string | undefined;
  costModel: { bandwidth: number; rttMs: number };
};

/** Every option key; adding an option without listing it here is a type error. */
const OPTION_KEYS: { [K in keyof PullOptions]-?: true } = {
  url: true,
  ref: true,
  repo: true,
  repoMode: true,
  remote: true,
  deltas: true,
  xzDecoder: true,
  partConcurrency: true,
  arch: true,
  fullPlan: true,
  costModel: true,
  http: true,
  transport: true,
  verify: true,
  gpgKeys: true,
  subpaths: true,
  signal: true,
  onEvent: true,
};
/** HTTP options that were once top-level pull options: named in the error for them. */
const HTTP_KEYS = new Set(['connections', 'maxInFlight', 'pipelining', 'retries', 'retry', 'stallTimeout', 'timeouts']);

export function resolvePullOptions(o: PullOptions): ResolvedPullOptions {
  for (const key of Object.keys(o)) {
    if (key in OPTION_KEYS) continue;
    const value = (o as unknown as Record<string, unknown>)[key];
    if (HTTP_KEYS.has(key)) throw invalidArgument(key, value, `an HTTP option: pass it as http.${key === 'retries' ? 'retry' : key}`);
    throw invalidArgument(key, value, 'unknown pull option');
  }
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
  const http = pullHttpOptions(o.http ?? {});
  if (subpaths !== null && deltas === 'require') throw invalidArgument('deltas', deltas, 'a subpath pull fetches objects, not deltas');
  return {
    subpaths,
    url: o.url,
    ref: o.ref,
    repo: o.repo,
    repoMode: o.repoMode,
    remote: o.remote === undefined ? 'origin' : o.remote,
    deltas: subpaths === null ? deltas : 'never',
    http,
    maxInFlight: resolveHttpOptions(http).maxInFlight,
    partConcurrency: positive('partConcurrency', o.partConcurrency, 2),
    xzDecoder: xzDecoderChoice(o.xzDecoder),
    fullPlan: o.fullPlan ?? false,
    verify,
    gpgKeys,
    costModel: { bandwidth: o.costModel?.bandwidth ?? 6_250_000, rttMs: o.costModel?.rttMs ?? 50 },
    arch: o.arch,
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

/** The pull's HTTP defaults where they differ from the client's (see `PullOptions.http`). */
function pullHttpOptions(h: PullHttpOptions): PullHttpOptions {
  const retry: PullHttpOptions['retry'] =
    h.retry === undefined
      ? Number.POSITIVE_INFINITY
      : typeof h.retry === 'number'
        ? h.retry
        : { ...h.retry, retries: h.retry.retries ?? Number.POSITIVE_INFINITY };
  return { ...h, maxInFlight: h.maxInFlight ?? 128, pipelining: h.pipelining ?? 'auto', retry };
}

/** `/files/de/` → `/files/de`; relative paths, `.`/`..` components and an empty list's elements are refused. */
function normaliseSubpath(p: unknown): string {
  if (typeof p !== 'string' || !p.startsWith('/'))
    throw invalidArgument('subpaths', p, 'each subpath must be an absolute path such as /files/de');
  const parts = p.split('/').filter((x) => x !== '');
  if (parts.some((x) => x === '.' || x === '..')) throw invalidArgument('subpaths', p, 'no . or .. components');
  return `/${parts.join('/')}`;
}
