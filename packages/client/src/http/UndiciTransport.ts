/**
 * The default transport: an undici Agent (a keep-alive pool per origin, HTTP/2 over TLS when the
 * server offers it by ALPN, optional HTTP/1.1 pipelining), with a connector that observes each new
 * connection and diagnostics_channel subscribers that report each request's wire events to its
 * TransportTrace.
 */
import type { ConnectionOptions } from 'node:tls';
import createDebug from 'debug';
import type { TLSSocket } from 'node:tls';
import type { Agent, buildConnector, Client, Dispatcher, Pool } from 'undici';
import { Agent as AgentImpl, Client as ClientImpl, Pool as PoolImpl } from './undiciParts.js';
import { AdaptivePipelining } from './AdaptivePipelining.js';
import { ConnectionRegistry } from './ConnectionRegistry.js';
import type { PipelinedConnection } from './PipelinedConnection.js';
import { tracingConnector } from './tracingConnector.js';
import type { Transport, TransportRequest, TransportResponse } from './Transport.js';
import { UndiciExchange } from './UndiciExchange.js';
import { UndiciTraceBinder } from './UndiciTraceBinder.js';

const debug = createDebug('flathub-fetch:http');

/** Concurrent streams per HTTP/2 connection when undici's `maxConcurrentStreams` is not set (its own default). */
const H2_STREAMS = 100;
/**
 * HTTP/2 flow-control windows we grant the server, per stream and per connection. undici's
 * defaults (256 KiB and 512 KiB) cap a stream at window ÷ RTT: 12.8 MB/s at 20 ms, so a 12 MB
 * object or an 11 MB delta part crawled at a third of a 400 Mbit/s link (a fresh delta pull over
 * HTTPS took 3.0 s instead of 2.0 s; BENCHMARKS.md, "pull"). These cover a 100 ms × 300 Mbit/s
 * bandwidth-delay product (curl grants 10 MiB per stream). A stream paused by its consumer's
 * backpressure goes on receiving up to its stream window, held in memory; Node.js credits the
 * connection's window as data arrives, so that one does not bound paused streams: what they
 * hold is the stream window times the paused bodies (in a delta pull, at most its part slots
 * plus ObjectFetcher's LARGE_AT_ONCE fallbacks; a walk's files are mostly small and read as
 * they arrive).
 */
const H2_STREAM_WINDOW = 4 * 1024 * 1024;
const H2_CONNECTION_WINDOW = 32 * 1024 * 1024;

const CLOSE = /\bclose\b/i;
/** Dispatch options carry their exchange to the undici Client the pool picks (undici passes the options object through). */
const EXCHANGE = Symbol('exchange');
type ExchangeOptions = Dispatcher.DispatchOptions & { [EXCHANGE]?: UndiciExchange };
/**
 * Depth of `pipelining: 'auto'` once an origin has shown it answers promptly. With 8 connections
 * that is 128 requests in flight, about what a 400 Mbit/s, 20 ms link holds of 8 KB objects:
 * the no-delta pull of the benchmark took 1.69 s at 16 against 2.05 s at 8 (32: 1.63 s, for
 * twice the requests stuck behind a slow response).
 */
export const AUTO_PIPELINING_DEPTH = 16;

