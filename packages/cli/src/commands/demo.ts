import { fileURLToPath } from 'node:url';
import { RepoServer } from '@flathub-fetch/client/testing';
import type { Command } from '../Command.js';
import { ExitCode } from '../exitCodes.js';
import { bold, dim, writeJson } from '../output.js';
import { listDeltas, renderDeltas } from './deltas.js';
import { listRefs, renderRefs } from './refs.js';

/** The sample repository shipped with the CLI (a Flatpak repo made by the real flatpak tools). */
export function sampleRepoPath(): string {
  return fileURLToPath(new URL('../../sample/repo/', import.meta.url));
}

export const demo: Command = {
  name: 'demo',
  summary: 'Serve the embedded sample repository on loopback and show what it offers: refs, deltas, sizes.',
  usage: 'flathub-fetch demo [--arch ARCH] [--json]',
  help: `Starts a local HTTP server for the sample Flatpak repository bundled with flathub-fetch
(built by the real flatpak and ostree tools), then lists its refs and its static deltas exactly
as 'refs' and 'deltas' would for a real remote. Works offline.

Options:
  --arch ARCH   architecture to show (default: x86_64)
  --json        print {server, refs: <refs --json>, deltas: <deltas --json>}

Example:
  flathub-fetch demo
`,
  options: { arch: { type: 'string' } },
  async run(args, o, signal) {
    const server = await RepoServer.start(sampleRepoPath());
    try {
      const arch = (args.values.arch as string | undefined) ?? 'x86_64';
      if (args.values.json !== true) o.err.write(dim(o, `serving the sample repository at ${server.url}\n`));
      const refs = await listRefs(server.url, { arch, signal });
      const deltas = await listDeltas(server.url, { arch, signal });
      if (args.values.json === true) {
        writeJson(o, { server: server.url, refs, deltas, requests: server.log.length });
      } else {
        o.out.write(`${bold(o, 'Refs')}\n`);
        renderRefs(o, refs);
        o.out.write(`\n${bold(o, 'Static deltas')}\n`);
        renderDeltas(o, deltas);
        o.err.write(dim(o, `${server.log.length} requests served\n`));
      }
      return ExitCode.OK;
    } finally {
      await server.close();
    }
  },
};
