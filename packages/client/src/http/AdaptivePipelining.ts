/**
 * HTTP/1.1 pipelining that turns itself on only where it is safe (`pipelining: 'auto'`).
 *
 * Per origin, connections start with one request at a time. After `PROBATION` pipelinable
 * requests (small object GETs) answered on kept-alive connections, each with its first byte
 * within `SLOW_MS`, the origin's connections pipeline up to `maxDepth` requests. A request of
 * that origin that fails below HTTP (reset, timeout, refused…) or waits longer than `SLOW_MS` for
 * its first byte turns pipelining off for the origin for the rest of the transport's life: a
 * pipelined request waits behind the one before it, so one slow first byte (a cache fetching from
 * a busy origin) would otherwise delay, and could time out, the requests queued behind it.
 * Requests that are not pipelinable (summaries, superblocks, delta parts) never have others
 * queued behind them.
 */
import type { Client } from 'undici';

/**
 * Pipelinable responses an origin must answer promptly before its connections pipeline. Each
 * one waited for costs the start of an object pull (a tree walk, round trip by round trip): 16
 * made the no-delta pull of the benchmark 0.23 s (10 %) slower than 4, in 8 interleaved runs.
 */
export const PROBATION = 4;
/** A first byte later than this (ms, from dispatch) ends pipelining for the origin. */
export const SLOW_MS = 1000;

interface OriginState {
  /** Current depth: 1 (not pipelining) or maxDepth. */
  depth: number;
  /** Prompt pipelinable responses so far (while on probation). */
  prompt: number;
  /** Pipelining was turned off for good. */
  off: boolean;
  /** HTTP/1.1 clients of the origin (HTTP/2 ones are left alone). */
  clients: Set<Client>;
}

export class AdaptivePipelining {
  readonly maxDepth: number;
  readonly #origins = new Map<string, OriginState>();

  constructor(maxDepth: number) {
    this.maxDepth = maxDepth;
  }

  #state(origin: string): OriginState {
    let s = this.#origins.get(origin);
    if (s === undefined) {
      s = { depth: 1, prompt: 0, off: false, clients: new Set() };
      this.#origins.set(origin, s);
    }
    return s;
  }

  /** Current depth for the origin's HTTP/1.1 connections (new ones start with it). */
  depth(origin: string): number {
    return this.#origins.get(origin)?.depth ?? 1;
  }

  /** Whether a request may be sent without blocking the connection until its response head. */
  mayPipeline(origin: string, pipelinable: boolean): boolean {
    return pipelinable && this.depth(origin) > 1;
  }

  /** An HTTP/1.1 connection of the origin was established. */
  addClient(origin: string, client: Client): void {
    const s = this.#state(origin);
    s.clients.add(client);
    client.pipelining = s.depth;
  }

  removeClient(origin: string, client: Client): void {
    this.#origins.get(origin)?.clients.delete(client);
  }

  /** A response head arrived `ms` after dispatch; `keptAlive`: the connection stays open. */
  responded(origin: string, pipelinable: boolean, ms: number, keptAlive: boolean): void {
    const s = this.#state(origin);
    if (s.off) return;
    if (ms > SLOW_MS) {
      this.#turnOff(s);
      return;
    }
    if (!pipelinable || !keptAlive || s.depth > 1) return;
    if (++s.prompt >= PROBATION) this.#setDepth(s, this.maxDepth);
  }

  /** A request of the origin failed below HTTP (reset, timeout, refused, TLS…). */
  failed(origin: string): void {
    this.#turnOff(this.#state(origin));
  }

  #turnOff(s: OriginState): void {
    s.off = true;
    this.#setDepth(s, 1);
  }

  #setDepth(s: OriginState, depth: number): void {
    s.depth = depth;
    for (const c of s.clients) c.pipelining = depth;
  }
}
