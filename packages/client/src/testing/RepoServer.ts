/**
 * A small static HTTP server for repositories on disk: GET and HEAD, single `Range` requests,
 * keep-alive, 404 for anything missing or outside the root, and a log of every request. The
 * CLI's `demo` serves its embedded sample repository with it; tests use it where nginx is not
 * the point. Fault injection and link emulation hook in through `onRequest`.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve, sep } from 'node:path';

export interface RepoServerLogEntry {
  method: string;
  path: string;
  status: number;
  /** Body bytes sent. */
  bytes: number;
  range: string | null;
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
}

export class RepoServer {
  readonly root: string;
  readonly log: RepoServerLogEntry[] = [];
  readonly #server: Server;
  readonly #options: RepoServerOptions;
  readonly #started = performance.now();

  private constructor(root: string, options: RepoServerOptions) {
    this.root = resolve(root);
    this.#options = options;
    this.#server = createServer((req, res) => {
      void this.#handle(req, res);
    });
    this.#server.keepAliveTimeout = 30_000;
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
    return `http://${host}:${a.port}/`;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((ok) => this.#server.close(() => ok()));
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = decodeURIComponent((req.url ?? '/').split('?')[0] as string);
    const entry: RepoServerLogEntry = { method: req.method ?? 'GET', path, status: 0, bytes: 0, range: req.headers.range ?? null, at: 0 };
    res.on('finish', () => {
      entry.status = res.statusCode;
      entry.at = performance.now() - this.#started;
      this.log.push(entry);
    });
    const countBytes = (n: number) => {
      entry.bytes += n;
    };
    try {
      if (this.#options.onRequest !== undefined && (await this.#options.onRequest(req, res, path))) return;
      await this.#serveFile(req, res, path, countBytes);
    } catch {
      if (!res.headersSent) {
        res.statusCode = 500;
        res.end();
      } else {
        res.destroy();
      }
    }
  }

  async #serveFile(req: IncomingMessage, res: ServerResponse, path: string, count: (n: number) => void): Promise<void> {
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
    const headers: Record<string, string> = {
      'content-length': String(end - start + 1),
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
    stream.on('data', (c) => count(c.length));
    stream.on('error', () => res.destroy());
    stream.pipe(res);
  }
}
