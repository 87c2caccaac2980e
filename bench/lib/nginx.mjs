// A real nginx serving a directory on loopback with a JSON access log (one object per line),
// for the pull benchmark. Same setup as test/support/nginx.ts, plus per-request times.
//
// log entry: { method, uri, status, bodyBytes, bytesSent, range, connection, connectionRequests,
//              msec (end time, s since the epoch), requestTime (s) }
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

export function nginxBinary() {
  for (const p of ['/usr/sbin/nginx', '/usr/bin/nginx', '/usr/local/sbin/nginx', '/usr/local/bin/nginx']) if (existsSync(p)) return p;
  return null;
}

/**
 * nginx serving `root` on a loopback port; with `tls: { cert, key }` also on a second port with
 * TLS and HTTP/2 offered by ALPN (same root and log). Log entries carry the protocol version.
 */
export async function startNginx(root, { nice = 0, tls = null } = {}) {
  const bin = nginxBinary();
  if (bin === null) throw new Error('nginx is not installed');
  const prefix = mkdtempSync(join(tmpdir(), 'ffetch-bench-nginx-'));
  const port = await freePort();
  const tlsPort = tls === null ? null : await freePort();
  const log = join(prefix, 'access.log');
  const conf = `
${process.getuid?.() === 0 ? 'user root;' : ''}
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
  log_format jsonl escape=json '{"method":"$request_method","uri":"$request_uri","status":$status,"bodyBytes":$body_bytes_sent,"bytesSent":$bytes_sent,"range":"$http_range","connection":$connection,"connectionRequests":$connection_requests,"msec":$msec,"requestTime":$request_time,"protocol":"$server_protocol"}';
  access_log ${log} jsonl;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 100000;
  keepalive_timeout 75s;
  server {
    listen 127.0.0.1:${port};
    root ${root};
    location / { autoindex off; }
  }
${
  tls === null
    ? ''
    : `  server {
    listen 127.0.0.1:${tlsPort} ssl http2;
    ssl_certificate ${tls.cert};
    ssl_certificate_key ${tls.key};
    http2_max_concurrent_streams 128;
    root ${root};
    location / { autoindex off; }
  }`
}
}`;
  writeFileSync(join(prefix, 'nginx.conf'), conf);
  const args = ['-p', prefix, '-e', join(prefix, 'error.log'), '-c', join(prefix, 'nginx.conf')];
  // `nice` < 0 (when allowed): on a small machine the server should behave as if it had its own
  // CPU, not slow down when the client under test saturates the cores. nice execs nginx (same pid).
  const child =
    nice === 0 || !existsSync('/usr/bin/nice')
      ? spawn(bin, args, { stdio: ['ignore', 'ignore', 'pipe'] })
      : spawn('/usr/bin/nice', ['-n', String(nice), bin, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  // Never leave it running if this process ends without stop() (an uncaught error).
  const onExit = () => child.kill('SIGTERM');
  process.on('exit', onExit);
  let stderr = '';
  child.stderr.on('data', (c) => {
    // GNU nice warns (and runs the command anyway) when it may not raise the priority.
    if (!/nice: cannot set niceness/.test(String(c))) stderr += String(c);
  });
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`nginx exited with ${child.exitCode}: ${stderr}`);
    const ok = await new Promise((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) break;
    if (Date.now() > deadline) throw new Error(`nginx did not listen on ${port}: ${stderr}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url: `http://127.0.0.1:${port}/`,
    port,
    tlsPort,
    pid: child.pid,
    /** Current size of the access log: pass it to entriesSince() to get what came after. */
    mark: () => (existsSync(log) ? statSync(log).size : 0),
    entriesSince: (offset) => {
      if (!existsSync(log)) return [];
      const size = statSync(log).size;
      if (size <= offset) return [];
      const buf = Buffer.alloc(size - offset);
      const fd = openSync(log, 'r');
      try {
        readSync(fd, buf, 0, buf.length, offset);
      } finally {
        closeSync(fd);
      }
      return buf
        .toString('utf8')
        .split('\n')
        .filter((l) => l.length > 0)
        .map((l) => JSON.parse(l));
    },
    stop: async () => {
      process.off('exit', onExit);
      if (child.exitCode === null) {
        const done = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await done;
      }
      rmSync(prefix, { recursive: true, force: true });
    },
  };
}
