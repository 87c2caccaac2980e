/** The default transport: an undici Agent (a keep-alive pool per origin). */
import { Agent } from 'undici';
import type { Transport, TransportRequest, TransportResponse } from './Transport.js';

export interface UndiciTransportOptions {
  /** Connections per origin (libostree uses 8). @default 8 */
  connections?: number;
  /** Requests pipelined per HTTP/1.1 connection. @default 1 */
  pipelining?: number;
  /** Connect timeout, ms. @default 30000 */
  connectTimeout?: number;
  /** Time to the response headers, ms. @default 30000 */
  headersTimeout?: number;
  /** Longest pause between body chunks, ms. @default 30000 */
  bodyTimeout?: number;
}

export class UndiciTransport implements Transport {
  readonly #agent: Agent;

  constructor(options: UndiciTransportOptions = {}) {
    this.#agent = new Agent({
      connections: options.connections ?? 8,
      pipelining: options.pipelining ?? 1,
      connectTimeout: options.connectTimeout ?? 30_000,
      headersTimeout: options.headersTimeout ?? 30_000,
      bodyTimeout: options.bodyTimeout ?? 30_000,
      keepAliveTimeout: 30_000,
    });
  }

  async request(req: TransportRequest): Promise<TransportResponse> {
    const res = await this.#agent.request({
      origin: req.url.origin,
      path: `${req.url.pathname}${req.url.search}`,
      method: req.method,
      headers: req.headers,
      signal: req.signal,
    });
    const headers: Record<string, string | undefined> = {};
    for (const [k, v] of Object.entries(res.headers)) headers[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
    return {
      status: res.statusCode,
      headers,
      body: res.body,
      dispose: () => {
        res.body.destroy();
      },
    };
  }

  async close(): Promise<void> {
    await this.#agent.close();
  }
}
