/** Applies HttpClient's defaults in one place and rejects bad option values. */
import type {
  HttpClientOptions,
  ResolvedHttpClientOptions,
  RetryBudgetOptions,
  RetryOptions,
  TimeoutOptions,
} from './HttpClientOptions.js';
import { MAX_REDIRECTS } from './redirects.js';
import { sleepWithSignal } from './sleepWithSignal.js';
import { invalidArgument } from '../errors/invalidArgument.js';

/** Names these options in argument errors. */
const WHOSE = 'HttpClient option';

export const DEFAULT_USER_AGENT = 'flathub-fetch/0.1.0';

export const DEFAULT_RETRY_BUDGET: Readonly<Required<RetryBudgetOptions>> = Object.freeze({ ratio: 1, perSecond: 10, reserve: 100 });

export const DEFAULT_STALL_TIMEOUT = 120_000;

export const DEFAULT_RETRY: Readonly<ResolvedHttpClientOptions['retry']> = Object.freeze({
  retries: 5,
  minDelay: 250,
  maxDelay: 30_000,
  factor: 2,
  statuses: Object.freeze([408, 429, 500, 502, 503, 504]),
  maxRetryAfter: 60_000,
  budget: DEFAULT_RETRY_BUDGET,
});

export const DEFAULT_TIMEOUTS: Readonly<Required<TimeoutOptions>> = Object.freeze({
  connect: 15_000,
  firstByte: 30_000,
  bodyStall: 30_000,
});

/** Every option key; adding an option without handling it here is a type error. */
const OPTION_KEYS: { [K in keyof HttpClientOptions]-?: true } = {
  transport: true,
  http: true,
  connections: true,
  pipelining: true,
  maxInFlight: true,
  concurrency: true,
  onConcurrencyChange: true,
  allowHttp2: true,
  maxRedirects: true,
  retry: true,
  timeouts: true,
  stallTimeout: true,
  userAgent: true,
  onRecord: true,
  recording: true,
  random: true,
  sleep: true,
};

/** Node timers overflow past this many ms. */
const MAX_TIMER = 2 ** 31 - 1;

export function resolveHttpOptions(options: HttpClientOptions = {}): ResolvedHttpClientOptions {
  for (const key of Object.keys(options)) {
    if (!(key in OPTION_KEYS)) throw invalidArgument(key, (options as Record<string, unknown>)[key], 'unknown HttpClient option', WHOSE);
  }
  const retry: RetryOptions = typeof options.retry === 'number' ? { retries: options.retry } : (options.retry ?? {});
  const resolvedRetry: ResolvedHttpClientOptions['retry'] = {
    retries: retry.retries === Number.POSITIVE_INFINITY ? retry.retries : integer('retry.retries', retry.retries, DEFAULT_RETRY.retries, 0),
    minDelay: duration('retry.minDelay', retry.minDelay, DEFAULT_RETRY.minDelay),
    maxDelay: duration('retry.maxDelay', retry.maxDelay, DEFAULT_RETRY.maxDelay),
    factor: finite('retry.factor', retry.factor, DEFAULT_RETRY.factor, 1),
    statuses: statuses(retry.statuses),
    maxRetryAfter: duration('retry.maxRetryAfter', retry.maxRetryAfter, DEFAULT_RETRY.maxRetryAfter),
    budget: budget(retry.budget),
  };
  if (resolvedRetry.maxDelay < resolvedRetry.minDelay)
    throw invalidArgument('retry.maxDelay', resolvedRetry.maxDelay, 'smaller than retry.minDelay', WHOSE);
  const t = options.timeouts ?? {};
  const fn = <F>(name: string, v: F | undefined): F | null => {
    if (v !== undefined && typeof v !== 'function') throw invalidArgument(name, v, 'not a function', WHOSE);
    return v ?? null;
  };
  if (options.transport !== undefined && (typeof options.transport !== 'object' || typeof options.transport.request !== 'function')) {
    throw invalidArgument('transport', options.transport, 'not a Transport', WHOSE);
  }
  if (options.userAgent !== undefined && (typeof options.userAgent !== 'string' || /[\r\n]/.test(options.userAgent))) {
    throw invalidArgument('userAgent', options.userAgent, 'not a single-line string', WHOSE);
  }
  return {
    transport: options.transport ?? null,
    http: options.http ?? {},
    connections: integer('connections', options.connections, 8, 1),
    pipelining: options.pipelining === 'auto' ? 'auto' : integer('pipelining', options.pipelining, 1, 1),
    maxInFlight: integer('maxInFlight', options.maxInFlight, 16, 1),
    concurrency: oneOf('concurrency', options.concurrency, ['adaptive', 'fixed'] as const, 'adaptive'),
    onConcurrencyChange: fn('onConcurrencyChange', options.onConcurrencyChange),
    allowHttp2: options.allowHttp2 ?? true,
    maxRedirects: integer('maxRedirects', options.maxRedirects, MAX_REDIRECTS, 0),
    retry: resolvedRetry,
    timeouts: {
      connect: duration('timeouts.connect', t.connect, DEFAULT_TIMEOUTS.connect),
      firstByte: duration('timeouts.firstByte', t.firstByte, DEFAULT_TIMEOUTS.firstByte),
      bodyStall: duration('timeouts.bodyStall', t.bodyStall, DEFAULT_TIMEOUTS.bodyStall),
    },
    stallTimeout: duration('stallTimeout', options.stallTimeout, DEFAULT_STALL_TIMEOUT),
    userAgent: options.userAgent ?? DEFAULT_USER_AGENT,
    onRecord: fn('onRecord', options.onRecord),
    recording: options.recording ?? true,
    random: fn('random', options.random) ?? Math.random,
    sleep: fn('sleep', options.sleep) ?? sleepWithSignal,
  };
}

