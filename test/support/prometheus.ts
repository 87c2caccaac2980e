/**
 * A real Prometheus (Debian's package) on a free loopback port with a throwaway TSDB, and
 * `promtool`. `query` asks the HTTP API for an instant vector; `waitFor` polls until a
 * condition holds or a bounded wait ends (the error then shows the last answer).
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort, waitForPort } from './nginx.js';
import { toolPath } from './tools.js';

export interface Sample {
  metric: Record<string, string>;
  value: number;
}

export interface PrometheusServer {
  url: string;
  query(q: string): Promise<Sample[]>;
  /** Polls `q` every 250 ms until `ok(samples)` or `timeoutMs` ends. */
  waitFor(q: string, ok: (s: Sample[]) => boolean, timeoutMs: number): Promise<Sample[]>;
  stop(): Promise<void>;
}

export async function promtool(args: string[]): Promise<{ code: number; output: string }> {
  const bin = toolPath('promtool');
  if (bin === null) throw new Error('promtool is not installed');
  try {
    const r = await promisify(execFile)(bin, args, { encoding: 'utf8' });
    return { code: 0, output: r.stdout + r.stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, output: e.stdout + e.stderr };
  }
}

/** Starts Prometheus with `config` (YAML text; `files` are written beside it, e.g. rule files). */
export async function startPrometheus(config: string, files: Record<string, string> = {}): Promise<PrometheusServer> {
  const bin = toolPath('prometheus');
  if (bin === null) throw new Error('prometheus is not installed');
  const dir = mkdtempSync(join(tmpdir(), 'ffetch-prometheus-'));
  writeFileSync(join(dir, 'prometheus.yml'), config);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  const port = await freePort();
  const child: ChildProcess = spawn(
    bin,
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (c) => {
    stderr = (stderr + String(c)).slice(-8000);
  });
  await waitForPort(port, child, () => stderr, 'prometheus');
  const url = `http://127.0.0.1:${port}/`;
  const query = async (q: string): Promise<Sample[]> => {
    const res = await fetch(`${url}api/v1/query?query=${encodeURIComponent(q)}`);
    const body = (await res.json()) as {
      status: string;
      error?: string;
      data?: { result: Array<{ metric: Record<string, string>; value: [number, string] }> };
    };
    if (body.status !== 'success') throw new Error(`query ${q}: ${body.error}`);
    return (body.data?.result ?? []).map((r) => ({ metric: r.metric, value: Number(r.value[1]) }));
  };
  return {
    url,
    query,
    waitFor: async (q, ok, timeoutMs) => {
      const deadline = Date.now() + timeoutMs;
      let last: Sample[] = [];
      for (;;) {
        last = await query(q).catch(() => []);
        if (ok(last)) return last;
        if (Date.now() > deadline)
          throw new Error(`waited ${timeoutMs} ms for ${q}; last answer ${JSON.stringify(last)}; prometheus stderr: ${stderr}`);
        await new Promise((r) => setTimeout(r, 250));
      }
    },
    stop: async () => {
      if (child.exitCode === null) {
        const done = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await done;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