export interface UndiciTransportOptions {
  /** Connections per origin (libostree uses 8). @default 8 */
  connections?: number;
  /**
   * Requests pipelined per HTTP/1.1 connection; undici stops pipelining on a connection the
   * server does not keep alive. An HTTP/2 connection carries as many concurrent streams as the
   * server allows, whatever this is (undici would otherwise cap its streams at this depth, and
   * 1 would make HTTP/2 no better than one request per connection). `'auto'`: up to
   * {@link AUTO_PIPELINING_DEPTH}, once the origin has answered promptly on kept-alive
   * connections, one at a time again for a cool-down after a slow first byte or a failure (see
   * AdaptivePipelining); only requests marked `pipelinable` are queued behind others, and not
   * behind a large body (PipelinedConnection). @default 1
   */
  pipelining?: number | 'auto';
  /**
   * With `pipelining: 'auto'`: how long (ms) an origin's connections carry one request at a time
   * after a failure or a slow first byte, before they try pipelining again (doubling while
   * strikes follow soon after, up to 30 s). @default 1000
   */
  pipeliningCoolDown?: number;
  /** Offer HTTP/2 by ALPN on TLS connections. @default true */
  allowH2?: boolean;
  /** HTTP/2 flow-control window per stream, bytes. @default 4 MiB */
  http2StreamWindow?: number;
  /** HTTP/2 flow-control window per connection, bytes. @default 32 MiB */
  http2ConnectionWindow?: number;
  /** TCP connect plus TLS handshake, ms; 0 disables. @default 15000 */
  connectTimeout?: number;
  /** From writing the request to the response headers, ms (a request's `timeouts.firstByte` overrides it); 0 disables. @default 30000 */
  headersTimeout?: number;
  /** Longest pause between body chunks, ms (a request's `timeouts.bodyStall` overrides it); 0 disables. @default 30000 */
  bodyTimeout?: number;
  /** Idle time before a kept-alive connection is closed, ms (a server's Keep-Alive hint can shorten it). @default 30000 */
  keepAliveTimeout?: number;
  /** TLS options for new connections (e.g. `ca` for a private CA). @default {} */
  tls?: ConnectionOptions;
}

export class UndiciTransport implements Transport {
  readonly enforcesTimeouts = true;
  readonly #agent: Agent;
  readonly #registry = new ConnectionRegistry();
  readonly #pipelining: number;
  readonly #adaptive: AdaptivePipelining | null;
  /** Origins whose last HTTP/1.1 response kept the connection alive (pipelining is used only for them). */
  readonly #keepsAlive = new Set<string>();
  #closed = false;

  constructor(options: UndiciTransportOptions = {}) {
    const allowH2 = options.allowH2 ?? true;
    const auto = options.pipelining === 'auto';
    this.#adaptive = auto ? new AdaptivePipelining(AUTO_PIPELINING_DEPTH, options.pipeliningCoolDown) : null;
    if (this.#adaptive !== null)
      this.#adaptive.onChange = (e) =>
        debug(
          'pipelining %s: %s%s%s',
          e.origin,
          e.kind,
          e.ms === null ? '' : ` for ${e.ms} ms`,
          e.cause === null ? '' : ` after ${e.cause}`,
        );
    this.#pipelining = auto ? 1 : ((options.pipelining as number | undefined) ?? 1);
    const pipelining = this.#pipelining;
    const adaptive = this.#adaptive;
    this.#agent = new AgentImpl({
      connections: options.connections ?? 8,
      initialWindowSize: options.http2StreamWindow ?? H2_STREAM_WINDOW,
      connectionWindowSize: options.http2ConnectionWindow ?? H2_CONNECTION_WINDOW,
      pipelining,
      // Per connection, once the protocol is negotiated: `pipelining` for HTTP/1.1, concurrent
      // streams for HTTP/2 (undici caps both with one `pipelining` figure; with 1, HTTP/2 would
      // carry one request at a time). The connector's callback sees the ALPN result first.
      factory: (origin, poolOptions) =>
        new PoolImpl(origin, {
          ...(poolOptions as Pool.Options),
          factory: (o, options) => {
            const clientOptions = options as Client.Options;
            const connect = clientOptions.connect as buildConnector.connector;
            const streams = clientOptions.maxConcurrentStreams ?? H2_STREAMS;
            const originKey = new URL(String(o)).origin;
            let conn: PipelinedConnection | null = null;
            const client: Client = new (class extends ClientImpl {
              override dispatch(opts: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
                const exchange = (opts as ExchangeOptions)[EXCHANGE];
                if (exchange !== undefined) exchange.connection = conn;
                return super.dispatch(opts, handler);
              }
            })(o, {
              ...clientOptions,
              connect: (opts, callback) =>
                connect(opts, (...args) => {
                  const socket = args[1] as TLSSocket | null;
                  if (args[0] === null && socket?.alpnProtocol === 'h2') {
                    if (streams > pipelining) client.pipelining = streams;
                    if (conn !== null) {
                      conn.h2 = true;
                      adaptive?.removeClient(originKey, conn);
                    }
                  } else if (args[0] === null && conn !== null) {
                    conn.h2 = false;
                    adaptive?.addClient(originKey, conn);
                  }
                  callback(...args);
                }),
            });
            if (adaptive !== null) conn = adaptive.connection(originKey, client);
            return client;
          },
        }),
      headersTimeout: options.headersTimeout ?? 30_000,
      bodyTimeout: options.bodyTimeout ?? 30_000,
      keepAliveTimeout: options.keepAliveTimeout ?? 30_000,
      connect: tracingConnector({ ...options.tls, allowH2, timeout: options.connectTimeout ?? 15_000 }, this.#registry),
    });
    UndiciTraceBinder.retain();
  }

