/**
 * `startExporter()`: an HTTP server in blackbox_exporter's conventions. `GET /probe?target=URL&module=NAME`
 * runs the module against the target and answers Prometheus text (`probe_success`,
 * `probe_duration_seconds`, the module's metrics); `GET /metrics` is the exporter's own health;
 * `GET /-/healthy` answers OK. Safe to expose: a target must be an http(s) URL under the
 * module's configured prefixes (403 otherwise) and every request of the probe, redirects
 * included, stays there; at most `concurrency` probes run and `queue` wait (503 beyond); the
 * query is at most 4 KiB with one `target` and one `module`; a probe's deadline is Prometheus'
 * `X-Prometheus-Scrape-Timeout-Seconds` minus a margin, capped by the module's `timeout`, and
 * counts from the request's arrival (queueing included). A probe whose scraper hung up is aborted.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { USER_AGENT } from '../http/HttpClient.js';
import type { ExporterConfig, ExporterModule } from './ExporterConfig.js';
import { ExporterStats, exporterMetrics } from './exporterMetrics.js';
import { type ProbeOutcome, runProbe } from './probes.js';
import { allowedTarget, targetProblem } from './targets.js';
import { abortError } from '../errors/abortError.js';

/** Subtracted from Prometheus' scrape timeout so the answer arrives before Prometheus gives up, seconds. */
export const TIMEOUT_MARGIN_SECONDS = 0.5;
const MAX_URL = 4096;
const TEXT = 'text/plain; version=0.0.4; charset=utf-8';

export type ExporterEvent =
  | {
      type: 'probe';
      module: string;
      target: string;
      success: boolean;
      failure: string | null;
      message: string | null;
      durationSeconds: number;
    }
  | { type: 'rejected'; status: number; reason: string; message: string };

export interface ExporterOptions {
  /** Address to listen on. @default '127.0.0.1' */
  host?: string;
  /** Port; 0 picks a free one (see `ExporterHandle.url`). */
  port: number;
  onEvent?: (event: ExporterEvent) => void;
  /** Closes the server when aborted. */
  signal?: AbortSignal | undefined;
}

export interface ExporterHandle {
  /** `http://host:port/` the server listens on. */
  url: string;
  /** Stops accepting, aborts running probes, resolves when closed. */
  close(): Promise<void>;
}

