/**
 * One undici Client (one HTTP/1.1 connection at a time) under adaptive pipelining: its depth, the
 * requests written on it, and what happens to them when the connection closes.
 *
 * Depth: the origin's (AdaptivePipelining), except while a request that must not have others
 * queued behind it is on the connection: one that is not pipelinable (summaries, delta parts,
 * fallbacks, whose sizes make them large or unknown), or whose response declares at least
 * `LARGE_BODY` bytes. Until that response ends the connection is capped at the requests already
 * on it, so undici's pool hands new requests to the other connections instead of queueing them
 * behind the body.
 *
 * undici fails an assertion (`timeoutType === TIMEOUT_HEADERS`, in the HTTP/1.1 parser's
 * onHeadersComplete) when a Client's `pipelining` is set to 1 while several requests are in flight
 * on it and their responses arrive back to back: at depth 1 it resumes the connection one
 * event-loop turn after a response completes, and the next head, parsed in the same read, finds
 * the body timer still set (test/integration/undici-pipelining.test.ts shows it with undici alone).
 * So a depth of 1 is applied only once at most one request is in flight; until then 2, and the
 * depth is applied again as requests end.
 *
 * Re-sends: when a connection closes, undici fails the request at the head of its pipeline and
 * silently writes the ones behind it again on a new connection (idempotent requests), so the
 * server would see them twice and the records once. Instead, each of them is ended with a
 * `PipelineRequeueError` as the connection closes (before undici has a new one), and HttpClient
 * retries it as an attempt of its own, recorded.
 */
import type { Client } from 'undici';

/** A response declaring at least this many bytes caps its connection until it ends. */
export const LARGE_BODY = 1024 * 1024;

/** Record code of a request ended because the connection it was pipelined on closed before its response. */
export const PIPELINE_REQUEUED = 'ERR_PIPELINE_REQUEUED';

/** The request was written on a connection that closed before its response began (behind the one that failed). */
export class PipelineRequeueError extends Error {
  readonly code = PIPELINE_REQUEUED;
  constructor(cause: unknown) {
    super('connection closed before the response, behind a failed pipelined request', { cause });
    this.name = 'PipelineRequeueError';
  }
}

/** What a connection needs of a request on it (UndiciExchange). */
export interface PipelineMember {
  /** Ends the request (written, no response yet) with a PipelineRequeueError. */
  requeue(error: PipelineRequeueError): void;
}

/** An origin's pipelining state (kept by AdaptivePipelining; its connections read it). */
export interface OriginPipelining {
  /** Current depth for new requests: 1 (probation, cool-down) or maxDepth. */
  depth: number;
  /** Prompt pipelinable responses so far in this probation. */
  prompt: number;
  /** Cool-down ends at this time (performance.now()), or null when not cooling down. */
  coolUntil: number | null;
  /** Length of the last cool-down, ms (0: none yet). */
  lastCool: number;
  /** When the last cool-down ended, or null. */
  cooledAt: number | null;
  /** Only requests written after this (performance.now()) count for the probation: not those pipelined before a cool-down. */
  probationSince: number;
  /** HTTP/1.1 connections of the origin (HTTP/2 ones are left alone). */
  readonly connections: Set<PipelinedConnection>;
}

export class PipelinedConnection {
  readonly client: Client;
  readonly origin: OriginPipelining;
  /** Requests written on the current connection and not ended, in the order written. */
  readonly #running = new Set<PipelineMember>();
  /** Requests capping the connection, and the depth they cap it at. */
  readonly #cappers = new Set<PipelineMember>();
  #cap = 1;
  /** When the last response on it ended (performance.now()), or 0. */
  lastEnd = 0;
  /** Over HTTP/2 (undici multiplexes; nothing here applies). */
  h2 = false;
  #reapply = false;
  /** A response on the current connection said it closes after it (undici stops writing to it). */
  #closing = false;

  constructor(client: Client, origin: OriginPipelining) {
    this.client = client;
    this.origin = origin;
    client.on('disconnect', (_origin: unknown, _targets: unknown, err: unknown) => this.#disconnected(err));
  }

  /** Sets the client's depth: the cap, else the origin's, never 1 with more than one request in flight. */
  apply(): void {
    if (this.h2) return;
    const want = this.#cappers.size > 0 ? this.#cap : this.origin.depth;
    const running = this.client.stats.running;
    const depth = want >= 2 || running <= 1 ? want : 2;
    this.#reapply = depth !== want;
    if (this.client.pipelining !== depth) this.client.pipelining = depth;
  }

  /**
   * `m` is being written (inside undici's dispatch loop; not yet counted as running). `cap`: no
   * request may follow it on this connection until it ends.
   */
  started(m: PipelineMember, cap: boolean): void {
    if (this.h2) return;
    this.#running.add(m);
    if (cap) this.#capAt(m, this.client.stats.running + 1);
  }

  /**
   * `m`'s response head arrived: returns when the server could have started on it (the end of the
   * response before it on this connection, if that is later than `sentAt`). A large declared body
   * caps the connection at the requests already on it.
   */
  headed(m: PipelineMember, sentAt: number, declared: number | null, keptAlive: boolean): number {
    if (this.h2) return sentAt;
    if (!keptAlive) this.#closing = true;
    if (declared !== null && declared >= LARGE_BODY) this.#capAt(m, this.client.stats.running);
    return Math.max(sentAt, this.lastEnd);
  }

  /** `m` ended (response complete, failed or aborted). */
  ended(m: PipelineMember): void {
    if (this.h2) return;
    this.lastEnd = performance.now();
    this.#running.delete(m);
    const uncap = this.#cappers.delete(m);
    // Called from within undici's parser: change the depth once it has finished with this response.
    if (uncap || this.#reapply) queueMicrotask(() => this.apply());
  }

  #capAt(m: PipelineMember, depth: number): void {
    this.#cap = this.#cappers.size > 0 ? Math.min(this.#cap, Math.max(1, depth)) : Math.max(1, depth);
    this.#cappers.add(m);
    this.apply();
  }

  /**
   * The connection closed; undici has failed the head of the pipeline and would write the rest
   * again. After a response that said the connection closes, the server did not read the requests
   * behind it: undici's re-sending them is their only sending, and it is left to undici.
   */
  #disconnected(err: unknown): void {
    const left = this.#closing ? [] : [...this.#running];
    this.#closing = false;
    this.#running.clear();
    this.#cappers.clear();
    for (const m of left) m.requeue(new PipelineRequeueError(err));
    this.apply();
  }
}
