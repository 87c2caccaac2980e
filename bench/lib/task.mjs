// node bench/lib/task.mjs TASK ARGS… — one measured operation in a fresh process.
//
// Prints JSON: `ms` (the operation alone, a cold first call including lazy imports of the
// library code it needs), `rssKb` (this process's peak RSS, process.resourceUsage().maxRSS)
// and task-specific facts. The parent also times the whole process and reads GNU time's peak
// RSS. `baseline` measures Node itself (start, import of the client library, exit).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DIST } from './harness.mjs';

const [task, ...args] = process.argv.slice(2);
const client = await import(pathToFileURL(DIST).href);

async function timed(fn) {
  const t = process.hrtime.bigint();
  const extra = await fn();
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  return { ms, ...extra };
}

const tasks = {
  baseline: async () => timed(() => ({})),

  'parse-summary': async ([file]) => {
    const bytes = new Uint8Array(readFileSync(file));
    return timed(() => {
      const s = client.parseSummary(bytes);
      return { refs: s.refs.length };
    });
  },

  // `flathub-fetch refs URL ARGS…` in this process, output to a sink: the command alone, after
  // Node start and the library's import (the CLI's own time from here to the last byte written).
  'cli-refs': async (argv) => {
    const { main } = await import(pathToFileURL(join(DIST, '..', '..', '..', 'cli', 'dist', 'main.js')).href);
    let bytes = 0;
    const sink = {
      write: (c) => {
        bytes += c.length;
        return true;
      },
      isTTY: false,
    };
    return timed(async () => {
      const code = await main(['refs', ...argv], { out: sink, err: { write: () => true, isTTY: false }, color: false });
      if (code !== 0) throw new Error(`refs exited with ${code}`);
      return { outputBytes: bytes };
    });
  },

  'verify-objects': async ([repo]) => {
    const { verifyAllSync } = await import('./verify.mjs');
    return timed(() => ({ counts: verifyAllSync(client, repo) }));
  },

  'verify-commits': async ([repo]) => {
    const { verifyCommits } = await import('./verify.mjs');
    return timed(async () => verifyCommits(client, repo));
  },

  sha256: async ([file]) =>
    timed(() => ({
      checksum: client.sha256Hex(readFileSync(file)),
    })),
};

const fn = tasks[task];
if (!fn) {
  console.error(`unknown task ${task}; one of ${Object.keys(tasks).join(', ')}`);
  process.exit(2);
}
const report = await fn(args);
process.stdout.write(JSON.stringify({ ...report, rssKb: process.resourceUsage().maxRSS }));
