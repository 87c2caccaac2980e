/**
 * HTTP/1.1 pipelining against real servers where undici's own behaviour matters:
 *
 * - undici 7.30's HTTP/1.1 parser asserts (`timeoutType === TIMEOUT_HEADERS`) when a Client's
 *   `pipelining` is lowered to 1 while several requests are in flight and their responses arrive
 *   in one read. Shown with undici alone (if a release fixes it, that test fails and
 *   PipelinedConnection's guard can go), and not tripped by UndiciTransport when a failure on
 *   another connection puts the origin in cool-down mid-pipeline.
 * - When a connection closes under a pipeline, undici writes the requests behind the failed one
 *   again on a new connection without telling its caller; the transport ends them instead
 *   (ERR_PIPELINE_REQUEUED) and HttpClient retries them as recorded attempts, so the server's
 *   log and the pull's records agree.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { pull } from '../../packages/client/src/index.js';
import { PIPELINE_REQUEUED } from '../../packages/client/src/http/PipelinedConnection.js';
import { PROBATION, SLOW_MS } from '../../packages/client/src/http/AdaptivePipelining.js';
import { AUTO_PIPELINING_DEPTH, UndiciTransport } from '../../packages/client/src/http/UndiciTransport.js';
import { UndiciExchange } from '../../packages/client/src/http/UndiciExchange.js';
import { Client } from '../../packages/client/src/http/undiciParts.js';
import { RepoServer } from '../../packages/client/src/testing/index.js';
import { type MadeRepo, makeRepo } from '../support/makeRepo.js';
import { checkoutManifest } from '../support/ostree.js';
import { describeWithTools } from '../support/tools.js';

/** Held requests: with one ahead of them, they fill a connection at the adaptive depth. */
const BATCH = AUTO_PIPELINING_DEPTH - 1;

/**
 * A plain TCP server speaking just enough HTTP/1.1: `/p…` is answered at once, `/slow` after
 * SLOW_MS and a little more, and `/b…` requests are held until `release()`, then each connection's are
 * answered in a single write; `gotBatch` settles once BATCH of them arrived.
 */
class BatchServer {
  readonly #server: Server;
  readonly paths: string[] = [];
  #release: (() => void) | null = null;
  #held: Promise<void>;
  #gotBatch!: () => void;

