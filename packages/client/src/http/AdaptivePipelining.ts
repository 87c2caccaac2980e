/**
 * HTTP/1.1 pipelining that turns itself on where it is safe (`pipelining: 'auto'`), per origin,
 * with each connection's depth adjusted to what is on it.
 *
 * Origin: connections start with one request at a time (probation). After `PROBATION` pipelinable
 * requests (small object GETs) answered promptly on kept-alive connections, the origin's
 * connections pipeline up to `maxDepth` requests. A failure below HTTP (reset, timeout, parse
 * error…) or a slow first byte puts the origin in cool-down: one request at a time for `COOL_MS`,
 * then probation again; a strike soon after the last cool-down doubles it (up to `MAX_COOL_MS`),
 * so a server that keeps failing under pipelining mostly does without, and one bad moment costs
 * the pull a second instead of the rest of it. "Slow" counts from when the server could have
 * started on the request: the later of its writing and the end of the response before it on its
 * connection (PipelinedConnection), so waiting behind another response's large body is not
 * the server's slowness.
 *
 * Connection: see PipelinedConnection (no small request queued behind a large body).
 */
import type { Client } from 'undici';
import { type OriginPipelining, PipelinedConnection } from './PipelinedConnection.js';

export type { OriginPipelining } from './PipelinedConnection.js';

/**
 * Pipelinable responses an origin must answer promptly before its connections pipeline. Each
 * one waited for costs the start of an object pull (a tree walk, round trip by round trip), so
 * the probation is short.
 */
export const PROBATION = 4;
/** A first byte later than this (ms, from when the server could start on the request) is a strike. */
export const SLOW_MS = 1000;
/** First cool-down after a strike, ms (UndiciTransportOptions.pipeliningCoolDown). */
export const COOL_MS = 1000;
/** Longest cool-down, ms. */
export const MAX_COOL_MS = 30_000;
/** A strike within this long (ms) after the last cool-down ended doubles the next one. */
const STRIKE_MEMORY_MS = 10_000;

export interface PipeliningEvent {
  origin: string;
  /** `pipelining`: depth maxDepth; `cool-down`: depth 1 for `ms`; `probation`: the cool-down ended. */
  kind: 'pipelining' | 'cool-down' | 'probation';
  ms: number | null;
  /** What caused a cool-down. */
  cause: string | null;
}

export class AdaptivePipelining {
  readonly maxDepth: number;
  /** First cool-down, ms. */
  readonly coolMs: number;
  readonly #origins = new Map<string, OriginPipelining>();
  readonly #now: () => number;
  /** Told about each change of an origin's state (debug output, tests). */
  onChange: ((e: PipeliningEvent) => void) | null = null;

  constructor(maxDepth: number, coolMs = COOL_MS, now: () => number = () => performance.now()) {
    this.maxDepth = maxDepth;
    this.coolMs = coolMs;
    this.#now = now;
  }

  #state(origin: string): OriginPipelining {
    let s = this.#origins.get(origin);
    if (s === undefined) {
      s = { depth: 1, prompt: 0, coolUntil: null, lastCool: 0, cooledAt: null, probationSince: 0, connections: new Set() };
      this.#origins.set(origin, s);
    }
    return s;
  }

  /** Current depth for the origin's HTTP/1.1 connections (a cool-down that has run out ends here). */
  depth(origin: string): number {
    const s = this.#origins.get(origin);
    if (s === undefined) return 1;
    this.#expire(origin, s);
    return s.depth;
  }

  /** Whether a request may be sent without blocking the connection until its response head. */
  mayPipeline(origin: string, pipelinable: boolean): boolean {
    return pipelinable && this.depth(origin) > 1;
  }

  /** The connection state for a new undici Client of the origin (HTTP/1.1 until told otherwise). */
  connection(origin: string, client: Client): PipelinedConnection {
    return new PipelinedConnection(client, this.#state(origin));
  }

  /** The connection was established over HTTP/1.1: it follows the origin's depth. */
  addClient(origin: string, conn: PipelinedConnection): void {
    const s = this.#state(origin);
    s.connections.add(conn);
    conn.apply();
  }

  /** The connection was established over HTTP/2 (or is gone): left alone. */
  removeClient(origin: string, conn: PipelinedConnection): void {
    this.#origins.get(origin)?.connections.delete(conn);
  }

  /**
   * A response head arrived `ms` after the server could start on the request (written at
   * `sentAt`); `keptAlive`: the connection stays open.
   */
  responded(origin: string, pipelinable: boolean, ms: number, keptAlive: boolean, sentAt: number): void {
    const s = this.#state(origin);
    this.#expire(origin, s);
    if (ms > SLOW_MS) {
      this.#strike(origin, s, `first byte after ${Math.round(ms)} ms`);
      return;
    }
    if (!pipelinable || !keptAlive || s.depth > 1 || s.coolUntil !== null || sentAt < s.probationSince) return;
    if (++s.prompt >= PROBATION) {
      this.#setDepth(s, this.maxDepth);
      this.onChange?.({ origin, kind: 'pipelining', ms: null, cause: null });
    }
  }

  /** A request of the origin failed below HTTP (reset, timeout, refused, TLS, parse error…). */
  failed(origin: string, cause: string): void {
    const s = this.#state(origin);
    this.#expire(origin, s);
    this.#strike(origin, s, cause);
  }

  /** Cool-down: one request at a time until it ends. Strikes during a cool-down change nothing. */
  #strike(origin: string, s: OriginPipelining, cause: string): void {
    if (s.coolUntil !== null) return;
    const now = this.#now();
    const ms =
      s.cooledAt !== null && now - s.cooledAt < STRIKE_MEMORY_MS
        ? Math.min(Math.max(MAX_COOL_MS, this.coolMs), s.lastCool * 2)
        : this.coolMs;
    s.lastCool = ms;
    s.coolUntil = now + ms;
    s.prompt = 0;
    this.#setDepth(s, 1);
    this.onChange?.({ origin, kind: 'cool-down', ms, cause });
  }

  /** Ends a cool-down whose time is up: probation again. */
  #expire(origin: string, s: OriginPipelining): void {
    if (s.coolUntil === null) return;
    const now = this.#now();
    if (now < s.coolUntil) return;
    s.coolUntil = null;
    s.cooledAt = now;
    s.probationSince = now;
    s.prompt = 0;
    this.onChange?.({ origin, kind: 'probation', ms: null, cause: null });
  }

  #setDepth(s: OriginPipelining, depth: number): void {
    s.depth = depth;
    for (const c of s.connections) c.apply();
  }
}
