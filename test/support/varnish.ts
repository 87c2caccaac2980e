/**
 * A real Varnish (the cache Fastly is built on) on loopback in front of one backend, for tests of
 * a CDN-like topology. varnishd runs in the foreground (-F) with a temporary working directory
 * (-n) and a VCL file generated here; started as root, its worker runs as Debian's unprivileged
 * `vcache` user (the default unix jail). Stopped with SIGTERM to the process this helper started.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitForPort } from './nginx.js';
import { toolPath } from './tools.js';

export interface VarnishServer {
  url: string;
  port: number;
  stop(): Promise<void>;
}

export interface VarnishOptions {
  /** Backend first-byte timeout, seconds: past it Varnish answers 503 itself. */
  firstByteTimeout: number;
  /** Extra VCL after the backend. */
  vcl?: string;
}

export async function startVarnish(backendPort: number, options: VarnishOptions): Promise<VarnishServer> {
  const bin = toolPath('varnishd');
  if (bin === null) throw new Error('varnishd is not installed');
  const dir = mkdtempSync(join(tmpdir(), 'ffetch-varnish-'));
  // The worker (user vcache when started as root) must reach the VCL and the working directory.
  chmodSync(dir, 0o755);
  const port = await freePort();
  const vcl = join(dir, 'default.vcl');
  writeFileSync(
    vcl,
    `vcl 4.1;
backend origin {
  .host = "127.0.0.1";
  .port = "${backendPort}";
  .connect_timeout = 2s;
  .first_byte_timeout = ${options.firstByteTimeout}s;
  .between_bytes_timeout = 5s;
}
${options.vcl ?? ''}
`,
  );
  const child: ChildProcess = spawn(
    bin,
    [
      '-F',
      '-a',
      `127.0.0.1:${port}`,
      '-f',
      vcl,
      '-n',
      join(dir, 'work'),
      '-s',
      'malloc,64m',
      '-p',
      'thread_pools=1',
      '-p',
      'thread_pool_min=10',
      '-p',
      'thread_pool_max=100',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout?.on('data', (c) => {
    output += String(c);
  });
  child.stderr?.on('data', (c) => {
    output += String(c);
  });
  try {
    await waitForPort(port, child, () => output, 'varnishd');
  } catch (err) {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    url: `http://127.0.0.1:${port}/`,
    port,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const done = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await done;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
