/**
 * `comparePulls()`: pulls one ref twice into throwaway repositories — once as a client would
 * (static deltas preferred) and once object by object (deltas off) — and returns both results
 * (`buildReport()` of each gives the diagnostics to put side by side). With `from`, each
 * repository first receives that commit (a preparation pull, not part of the comparison), so
 * the delta pull can start from a revision. The repositories are removed afterwards unless
 * `keep` is set.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseChecksum } from '../formats/checksum.js';
import type { PullEvent } from '../pull/PullEvent.js';
import type { PullOptions } from '../pull/PullOptions.js';
import type { PullResult } from '../pull/PullResult.js';
import { removeTree } from '../repo/removeTree.js';
import { parsePullTarget, pull } from './pull.js';

export type CompareMode = 'deltas' | 'objects';

export interface ComparePullsOptions extends Omit<PullOptions, 'repo' | 'deltas' | 'onEvent' | 'remote'> {
  /** Start both pulls from a repository holding this commit (pulled first, not compared). */
  from?: string;
  /** Directory for the throwaway repositories. @default the OS temporary directory */
  workDir?: string;
  /** Keep the repositories (their paths are in the results). @default false */
  keep?: boolean;
  /** Events of each pull (the preparation pulls' too, with `prepare: true`). */
  onEvent?: (mode: CompareMode, event: PullEvent, prepare: boolean) => void;
}

export interface PullComparison {
  remote: string;
  ref: string | null;
  commit: string;
  from: string | null;
  /** The pull as a client makes it (static deltas preferred). */
  deltas: PullResult;
  /** The same pull with static deltas off. */
  objects: PullResult;
}

export async function comparePulls(options: ComparePullsOptions): Promise<PullComparison> {
  const { from: fromSpec, workDir, keep, onEvent, ...pullOptions } = options;
  const from = fromSpec === undefined ? null : parseChecksum(fromSpec, 'from');
  const dir = await mkdtemp(join(workDir ?? tmpdir(), 'flathub-fetch-compare-'));
  try {
    const run = async (mode: CompareMode) => {
      const repo = join(dir, mode);
      if (from !== null) {
        const spec = parsePullTarget(options.ref);
        await pull({
          ...pullOptions,
          ref: spec.ref === null ? from : `${spec.ref}@${from}`,
          repo,
          remote: null,
          deltas: mode === 'objects' ? 'never' : 'prefer',
          onEvent: (e) => onEvent?.(mode, e, true),
        });
      }
      return pull({
        ...pullOptions,
        repo,
        remote: null,
        deltas: mode === 'objects' ? 'never' : 'prefer',
        onEvent: (e) => onEvent?.(mode, e, false),
      });
    };
    // One after the other: each has the link to itself.
    const deltas = await run('deltas');
    const objects = await run('objects');
    return { remote: deltas.remote, ref: deltas.ref, commit: deltas.commit, from, deltas, objects };
  } finally {
    if (keep !== true) await removeTree(dir);
  }
}
