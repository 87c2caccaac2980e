import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pull } from '@flathub-fetch/client';
import { RepoServer } from '@flathub-fetch/client/testing';
import type { Command } from '../Command.js';
import { ExitCode } from '../exitCodes.js';
import { bold, dim, formatBytes, table, writeJson } from '../output.js';
import { pullSummary } from './pull.js';
import { listDeltas, renderDeltas } from './deltas.js';
import { listRefs, renderRefs } from './refs.js';

/** The sample repository shipped with the CLI (a Flatpak repo made by the real flatpak tools). */
export function sampleRepoPath(): string {
  return fileURLToPath(new URL('../../sample/repo/', import.meta.url));
}

export const demo: Command = {
  name: 'demo',
  summary: 'Serve the embedded sample repository on loopback: its refs and deltas, and a pull with and without deltas.',
  usage: 'flathub-fetch demo [--arch ARCH] [--json]',
  help: `Starts a local HTTP server for the sample Flatpak repository bundled with flathub-fetch
(built by the real flatpak and ostree tools), lists its refs and its static deltas exactly as
'refs' and 'deltas' would for a real remote, then pulls its app twice into throwaway
repositories — with and without static deltas — and shows the requests, bytes and time of each.
Works offline.

Options:
  --arch ARCH   architecture to show (default: x86_64)
  --json        print {server, refs: <refs --json>, deltas: <deltas --json>, pulls: [<pull --json>…]}

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
      // Pull the first app both ways into throwaway repositories: what deltas save.
      const app = refs.refs.find((r) => r.name.startsWith('app/')) ?? refs.refs[0];
      const pulls = [];
      if (app !== undefined) {
        for (const mode of ['prefer', 'never'] as const) {
          const dir = mkdtempSync(join(tmpdir(), 'flathub-fetch-demo-'));
          try {
            const result = await pull({ url: server.url, ref: app.name, repo: join(dir, 'repo'), arch, deltas: mode, signal });
            pulls.push(pullSummary(result));
          } finally {
            rmSync(dir, { recursive: true, force: true });
          }
        }
      }
      if (args.values.json === true) {
        writeJson(o, { server: server.url, refs, deltas, pulls, requests: server.log.length });
      } else {
        o.out.write(`${bold(o, 'Refs')}\n`);
        renderRefs(o, refs);
        o.out.write(`\n${bold(o, 'Static deltas')}\n`);
        renderDeltas(o, deltas);
        if (pulls.length > 0) {
          o.out.write(`\n${bold(o, `Pulling ${app?.name}`)}\n`);
          const rows = [['', 'WITH DELTAS', 'WITHOUT DELTAS'].map((h) => bold(o, h))];
          const [a, b] = pulls as [(typeof pulls)[number], (typeof pulls)[number]];
          rows.push(['strategy', a.strategy, b.strategy]);
          rows.push(['requests', String(a.requests.total), String(b.requests.total)]);
          rows.push(['bytes', formatBytes(a.bytes.wire), formatBytes(b.bytes.wire)]);
          rows.push([
            'objects from deltas / loose',
            `${a.objects.fromDelta} / ${a.objects.loose}`,
            `${b.objects.fromDelta} / ${b.objects.loose}`,
          ]);
          rows.push(['time', `${a.durationMs} ms`, `${b.durationMs} ms`]);
          o.out.write(`${table(rows)}\n`);
        }
        o.err.write(dim(o, `${server.log.length} requests served\n`));
      }
      return ExitCode.OK;
    } finally {
      await server.close();
    }
  },
};
