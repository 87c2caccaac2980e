/**
 * A small static HTTP server for repositories on disk: GET and HEAD, single `Range` requests,
 * keep-alive, 404 for anything missing or outside the root, and a log of every request. The
 * CLI's `demo` serves its embedded sample repository with it; tests use it where nginx is not
 * the point. Fault injection and link emulation hook in through `onRequest`. With `tls` it serves
 * HTTPS, offering HTTP/2 by ALPN when asked (HTTP/1.1 clients still welcome); a reset is then a
 * stream reset (RST_STREAM), not the connection's end.
 */
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { constants as h2constants, createSecureServer, type Http2ServerResponse } from 'node:http2';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { resolve, sep } from 'node:path';
import { Transform } from 'node:stream';
import type { Fault, FaultPolicy } from './Fault.js';

export interface RepoServerLogEntry {
  method: string;
  path: string;
  status: number;
  /** Body bytes sent. */
  bytes: number;
  range: string | null;
  /**
   * The fault injected into this response, if any: only a fault that took effect (a body fault
   * on a 404 or an empty body, or a reset after more bytes than the body has, is not logged).
   */
  fault: Fault['kind'] | null;
  /** Milliseconds since the server started. */
  at: number;
}

export interface RepoServerOptions {
  /** Port to listen on. @default 0 (any free port) */
  port?: number;
  /** Address to listen on. @default '127.0.0.1' */
  host?: string;
  /**
   * Called before a request is served; return true when it has answered the request itself
   * (to inject a fault), false to serve the file normally.
   */
  onRequest?: (req: IncomingMessage, res: ServerResponse, path: string) => boolean | Promise<boolean>;
  /** Fault injection: decides per request (with its per-path attempt number) what goes wrong. */
  faults?: FaultPolicy;
  /** Serve HTTPS with this certificate and key (PEM text); `http2` offers h2 by ALPN. @default plain HTTP/1.1 */
  tls?: { cert: string; key: string; http2?: boolean };
}

export class RepoServer {
  readonly root: string;
  readonly log: RepoServerLogEntry[] = [];
  readonly #server: Server;
  readonly #options: RepoServerOptions;
  readonly #started = performance.now();
  readonly #attempts = new Map<string, number>();
  /** Open HTTP/2 sessions (closed with the server). */
  readonly #sessions = new Set<{ destroy(): void }>();
  /** Replace the fault policy at run time (e.g. between phases of a test). */
  faults: FaultPolicy | undefined;

