/**
 * Runs a command to completion and reports its peak resident set size, as the kernel accounts
 * it (`getrusage(RUSAGE_CHILDREN).ru_maxrss` of a python3 parent that runs nothing else: the
 * largest RSS any waited-for descendant reached, i.e. the Node.js process of a CLI run; worker
 * threads count, child processes such as `xz` are measured apart and are far smaller).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface PeakRssRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Peak RSS in bytes. */
  peakRss: number;
}

const WRAPPER = `
import json, resource, subprocess, sys
p = subprocess.run(sys.argv[2:])
with open(sys.argv[1], 'w') as f:
    json.dump({'code': p.returncode, 'maxrss_kib': resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}, f)
`;

export function runWithPeakRss(cmd: string, args: readonly string[], env: Record<string, string> = {}): Promise<PeakRssRun> {
  const dir = mkdtempSync(join(tmpdir(), 'ffetch-rss-'));
  const out = join(dir, 'rusage.json');
  return new Promise((resolve, reject) => {
    const child = spawn('python3', ['-c', WRAPPER, out, cmd, ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.on('error', reject);
    child.on('close', () => {
      try {
        const r = JSON.parse(readFileSync(out, 'utf8')) as { code: number; maxrss_kib: number };
        resolve({ code: r.code, stdout, stderr, peakRss: r.maxrss_kib * 1024 });
      } catch (err) {
        reject(new Error(`${cmd} ${args.join(' ')}: no resource usage recorded (${(err as Error).message}); stderr: ${stderr}`));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}