export async function startExporter(config: ExporterConfig, options: ExporterOptions): Promise<ExporterHandle> {
  const stats = new ExporterStats();
  const onEvent = options.onEvent ?? (() => {});
  const running = new Set<AbortController>();
  const waiting: Array<() => void> = [];
  const maxSeconds = Math.max(...[...config.modules.values()].map((m) => m.timeout));

  const reply = (res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}) => {
    res.writeHead(status, {
      'content-type': status === 200 ? TEXT : 'text/plain; charset=utf-8',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      ...headers,
    });
    res.end(body);
  };
  // Messages quote what the client sent with JSON.stringify: no control characters reach a log or terminal.
  const reject = (res: ServerResponse, status: number, reason: string, message: string, headers: Record<string, string> = {}) => {
    stats.reject(reason);
    onEvent({ type: 'rejected', status, reason, message });
    reply(res, status, `${message}\n`, headers);
  };

  /** Takes a slot, waiting in the queue for one; false when `signal` aborted first. A freed slot passes straight to the next waiter. */
  const acquire = async (signal: AbortSignal): Promise<boolean> => {
    if (stats.inFlight < config.concurrency) {
      stats.inFlight++;
      return true;
    }
    stats.queued++;
    try {
      await new Promise<void>((resolve, rejectWait) => {
        const go = () => {
          signal.removeEventListener('abort', gone);
          resolve();
        };
        const gone = () => {
          const i = waiting.indexOf(go);
          if (i >= 0) waiting.splice(i, 1);
          rejectWait(signal.reason);
        };
        waiting.push(go);
        signal.addEventListener('abort', gone, { once: true });
      });
      return true;
    } catch {
      return false;
    } finally {
      stats.queued--;
    }
  };
  const release = () => {
    const next = waiting.shift();
    if (next !== undefined) next();
    else stats.inFlight--;
  };

  const probe = async (req: IncomingMessage, res: ServerResponse, query: URLSearchParams) => {
    const targets = query.getAll('target');
    const modules = query.getAll('module');
    if (targets.length !== 1 || modules.length !== 1)
      return reject(res, 400, 'bad_request', 'expected exactly one target and one module parameter');
    const [target, moduleName] = [targets[0] as string, modules[0] as string];
    const module: ExporterModule | undefined = config.modules.get(moduleName);
    if (module === undefined)
      return reject(
        res,
        400,
        'bad_request',
        `unknown module ${JSON.stringify(moduleName)} (configured: ${[...config.modules.keys()].join(', ')})`,
      );
    const problem = targetProblem(target);
    if (problem !== null) return reject(res, 400, 'bad_request', `target ${JSON.stringify(target)}: ${problem}`);
    const allowed = allowedTarget(target, module.targets);
    if (allowed === null)
      return reject(res, 403, 'not_allowed', `target ${JSON.stringify(target)} is not allowed for module "${moduleName}"`);
    if (stats.inFlight >= config.concurrency && stats.queued >= config.queue)
      return reject(res, 503, 'queue_full', `${stats.inFlight} probes running and ${stats.queued} waiting; try later`, {
        'retry-after': '5',
      });

    const seconds = deadlineSeconds(req.headers['x-prometheus-scrape-timeout-seconds'], module.timeout);
    const ac = new AbortController();
    running.add(ac);
    const timer = setTimeout(() => ac.abort(abortError(`probe deadline of ${seconds} s reached`, { url: allowed })), seconds * 1000);
    const hangUp = () => {
      if (!res.writableFinished) ac.abort(abortError('the scraper closed the connection', { url: allowed }));
    };
    res.once('close', hangUp);
    let outcome: ProbeOutcome;
    try {
      if (!(await acquire(ac.signal))) {
        outcome = await runProbe(module, allowed, { signal: ac.signal }); // deadline reached while queued: probe_success 0 at once
      } else {
        try {
          outcome = await runProbe(module, allowed, { signal: ac.signal });
        } finally {
          release();
        }
      }
    } finally {
      clearTimeout(timer);
      running.delete(ac);
      res.off('close', hangUp);
    }
    stats.probeDone(moduleName, outcome.success, outcome.durationSeconds);
    onEvent({ type: 'probe', module: moduleName, target: allowed, ...outcome });
    if (!res.destroyed) reply(res, 200, outcome.text);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const raw = req.url ?? '/';
    if (raw.length > MAX_URL) return reject(res, 414, 'bad_request', `request target longer than ${MAX_URL} characters`);
    if (req.method !== 'GET' && req.method !== 'HEAD')
      return reject(res, 405, 'method', `method ${req.method} not allowed`, { allow: 'GET, HEAD' });
    let url: URL;
    try {
      url = new URL(raw, 'http://exporter.invalid');
    } catch {
      return reject(res, 400, 'bad_request', 'unparsable request target');
    }
    switch (url.pathname) {
      case '/probe':
        if (req.method !== 'GET') return reject(res, 405, 'method', 'a probe is run by GET only', { allow: 'GET' });
        return probe(req, res, url.searchParams);
      case '/metrics':
        return reply(res, 200, exporterMetrics(stats, [...config.modules.keys()], USER_AGENT.split('/')[1] ?? 'unknown'));
      case '/-/healthy':
        return reply(res, 200, 'OK\n');
      case '/':
        return reply(res, 200, `flathub-fetch exporter\n\n/probe?target=URL&module=${[...config.modules.keys()].join('|')}\n/metrics\n`);
      default:
        return reject(res, 404, 'not_found', `no such path ${url.pathname}`);
    }
  };

  // Not a static import: an ES module importing `node:http` makes Node.js evaluate every export
  // of it, its bundled fetch implementation included, in every process that loads the library.
  const { createServer } = process.getBuiltinModule('node:http');
  const server: Server = createServer(
    { maxHeaderSize: 16 * 1024, requestTimeout: (maxSeconds + 30) * 1000, headersTimeout: 10_000 },
    (req, res) => {
      handle(req, res).catch((err: unknown) => {
        if (!res.headersSent) reply(res, 500, `internal error: ${(err as Error).message}\n`);
        else res.destroy();
      });
    },
  );
  server.maxHeadersCount = 100;
  await new Promise<void>((resolve, rejectListen) => {
    server.once('error', rejectListen);
    server.listen(options.port, options.host ?? '127.0.0.1', () => {
      server.off('error', rejectListen);
      resolve();
    });
  });
  const a = server.address() as AddressInfo;
  const host = a.family === 'IPv6' ? `[${a.address}]` : a.address;
  let closed: Promise<void> | null = null;
  const close = () => {
    closed ??= new Promise<void>((resolve) => {
      for (const ac of running) ac.abort(abortError('exporter shutting down'));
      server.close(() => resolve());
      server.closeIdleConnections();
    });
    return closed;
  };
  options.signal?.addEventListener('abort', () => void close(), { once: true });
  return { url: `http://${host}:${a.port}/`, close };
}

/** Prometheus' scrape timeout minus the margin (half of it when shorter than the margin), capped by the module's timeout. */
export function deadlineSeconds(header: string | string[] | undefined, moduleTimeout: number): number {
  const v = Array.isArray(header) ? header[0] : header;
  const scrape = v === undefined ? Number.NaN : Number(v);
  if (!Number.isFinite(scrape) || scrape <= 0) return moduleTimeout;
  const budget = scrape > TIMEOUT_MARGIN_SECONDS * 2 ? scrape - TIMEOUT_MARGIN_SECONDS : scrape / 2;
  return Math.min(moduleTimeout, budget);
}
