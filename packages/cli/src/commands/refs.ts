import type { RemoteRef } from '@flathub-fetch/client';
import { loadClient } from '../client.js';
import type { Command } from '../Command.js';
import { ExitCode } from '../exitCodes.js';
import { bold, dim, formatBytes, formatTime, type Output, table, writeJson } from '../output.js';
import { splitRemote } from '../remoteArgs.js';

export interface RefsResult {
  remote: string;
  summarySource: string;
  arch: string;
  refs: RemoteRef[];
}

/** Lists refs; shared by `refs` and `demo`. */
export async function listRefs(url: string, options: { arch?: string; glob?: string; signal?: AbortSignal }): Promise<RefsResult> {
  const { Remote, refGlob } = await loadClient();
  const remote = await Remote.open(url, {
    ...(options.arch ? { arch: options.arch } : {}),
    signal: options.signal,
  });
  try {
    const re = options.glob === undefined ? null : refGlob(options.glob);
    return {
      remote: remote.url,
      summarySource: remote.summarySource,
      arch: remote.arch,
      refs: remote.refs().filter((r) => re === null || re.test(r.name)),
    };
  } finally {
    await remote.close();
  }
}

export function renderRefs(o: Output, result: RefsResult): void {
  if (result.refs.length === 0) {
    o.out.write(`${result.remote}: no refs advertised${result.summarySource === 'none' ? ' (the repository has no summary)' : ''}\n`);
    return;
  }
  const rows = [['REF', 'COMMIT', 'DATE', 'DOWNLOAD', 'INSTALLED', 'EOL'].map((h) => bold(o, h))];
  for (const r of result.refs) {
    rows.push([
      r.name,
      r.commit.slice(0, 12),
      formatTime(r.timestamp),
      formatBytes(r.downloadSize),
      formatBytes(r.installedSize),
      eolLabel(r),
    ]);
  }
  o.out.write(`${table(rows, [3, 4])}\n`);
  o.err.write(dim(o, `${result.refs.length} refs from ${result.remote} (${result.summarySource}, arch ${result.arch})\n`));
}

/** `eol: MESSAGE → REPLACEMENT`, as much of it as the summary says; empty when not end-of-life. */
function eolLabel(r: RemoteRef): string {
  if (r.eol === null && r.eolRebase === null) return '';
  return `eol${r.eol !== null ? `: ${r.eol}` : ''}${r.eolRebase !== null ? ` → ${r.eolRebase}` : ''}`;
}

export const refs: Command = {
  name: 'refs',
  summary: 'List the refs a remote advertises, with commit, date, download and installed size, and EOL flags.',
  usage: 'flathub-fetch refs [REMOTE] [GLOB] [--arch ARCH] [--json]',
  help: `Options:
  --arch ARCH   architecture whose Flatpak subsummary to read (default: this machine's)
  --json        print {remote, summarySource, arch, refs: [{name, commit, collectionId, timestamp,
                version, commitSize, downloadSize, installedSize, eol, eolRebase, metadata}]}

Examples:
  flathub-fetch refs
  flathub-fetch refs 'app/org.gnome.*'
  flathub-fetch refs https://dl.flathub.org/beta-repo/ --arch aarch64 --json
  flathub-fetch refs ./my-repo
`,
  options: { arch: { type: 'string' } },
  async run(args, o, signal) {
    const { remote, rest } = await splitRemote(args.positionals, 1);
    if (rest.length > 1) throw new (await import('../UsageError.js')).UsageError(`unexpected argument "${rest[1]}"`);
    const url = (await loadClient()).resolveRemoteUrl(remote).url;
    const arch = args.values.arch as string | undefined;
    const result = await listRefs(url, { ...(arch ? { arch } : {}), ...(rest[0] ? { glob: rest[0] } : {}), signal });
    if (args.values.json === true) writeJson(o, result);
    else renderRefs(o, result);
    return ExitCode.OK;
  },
};
