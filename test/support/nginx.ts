/**
 * A real nginx serving a directory on loopback, with a JSON access log, for tests and benchmarks
 * that need a real HTTP server (the same server CI and many mirrors use). Only erasable
 * TypeScript, imports by `.ts` path: bench scripts load it with Node.js's type stripping.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toolPath } from './toolPath.ts';

export interface NginxLogEntry {
  method: string;
  uri: string;
  status: number;
  bodyBytes: number;
  bytesSent: number;
  range: string;
  connection: number;
  connectionRequests: number;
  /** The client's User-Agent (tells flatpak's libostree requests from ours). */
  userAgent: string;
  /** When the request ended, seconds since the epoch (ms resolution). */
  msec: number;
  /** Seconds from the first request byte read to the last response byte sent. */
  requestTime: number;
  /** "HTTP/1.1" or "HTTP/2.0". */
  protocol: string;
}

export interface NginxServer {
  url: string;
  port: number;
  /** `https://127.0.0.1:PORT/` when started with `tls`, else null. */
  tlsUrl: string | null;
  tlsPort: number | null;
  prefix: string;
  pid: number | undefined;
  log(): NginxLogEntry[];
  /** The access log's size now: `entriesSince(mark())` later is what came after (without re-reading the whole log). */
  mark(): number;
  entriesSince(offset: number): NginxLogEntry[];
  /** Log entries after the first `start`, waiting up to 3 s for at least `n` (nginx logs after responding). */
  logSince(start: number, n: number): Promise<NginxLogEntry[]>;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a !== null ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

export interface NginxOptions {
  /** Extra directives inside `server { }`. */
  serverConfig?: string;
  /** Extra directives inside `http { }`. */
  httpConfig?: string;
  /** Also listen on [::1] at the same port (`$server_addr` tells the families apart). */
  ipv6?: boolean;
  /** Also listen with TLS on a second port (same root and log), optionally offering HTTP/2 by ALPN. */
  tls?: { cert: string; key: string; http2?: boolean };
  /**
   * Run nginx at this niceness (< 0 when allowed): on a small machine a benchmark's server should
   * behave as if it had its own CPU, not slow down when the client under test saturates the cores.
   */
  nice?: number;
}

/** Servers not stopped yet: never left running when this process ends without stop() (an uncaught error). One exit listener for all. */
const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running) child.kill('SIGTERM');
});

export async function startNginx(root: string, options: NginxOptions = {}): Promise<NginxServer> {
  const bin = toolPath('nginx');
  if (bin === null) throw new Error('nginx is not installed');
  const prefix = mkdtempSync(join(tmpdir(), 'ffetch-nginx-'));
  const port = await freePort();
  const tlsPort = options.tls === undefined ? null : await freePort();
  const tlsListen =
    options.tls === undefined
      ? ''
      : `listen 127.0.0.1:${tlsPort} ssl${options.tls.http2 === true ? ' http2' : ''};
    ssl_certificate ${options.tls.cert};
    ssl_certificate_key ${options.tls.key};`;
  const user = process.getuid?.() === 0 ? 'user root;' : '';
  const conf = `
${user}
worker_processes 1;
pid ${prefix}/nginx.pid;
error_log ${prefix}/error.log warn;
daemon off;
events { worker_connections 512; }
http {
  types { application/octet-stream bin; text/plain txt; }
  default_type application/octet-stream;
  client_body_temp_path ${prefix}/body;
  proxy_temp_path ${prefix}/proxy;
  fastcgi_temp_path ${prefix}/fastcgi;
  uwsgi_temp_path ${prefix}/uwsgi;
  scgi_temp_path ${prefix}/scgi;
  log_format jsonl escape=json '{"method":"$request_method","uri":"$request_uri","status":$status,"bodyBytes":$body_bytes_sent,"bytesSent":$bytes_sent,"range":"$http_range","connection":$connection,"connectionRequests":$connection_requests,"userAgent":"$http_user_agent","msec":$msec,"requestTime":$request_time,"protocol":"$server_protocol"}';
  access_log ${prefix}/access.log jsonl;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 100000;
  ${options.httpConfig ?? ''}
  server {
    listen 127.0.0.1:${port};
    ${options.ipv6 === true ? `listen [::1]:${port};` : ''}
    ${tlsListen}
    root ${root};
    location / { autoindex off; }
    ${options.serverConfig ?? ''}
  }
}`;
  writeFileSync(join(prefix, 'nginx.conf'), conf);
  const args = ['-p', prefix, '-e', join(prefix, 'error.log'), '-c', join(prefix, 'nginx.conf')];
  const nice = options.nice ?? 0;
  // nice execs nginx (the same pid).
  const child: ChildProcess =
    nice === 0 || !existsSync('/usr/bin/nice')
      ? spawn(bin, args, { stdio: ['ignore', 'ignore', 'pipe'] })
      : spawn('/usr/bin/nice', ['-n', String(nice), bin, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  running.add(child);
  let stderr = '';
  child.stderr?.on('data', (c) => {
    // GNU nice warns (and runs the command anyway) when it may not raise the priority.
    if (!/nice: cannot set niceness/.test(String(c))) stderr += String(c);
  });
  await waitForPort(port, child, () => stderr);
  if (tlsPort !== null) await waitForPort(tlsPort, child, () => stderr);
  const file = join(prefix, 'access.log');
  const parse = (text: string): NginxLogEntry[] =>
    text
      .split('\n')
      .filter((l) => l.length > 0)
      .map((l) => JSON.parse(l) as NginxLogEntry);
  const readLog = (): NginxLogEntry[] => (existsSync(file) ? parse(readFileSync(file, 'utf8')) : []);
  const mark = () => (existsSync(file) ? statSync(file).size : 0);
  return {
    url: `http://127.0.0.1:${port}/`,
    port,
    tlsUrl: tlsPort === null ? null : `https://127.0.0.1:${tlsPort}/`,
    tlsPort,
    prefix,
    pid: child.pid,
    log: readLog,
    mark,
    entriesSince: (offset) => {
      const size = mark();
      if (size <= offset) return [];
      const buf = Buffer.alloc(size - offset);
      const fd = openSync(file, 'r');
      try {
        readSync(fd, buf, 0, buf.length, offset);
      } finally {
        closeSync(fd);
      }
      return parse(buf.toString('utf8'));
    },
    logSince: async (start, n) => {
      const deadline = Date.now() + 3000;
      let log = readLog().slice(start);
      while (log.length < n && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 20));
        log = readLog().slice(start);
      }
      return log;
    },
    stop: async () => {
      running.delete(child);
      if (child.exitCode === null) {
        const done = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await done;
      }
      rmSync(prefix, { recursive: true, force: true });
    },
  };
}

/** Waits until `child` (a server we started) accepts connections on `port`; fails if it exits first. */
export async function waitForPort(port: number, child: ChildProcess, stderr: () => string, name = 'nginx'): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}: ${stderr()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${name} did not listen on ${port}: ${stderr()}`);
}