  private constructor(root: string, options: RepoServerOptions) {
    this.root = resolve(root);
    this.#options = options;
    this.faults = options.faults;
    const handler = (req: IncomingMessage, res: ServerResponse) => {
      void this.#handle(req, res);
    };
    const tls = options.tls;
    // The HTTP/2 compatibility API mirrors IncomingMessage/ServerResponse for what is used here.
    this.#server = (
      tls === undefined
        ? createServer(handler)
        : tls.http2 === true
          ? createSecureServer({ cert: tls.cert, key: tls.key, allowHTTP1: true }, handler as never)
          : createHttpsServer({ cert: tls.cert, key: tls.key }, handler)
    ) as Server;
    this.#server.keepAliveTimeout = 30_000;
    this.#server.on('session', (session: { destroy(): void; once(e: string, f: () => void): void }) => {
      this.#sessions.add(session);
      session.once('close', () => this.#sessions.delete(session));
    });
  }

  static async start(root: string, options: RepoServerOptions = {}): Promise<RepoServer> {
    const s = new RepoServer(root, options);
    await new Promise<void>((ok, fail) => {
      s.#server.once('error', fail);
      s.#server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => ok());
    });
    return s;
  }

  get url(): string {
    const a = this.#server.address() as AddressInfo;
    const host = a.family === 'IPv6' ? `[${a.address}]` : a.address;
    return `${this.#options.tls === undefined ? 'http' : 'https'}://${host}:${a.port}/`;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections?.();
    for (const s of this.#sessions) s.destroy();
    await new Promise<void>((ok) => this.#server.close(() => ok()));
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = decodeURIComponent((req.url ?? '/').split('?')[0] as string);
    const entry: RepoServerLogEntry = {
      method: req.method ?? 'GET',
      path,
      status: 0,
      bytes: 0,
      range: req.headers.range ?? null,
      at: 0,
      fault: null,
    };
    let logged = false;
    const record = () => {
      if (logged) return;
      logged = true;
      entry.status = res.statusCode;
      entry.at = performance.now() - this.#started;
      this.log.push(entry);
    };
    res.on('finish', record);
    res.on('close', record);
    const countBytes = (n: number) => {
      entry.bytes += n;
    };
    try {
      if (this.#options.onRequest !== undefined && (await this.#options.onRequest(req, res, path))) return;
      const attempt = (this.#attempts.get(path) ?? 0) + 1;
      this.#attempts.set(path, attempt);
      const fault = this.faults?.({ method: req.method ?? 'GET', path, attempt, headers: req.headers }) ?? null;
      const applied = () => {
        entry.fault = fault?.kind ?? null;
      };
      if (fault === null) {
        // served normally below
      } else if (fault.kind === 'status') {
        applied();
        const body = fault.body ?? '';
        res.writeHead(fault.status, {
          'content-length': String(Buffer.byteLength(body)),
          'content-type': 'text/plain',
          ...(fault.retryAfter !== undefined ? { 'retry-after': String(fault.retryAfter) } : {}),
          ...(fault.headers ?? {}),
        });
        res.end(body);
        return;
      } else if (fault.kind === 'drop') {
        applied();
        cutOff(req, res)();
        return;
      } else if (fault.kind === 'redirect') {
        applied();
        res.writeHead(fault.status ?? 302, { location: fault.location, 'content-length': '0' }).end();
        return;
      } else if (fault.kind === 'endless') {
        applied();
        endless(res, fault.declare, countBytes);
        return;
      } else if (fault.kind === 'substitute') {
        applied();
        const body = fault.body ?? (fault.path !== undefined ? await this.#read(fault.path) : null) ?? new Uint8Array(0);
        res.writeHead(200, { 'content-length': String(body.length), 'content-type': 'application/octet-stream' });
        countBytes(body.length);
        res.end(body);
        return;
      } else if (fault.kind === 'first-byte-delay') {
        applied();
        await new Promise((r) => setTimeout(r, fault.ms));
        if (res.destroyed) return;
      }
      await this.#serveFile(req, res, path, countBytes, fault, applied);
    } catch {
      if (!res.headersSent) {
        res.statusCode = 500;
        res.end();
      } else {
        res.destroy();
      }
    }
  }

  /** The bytes of a file under the root, or null. */
  async #read(path: string): Promise<Uint8Array | null> {
    const file = resolve(this.root, `.${path}`);
    if (!file.startsWith(this.root + sep)) return null;
    return readFile(file).catch(() => null);
  }

  async #serveFile(
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    count: (n: number) => void,
    fault: Fault | null = null,
    applied: () => void = () => {},
  ): Promise<void> {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-length': '0' }).end();
      return;
    }
    const file = resolve(this.root, `.${path}`);
    if (file !== this.root && !file.startsWith(this.root + sep)) {
      res.writeHead(404, { 'content-length': '0' }).end();
      return;
    }
    let size: number;
    let mtime: Date;
    try {
      const st = await stat(file);
      if (!st.isFile()) throw new Error('not a file');
      size = st.size;
      mtime = st.mtime;
    } catch {
      res.writeHead(404, { 'content-length': '0', 'content-type': 'text/plain' }).end();
      return;
    }
    const etag = `"${size.toString(16)}-${Math.floor(mtime.getTime()).toString(16)}"`;
    let start = 0;
    let end = size - 1;
    let status = 200;
    const range = req.headers.range;
    const ifRange = req.headers['if-range'];
    if (range !== undefined && (ifRange === undefined || ifRange === etag)) {
      const m = /^bytes=(\d*)-(\d*)$/.exec(range);
      if (m !== null && (m[1] !== '' || m[2] !== '')) {
        if (m[1] === '') {
          start = Math.max(0, size - Number(m[2]));
        } else {
          start = Number(m[1]);
          if (m[2] !== '') end = Math.min(end, Number(m[2]));
        }
        if (start >= size || start > end) {
          res.writeHead(416, { 'content-range': `bytes */${size}`, 'content-length': '0' }).end();
          return;
        }
        status = 206;
      }
    }
    let length = end - start + 1;
    if (fault?.kind === 'truncate' && !fault.lie) length = Math.min(length, fault.keep);
    if (fault?.kind === 'truncate' && fault.keep < end - start + 1) applied();
    const headers: Record<string, string> = {
      'content-length': String(length),
      'content-type': 'application/octet-stream',
      'accept-ranges': 'bytes',
      'last-modified': mtime.toUTCString(),
      etag,
    };
    if (status === 206) headers['content-range'] = `bytes ${start}-${end}/${size}`;
    res.writeHead(status, headers);
    if (req.method === 'HEAD' || size === 0) {
      res.end();
      return;
    }
    const stream = createReadStream(file, { start, end, highWaterMark: 256 * 1024 });
    stream.on('error', () => res.destroy());
    const counted = stream.pipe(faultTransform(fault, cutOff(req, res), applied));
    counted.on('data', (c: Buffer) => count(c.length));
    counted.pipe(res);
  }
}

/**
 * Ends an exchange abruptly: over HTTP/1.1 the socket itself (after res.end() the response no
 * longer owns it: keep-alive), over HTTP/2 just the stream (RST_STREAM), as a proxy would.
 */
function cutOff(req: IncomingMessage, res: ServerResponse): () => void {
  const stream = (res as unknown as Partial<Http2ServerResponse>).stream;
  if (stream !== undefined) return () => stream.close(h2constants.NGHTTP2_INTERNAL_ERROR);
  const socket = req.socket;
  return () => socket.destroy();
}

/** Applies a body fault to the stream of a file: reset, corruption, truncation, slowness, stall. */
function faultTransform(fault: Fault | null, destroy: () => void, applied: () => void): Transform {
  let sent = 0;
  let stalled = false;
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      if (fault === null) return done(null, chunk);
      switch (fault.kind) {
        case 'reset': {
          const room = fault.after - sent;
          if (room <= 0) {
            applied();
            return destroy();
          }
          const part = chunk.subarray(0, room);
          sent += part.length;
          this.push(part);
          if (sent >= fault.after && room < chunk.length) {
            applied();
            // The response must not end (over HTTP/1.1 the server would start the next
            // pipelined response on this socket); the bytes pushed get 5 ms to leave first.
            setTimeout(destroy, 5);
            return;
          }
          return done();
        }
        case 'corrupt': {
          applied();
          const copy = Buffer.from(chunk);
          for (let i = 0; i < copy.length; i += 97) copy[i] = (copy[i] as number) ^ 0x5a;
          return done(null, copy);
        }
        case 'truncate': {
          const room = Math.max(0, fault.keep - sent);
          const part = chunk.subarray(0, room);
          sent += part.length;
          if (part.length > 0) this.push(part);
          if (sent >= fault.keep && fault.lie) {
            setTimeout(destroy, 5);
            return; // never ends: see 'reset'
          }
          return done();
        }
        case 'slow': {
          applied();
          const delay = (chunk.length / fault.bytesPerSecond) * 1000;
          return setTimeout(() => done(null, chunk), delay);
        }
        case 'stall': {
          if (!stalled && sent + chunk.length > fault.after) {
            stalled = true;
            applied();
            const room = Math.max(0, fault.after - sent);
            this.push(chunk.subarray(0, room));
            sent += chunk.length;
            return setTimeout(() => done(null, chunk.subarray(room)), fault.ms);
          }
          sent += chunk.length;
          return done(null, chunk);
        }
        default:
          return done(null, chunk);
      }
    },
  });
}

/** Zero bytes until the client hangs up (chunked, or under a lying Content-Length). */
function endless(res: ServerResponse, declare: number | undefined, count: (n: number) => void): void {
  res.writeHead(200, {
    'content-type': 'application/octet-stream',
    ...(declare !== undefined ? { 'content-length': String(declare) } : {}),
  });
  const block = Buffer.alloc(64 * 1024);
  let sent = 0;
  const pump = () => {
    while (!res.destroyed) {
      if (declare !== undefined && sent + block.length > declare) {
        res.destroy();
        return;
      }
      sent += block.length;
      count(block.length);
      if (!res.write(block)) {
        res.once('drain', pump);
        return;
      }
    }
  };
  res.on('close', () => res.removeListener('drain', pump));
  pump();
}
