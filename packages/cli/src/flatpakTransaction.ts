/**
 * What `install` and `update` share: the installation options, the priced list, the one-line
 * progress for the whole transaction, end-of-life notices, and the hand-over to flatpak.
 */
import { createInterface } from 'node:readline';
import type { Installation, InstallEvent, PlannedOp, TransactionResult } from '@flathub-fetch/client';
import type { Client } from './client.js';
import type { ParsedArgs } from './Command.js';
import { bold, formatBytes, type Output, table } from './output.js';
import { UsageError } from './UsageError.js';

export const TRANSACTION_OPTIONS = {
  user: { type: 'boolean' },
  system: { type: 'boolean' },
  installation: { type: 'string' },
  assumeyes: { type: 'boolean', short: 'y' },
  'download-only': { type: 'boolean' },
  arch: { type: 'string' },
  connections: { type: 'string' },
} as const;

export const TRANSACTION_HELP = `  --user               the per-user installation ($FLATPAK_USER_DIR or ~/.local/share/flatpak)
  --system             the system installation ($FLATPAK_SYSTEM_DIR or /var/lib/flatpak)
  --installation NAME  a named installation (/etc/flatpak/installations.d/*.conf)
  --assumeyes, -y      do not ask before downloading
  --download-only      download into the installation's repository, do not run flatpak
  --arch ARCH          architecture of partial ref names (default: this machine's)
  --connections N      connections per server (default 8)
`;

/** The installation named by --user / --system / --installation, or undefined (command's default). */
export function installationArg(args: ParsedArgs): string | undefined {
  const v = args.values;
  const given = [v.user === true, v.system === true, typeof v.installation === 'string'].filter(Boolean).length;
  if (given > 1) throw new UsageError('give only one of --user, --system, --installation');
  if (v.user === true) return 'user';
  if (v.system === true) return 'system';
  return typeof v.installation === 'string' ? v.installation : undefined;
}

function downloadText(op: PlannedOp): string {
  if (op.strategy === 'up-to-date') return 'present';
  if (op.downloadBytes === null) return op.downloadSize === null ? '?' : `≤ ${formatBytes(op.downloadSize)}`;
  return `${op.estimate === 'exact' ? '' : '~'}${formatBytes(op.downloadBytes)}`;
}

const STRATEGY: Record<string, string> = {
  'delta-from': 'delta from installed',
  'delta-scratch': 'delta from scratch',
  objects: 'objects',
  'up-to-date': 'already downloaded',
};

/** The list shown before downloading: ref, why, commit, download (exact for deltas) and installed sizes. */
export function renderPlan(o: Output, inst: Installation, ops: readonly PlannedOp[], verb: string): void {
  o.err.write(`${verb} in the ${inst.displayName.toLowerCase()} (${inst.path}):\n\n`);
  const rows = [['', 'REF', 'WHY', 'COMMIT', 'DOWNLOAD', 'HOW', 'INSTALLED'].map((h) => bold(o, h))];
  ops.forEach((op, i) => {
    const partial = op.subpaths !== null && op.subpaths.length > 0;
    rows.push([
      `${i + 1}.`,
      op.ref,
      op.why,
      op.commit.slice(0, 12),
      downloadText(op),
      `${STRATEGY[op.strategy] ?? op.strategy}${partial ? ` (${op.subpaths?.join(', ')})` : ''}`,
      op.installedSize === null ? '?' : `${partial ? '≤ ' : ''}${formatBytes(op.installedSize)}`,
    ]);
  });
  o.err.write(`${table(rows, [4, 6])}\n\n`);
  const exact = ops.every((x) => x.estimate === 'exact');
  const total = ops.reduce((n, x) => n + (x.downloadBytes ?? x.downloadSize ?? 0), 0);
  o.err.write(`Download: ${exact ? '' : 'up to about '}${formatBytes(total)}\n`);
}