  async request(req: TransportRequest): Promise<TransportResponse> {
    const adaptive = this.#adaptive;
    const origin = req.url.origin;
    const exchange = new UndiciExchange(
      req.method,
      req.signal,
      req.trace === undefined ? null : { trace: req.trace, registry: this.#registry },
      adaptive !== null && req.pipelinable !== true,
    );
    const opts: ExchangeOptions = {
      origin: req.url.origin,
      path: `${req.url.pathname}${req.url.search}`,
      method: req.method,
      headers: req.headers,
      headersTimeout: req.timeouts?.firstByte,
      bodyTimeout: req.timeouts?.bodyStall,
      // undici holds further requests on a connection until a GET's response headers arrive
      // ("blocking"); once the origin has shown it keeps connections alive, let them pipeline.
      blocking: this.#mayPipeline(req) ? false : undefined,
      [EXCHANGE]: exchange,
    };
    if (adaptive !== null) {
      const pipelinable = req.pipelinable === true;
      exchange.onFailure = (err) => adaptive.failed(origin, describeCause(err));
      // From the moment the server could start on it: time in undici's queue for a free
      // connection is not the server's, nor is waiting for the responses before it on its
      // connection. Judged before undici writes more requests on the connection.
      exchange.onHead = (ms, keptAlive) => adaptive.responded(origin, pipelinable, ms, keptAlive, exchange.startedAt ?? 0);
    }
    try {
      this.#agent.dispatch(opts, exchange);
    } catch (err) {
      exchange.fail(err);
    }
    const head = await exchange.head;
    const headers: Record<string, string | undefined> = {};
    const raw = head.headers;
    for (const k in raw) {
      const v = raw[k];
      headers[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
    }
    const connection = headers.connection;
    const keptAlive = connection === undefined || !CLOSE.test(connection);
    if (keptAlive) this.#keepsAlive.add(origin);
    else this.#keepsAlive.delete(origin);
    return {
      status: head.status,
      headers,
      body: exchange,
      // Drain a small remainder so the connection stays reusable; past the limit, abort.
      dispose: () => exchange.dispose(64 * 1024),
    };
  }

  #mayPipeline(req: TransportRequest): boolean {
    if (!this.#keepsAlive.has(req.url.origin)) return false;
    if (this.#adaptive !== null) return this.#adaptive.mayPipeline(req.url.origin, req.pipelinable === true);
    return this.#pipelining > 1;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    UndiciTraceBinder.release();
    await this.#agent.close();
  }
}

/** A failure's code (or name) for the pipelining cool-down's cause. */
function describeCause(err: Error): string {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && code !== '' ? code : err.name;
}
