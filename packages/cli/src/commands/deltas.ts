import type { DeltaSuperblock, RemoteDelta } from '@flathub-fetch/client';
import { loadClient } from '../client.js';
import type { Command } from '../Command.js';
import { ExitCode } from '../exitCodes.js';
import { bold, dim, formatBytes, type Output, table, writeJson } from '../output.js';
import { splitRemote } from '../remoteArgs.js';

export interface DeltaDetails extends RemoteDelta {
  /** Refs whose current commit is the delta's target. */
  refs: string[];
  parts: number | null;
  partBytes: number | null;
  uncompressedBytes: number | null;
  objects: number | null;
  fallbacks: number | null;
  fallbackBytes: number | null;
  inlineParts: number | null;
  endianness: string | null;
  /** Why details are missing (superblock unreachable or invalid). */
  error: string | null;
}

export interface DeltasResult {
  remote: string;
  summarySource: string;
  deltas: DeltaDetails[];
}

export async function listDeltas(
  url: string,
  options: { arch?: string; ref?: string; details?: boolean; signal?: AbortSignal },
): Promise<DeltasResult> {
  const { Remote, refGlob } = await loadClient();
  const remote = await Remote.open(url, {
    ...(options.arch ? { arch: options.arch } : {}),
    signal: options.signal,
  });
  try {
    const re = options.ref === undefined ? null : refGlob(options.ref);
    const refs = remote.refs().filter((r) => re === null || re.test(r.name));
    const byCommit = new Map<string, string[]>();
    for (const r of refs) byCommit.set(r.commit, [...(byCommit.get(r.commit) ?? []), r.name]);
    let list = await remote.deltas(re === null ? undefined : [...byCommit.keys()], { signal: options.signal });
    if (re !== null) list = list.filter((d) => byCommit.has(d.to));
    const deltas: DeltaDetails[] = [];
    for (const d of list) {
      const base: DeltaDetails = {
        ...d,
        refs: byCommit.get(d.to) ?? [],
        parts: null,
        partBytes: null,
        uncompressedBytes: null,
        objects: null,
        fallbacks: null,
        fallbackBytes: null,
        inlineParts: null,
        endianness: null,
        error: null,
      };
      if (options.details !== false) {
        try {
          Object.assign(base, summarize(await remote.superblock(d.from, d.to, { digest: d.digest, signal: options.signal })));
        } catch (err) {
          base.error = (err as Error).message;
        }
      }
      deltas.push(base);
    }
    deltas.sort(
      (a, b) =>
        (a.refs[0] ?? a.to).localeCompare(b.refs[0] ?? b.to) || (a.from === null ? -1 : b.from === null ? 1 : a.name.localeCompare(b.name)),
    );
    return { remote: remote.url, summarySource: remote.summarySource, deltas };
  } finally {
    await remote.close();
  }
}

function summarize(sb: DeltaSuperblock): Partial<DeltaDetails> {
  return {
    parts: sb.parts.length,
    partBytes: sb.parts.reduce((n, p) => n + p.size, 0),
    uncompressedBytes: sb.parts.reduce((n, p) => n + p.uncompressedSize, 0),
    objects: sb.parts.reduce((n, p) => n + p.objects.length, 0),
    fallbacks: sb.fallbacks.length,
    fallbackBytes: sb.fallbacks.reduce((n, f) => n + f.size, 0),
    inlineParts: sb.inlineParts.size,
    endianness: `${sb.endianness} (${sb.endiannessSource})`,
  };
}

export function renderDeltas(o: Output, result: DeltasResult): void {
  if (result.deltas.length === 0) {
    o.out.write(`${result.remote}: no static deltas advertised\n`);
    return;
  }
  const rows = [['TO', 'FROM', 'REFS', 'PARTS', 'SIZE', 'OBJECTS', 'FALLBACKS', 'LISTED IN'].map((h) => bold(o, h))];
  for (const d of result.deltas) {
    rows.push([
      d.to.slice(0, 12),
      d.from === null ? 'scratch' : d.from.slice(0, 12),
      d.refs.join(',') || '-',
      d.parts === null ? '?' : `${d.parts}${d.inlineParts ? ` (${d.inlineParts} inline)` : ''}`,
      d.error !== null ? `error: ${d.error}` : formatBytes(d.partBytes),
      d.objects === null ? '?' : String(d.objects),
      d.fallbacks === null ? '?' : d.fallbacks === 0 ? '0' : `${d.fallbacks} (${formatBytes(d.fallbackBytes)})`,
      d.source,
    ]);
  }
  o.out.write(`${table(rows, [3, 5])}\n`);
  o.err.write(dim(o, `${result.deltas.length} deltas from ${result.remote}\n`));
}

export const deltas: Command = {
  name: 'deltas',
  summary: 'List the static deltas a remote offers (from scratch and between revisions), with parts, sizes and fallbacks.',
  usage: 'flathub-fetch deltas [REMOTE] [REF-GLOB] [--arch ARCH] [--no-details] [--json]',
  help: `Deltas come from the summary's list and, where the remote keeps them, from delta indexes
(delta-indexes/…); each superblock is fetched and checked against its advertised SHA-256 to show
its parts, objects and fallbacks (skip that with --no-details).

Options:
  --arch ARCH    architecture whose Flatpak subsummary to read (default: this machine's)
  --no-details   do not fetch superblocks
  --json         print {remote, summarySource, deltas: [{name, from, to, digest, source, refs, parts,
                 partBytes, uncompressedBytes, objects, fallbacks, fallbackBytes, inlineParts,
                 endianness, error}]}

Examples:
  flathub-fetch deltas ./repo
  flathub-fetch deltas https://dl.flathub.org/repo/ 'app/org.libreoffice.LibreOffice/x86_64/*'
`,
  options: { arch: { type: 'string' }, 'no-details': { type: 'boolean' } },
  async run(args, o, signal) {
    const { remote, rest } = await splitRemote(args.positionals, 1);
    if (rest.length > 1) throw new (await import('../UsageError.js')).UsageError(`unexpected argument "${rest[1]}"`);
    const url = (await loadClient()).resolveRemoteUrl(remote).url;
    const arch = args.values.arch as string | undefined;
    const result = await listDeltas(url, {
      ...(arch ? { arch } : {}),
      ...(rest[0] ? { ref: rest[0] } : {}),
      details: args.values['no-details'] !== true,
      signal,
    });
    if (args.values.json === true) writeJson(o, result);
    else renderDeltas(o, result);
    return ExitCode.OK;
  },
};