/** flatpak's end-of-life notices for the refs of the transaction. */
export function renderEol(o: Output, ops: readonly PlannedOp[]): void {
  for (const op of ops) {
    if (op.eolRebase !== null) o.err.write(`Info: ${op.ref} is end-of-life, in favor of ${op.eolRebase}\n`);
    else if (op.eol !== null) o.err.write(`Info: ${op.ref} is end-of-life, with reason:\n   ${op.eol}\n`);
  }
}

/** Asks on stdin as flatpak does; without a terminal and without -y, the answer is no (as reading nothing gives). */
export async function confirm(o: Output, assumeyes: boolean): Promise<boolean> {
  if (assumeyes) return true;
  o.err.write('Proceed with these changes? [Y/n]: ');
  const rl = createInterface({ input: process.stdin });
  const answer = await new Promise<string | null>((resolve) => {
    rl.once('line', (l) => resolve(l));
    rl.once('close', () => resolve(null));
  });
  rl.close();
  if (answer === null) {
    o.err.write('\n');
    return false;
  }
  return answer.trim() === '' || /^y(es)?$/i.test(answer.trim());
}

/** One progress line for the whole transaction (on a terminal), plus the event hook for the library. */
export function progressLine(o: Output): { onEvent: (e: InstallEvent) => void; clear(): void } {
  let drawn = false;
  let last = 0;
  const tty = o.err.isTTY === true;
  return {
    onEvent: (e) => {
      if (!tty || e.type !== 'progress') return;
      const now = performance.now();
      if (now - last < 100) return;
      last = now;
      const p = e.progress;
      const frac = p.bytes.total > 0 ? Math.min(1, p.bytes.done / p.bytes.total) : 0;
      const bar = `[${'#'.repeat(Math.round(frac * 20)).padEnd(20, '.')}]`;
      const rate = p.elapsed > 0 ? (p.bytes.done / p.elapsed) * 1000 : 0;
      o.err.write(
        `\r\u001b[2K${p.index + 1}/${p.count} ${bar} ${formatBytes(p.bytes.done)}/${formatBytes(p.bytes.total)} ${formatBytes(rate)}/s ${p.requests} req  ${p.ref}`,
      );
      drawn = true;
    },
    clear: () => {
      if (drawn) o.err.write('\r\u001b[2K');
      drawn = false;
    },
  };
}

export function transactionJson(r: TransactionResult, flatpak: Array<{ args: string[]; exitCode: number }>) {
  return {
    installation: { id: r.installation.id, path: r.installation.path, languages: r.installation.languages },
    cancelled: r.cancelled,
    ops: r.ops.map((op, i) => {
      const p = r.pulls[i];
      return {
        ref: op.ref,
        remote: op.remote,
        commit: op.commit,
        why: op.why,
        subpaths: op.subpaths,
        strategy: p?.strategy ?? op.strategy,
        downloadBytes: op.downloadBytes,
        estimate: op.estimate,
        installedSize: op.installedSize,
        eol: op.eol,
        eolRebase: op.eolRebase,
        requests: p?.requests.length ?? 0,
        wireBytes: p?.requests.reduce((n, q) => n + q.wireBytes, 0) ?? 0,
      };
    }),
    durationMs: Math.round(r.durationMs),
    flatpak,
  };
}

/** Runs the hand-over commands in order, flatpak's output passed through; the first non-zero exit code stops it. */
export async function handOver(
  c: Client,
  kind: 'install' | 'update',
  r: TransactionResult,
  o: Output,
  json: boolean,
  signal: AbortSignal,
): Promise<{ exitCode: number; runs: Array<{ args: string[]; exitCode: number }> }> {
  const runs: Array<{ args: string[]; exitCode: number }> = [];
  for (const args of c.handOverCommands(kind, r)) {
    if (!json) o.err.write(`+ flatpak ${args.join(' ')}\n`);
    const run = await c.runFlatpak(args, { stdio: json ? 'pipe' : 'inherit', signal });
    runs.push({ args, exitCode: run.exitCode });
    if (run.exitCode !== 0) {
      // flatpak printed its error already when its output is passed through.
      if (json && run.error !== null) o.err.write(`flatpak: ${run.error}\n`);
      return { exitCode: run.exitCode, runs };
    }
  }
  return { exitCode: 0, runs };
}