  constructor() {
    this.#held = new Promise((r) => (this.#release = r));
    const got = new Promise<void>((r) => (this.#gotBatch = r));
    this.gotBatch = got;
    this.#server = createServer((sock) => this.#serve(sock));
  }
  readonly gotBatch: Promise<void>;

  async listen(): Promise<string> {
    await new Promise<void>((r) => this.#server.listen(0, '127.0.0.1', r));
    const a = this.#server.address() as { port: number };
    return `http://127.0.0.1:${a.port}`;
  }

  release(): void {
    this.#release?.();
  }

  close(): Promise<void> {
    this.release();
    return new Promise((r) => this.#server.close(() => r()));
  }

  #serve(sock: Socket): void {
    let buf = '';
    const batch: string[] = [];
    sock.on('error', () => {});
    sock.on('data', (d) => {
      buf += d.toString('latin1');
      for (let i = buf.indexOf('\r\n\r\n'); i >= 0; i = buf.indexOf('\r\n\r\n')) {
        const path = buf.slice(0, i).split(' ')[1] ?? '/';
        buf = buf.slice(i + 4);
        this.paths.push(path);
        if (path === '/slow') setTimeout(() => sock.write(response(path)), SLOW_MS + 200);
        else if (path.startsWith('/b')) {
          batch.push(path);
          if (batch.length === 1) void this.#held.then(() => sock.write(batch.map(response).join('')));
          if (this.paths.filter((p) => p.startsWith('/b')).length === BATCH) this.#gotBatch();
        } else sock.write(response(path));
      }
    });
  }
}

function response(path: string): string {
  return `HTTP/1.1 200 OK\r\ncontent-length: ${path.length}\r\nkeep-alive: timeout=30\r\n\r\n${path}`;
}

async function bodyOrError(p: Promise<{ status: number; body: AsyncIterable<Uint8Array> }>): Promise<string> {
  try {
    const r = await p;
    let text = '';
    for await (const c of r.body) text += Buffer.from(c).toString();
    return `${r.status} ${text}`;
  } catch (err) {
    return `error ${(err as { code?: string }).code ?? (err as Error).message}`;
  }
}

describe('undici HTTP/1.1 pipelining', () => {
  let server: BatchServer;
  let base: string;
  beforeAll(async () => {
    server = new BatchServer();
    base = await server.listen();
  });
  afterAll(() => server?.close());

  test('undici alone: lowering a Client to pipelining 1 under back-to-back responses fails an assertion', async () => {
    const s = new BatchServer();
    const url = await s.listen();
    const client = new Client(url, { pipelining: 16 });
    try {
      const results = Array.from({ length: BATCH }, (_, i) => {
        const exchange = new UndiciExchange('GET', undefined, null);
        client.dispatch({ origin: url, path: `/b${i}`, method: 'GET', blocking: false, headersTimeout: 2000 }, exchange);
        return bodyOrError(exchange.head.then((h) => ({ status: h.status, body: exchange })));
      });
      await s.gotBatch;
      client.pipelining = 1;
      s.release();
      expect(await results[0]).toBe('200 /b0');
      expect(await results[1]).toBe('error ERR_ASSERTION');
    } finally {
      await client.destroy();
      await s.close();
    }
  });

  test('UndiciTransport: a cool-down that lowers a pipelining connection does not trip it', async () => {
    const t = new UndiciTransport({ connections: 2, pipelining: 'auto', headersTimeout: 5000 });
    const get = (path: string) => bodyOrError(t.request({ url: new URL(path, base), method: 'GET', headers: {}, pipelinable: true }));
    try {
      for (let i = 0; i < PROBATION; i++) expect(await get(`/p${i}`)).toBe(`200 /p${i}`);
      // A slow response with the batch pipelined behind it: its first byte puts the origin in
      // cool-down while the batch is in flight; then the batch comes in one read. (The first
      // request after an idle moment waits a turn, undici checking the idle socket, and its pool
      // would open the other connection for the next: the rest follow once it is written.)
      const slow = get('/slow');
      await expect.poll(() => server.paths.includes('/slow')).toBe(true);
      const batch = Array.from({ length: BATCH }, (_, i) => get(`/b${i}`));
      await server.gotBatch;
      expect(await slow).toBe('200 /slow');
      server.release();
      expect(await Promise.all(batch)).toEqual(Array.from({ length: BATCH }, (_, i) => `200 /b${i}`));
      // Each request reached the server once.
      expect(server.paths.filter((p) => p.startsWith('/b')).length).toBe(BATCH);
    } finally {
      await t.close();
    }
  });
});

describeWithTools(['ostree'], 'a connection torn under a pipeline', () => {
  let made: MadeRepo;
  const tmp = mkdtempSync(join(tmpdir(), 'ffetch-requeue-'));
  beforeAll(() => {
    made = makeRepo({ files: 300, dirs: 3, seed: 11 });
  });
  afterAll(() => {
    made?.remove();
    rmSync(tmp, { recursive: true, force: true });
  });

  test('the requests pipelined behind a timed-out one are recorded and retried, not re-sent unrecorded', async () => {
    // The 60th file stalls past the first-byte timeout: undici tears its connection down.
    let files = 0;
    const server = await RepoServer.start(made.repo, {
      faults: (ctx) => (ctx.path.endsWith('.filez') && ++files === 60 ? { kind: 'first-byte-delay', ms: 3000 } : null),
    });
    try {
      const repo = join(tmp, 'pull');
      const result = await pull({
        url: server.url,
        ref: made.ref,
        repo,
        deltas: 'never',
        http: { timeouts: { firstByte: 500 }, retry: { minDelay: 1, maxDelay: 10 } },
      });
      expect(checkoutManifest(repo, made.ref)).toEqual(checkoutManifest(made.repo, made.ref));
      const requeued = result.requests.filter((r) => r.error?.code === PIPELINE_REQUEUED);
      expect(requeued.length, 'requests pipelined behind the stalled one').toBeGreaterThan(0);
      for (const r of requeued) {
        expect(r.error?.class).toBe('reset');
        expect(r.willRetry).toBe(true);
        // Behind the failed head of the same connection.
        const head = result.requests.find(
          (h) =>
            h.connectionId === r.connectionId &&
            h.error !== null &&
            h.error.code !== PIPELINE_REQUEUED &&
            (h.timings.requestSent as number) < (r.timings.requestSent as number),
        );
        expect(head?.error?.class, r.url).toBe('first-byte-timeout');
      }
      // Every request the server saw is one record (the stalled response is logged when it ends).
      await expect.poll(() => server.log.length, { timeout: 5000 }).toBe(result.requests.length);
    } finally {
      await server.close();
    }
  });
});