function oneOf<T extends string>(name: string, v: T | undefined, allowed: readonly T[], d: T): T {
  const x = v ?? d;
  if (!allowed.includes(x)) throw invalidArgument(name, v, `not one of ${allowed.join(', ')}`, WHOSE);
  return x;
}

function integer(name: string, v: number | undefined, d: number, min: number): number {
  const x = v ?? d;
  if (!Number.isSafeInteger(x) || x < min) throw invalidArgument(name, v, `not an integer ≥ ${min}`, WHOSE);
  return x;
}

function finite(name: string, v: number | undefined, d: number, min: number): number {
  const x = v ?? d;
  if (typeof x !== 'number' || !Number.isFinite(x) || x < min) throw invalidArgument(name, v, `not a finite number ≥ ${min}`, WHOSE);
  return x;
}

function duration(name: string, v: number | undefined, d: number): number {
  const x = v ?? d;
  if (typeof x !== 'number' || !Number.isFinite(x) || x < 0 || x > MAX_TIMER)
    throw invalidArgument(name, v, `not a duration in ms (0 … ${MAX_TIMER})`, WHOSE);
  return x;
}

function budget(v: RetryBudgetOptions | undefined): Required<RetryBudgetOptions> {
  if (v === undefined) return DEFAULT_RETRY_BUDGET;
  if (v === null || typeof v !== 'object') throw invalidArgument('retry.budget', v, 'not an object { ratio, perSecond, reserve }', WHOSE);
  const d = DEFAULT_RETRY_BUDGET;
  const perSecond = finite('retry.budget.perSecond', v.perSecond, d.perSecond, 0);
  if (perSecond <= 0)
    throw invalidArgument('retry.budget.perSecond', perSecond, 'not > 0 (a budget that never refills could wait forever)', WHOSE);
  return {
    ratio: finite('retry.budget.ratio', v.ratio, d.ratio, 0),
    perSecond,
    reserve: finite('retry.budget.reserve', v.reserve, d.reserve, 0),
  };
}

function statuses(v: readonly number[] | undefined): readonly number[] {
  if (v === undefined) return DEFAULT_RETRY.statuses;
  if (!Array.isArray(v) || v.some((s) => !Number.isInteger(s) || s < 100 || s > 599))
    throw invalidArgument('retry.statuses', v, 'not a list of HTTP statuses', WHOSE);
  const missing = v.filter((s) => s === 403 || s === 404 || s === 410);
  if (missing.length > 0) throw invalidArgument('retry.statuses', v, '403, 404 and 410 mean "missing" and are never retried', WHOSE);
  return Object.freeze([...v]);
}
