import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PullComparison } from '@flathub-fetch/client';
import type { FaultPolicy } from '@flathub-fetch/client/testing';
import { loadClient, loadTesting } from '../client.js';
import type { Command } from '../Command.js';
import { ExitCode } from '../exitCodes.js';
import { bold, dim, writeJson } from '../output.js';
import { UsageError } from '../UsageError.js';
import { renderCompare, runCompare } from './compare.js';
import { listDeltas, renderDeltas } from './deltas.js';
import { writeDemoHtmlReport } from '../demoReport.js';
import { planJson, renderPlan } from './plan.js';
import { listRefs, renderRefs } from './refs.js';

/**
 * The sample repository shipped with the CLI: a Flatpak repo made by the real flatpak tools
 * (packages/cli/scripts/make-sample.sh): two releases of an app of ~800 small files, so a pull
 * without deltas makes hundreds of requests per update and ~900 per install, as real apps do on Flathub.
 */
export function sampleRepoPath(): string {
  return fileURLToPath(new URL('../../sample/repo/', import.meta.url));
}

/**
 * The demo's faults: the first attempt of every `every`-th object or delta file the server is
 * asked for gets a 503, as from an overloaded CDN edge; the retry succeeds. Deterministic.
 */
export function demoFaults(every: number): FaultPolicy {
  let n = 0;
  return (ctx) => {
    if (every <= 0 || ctx.attempt !== 1 || !/^\/(objects|deltas)\//.test(ctx.path)) return null;
    n++;
    return n % every === 0 ? { kind: 'status', status: 503, body: 'Service Unavailable (injected by flathub-fetch demo)\n' } : null;
  };
}

function positive(name: string, v: unknown, dflt: number, allowZero = false): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0 || (n === 0 && !allowZero))
    throw new UsageError(`--${name} must be a ${allowZero ? 'non-negative' : 'positive'} number, got "${String(v)}"`);
  return n;
}

export const demo: Command = {
  name: 'demo',
  summary: 'Offline tour: the embedded sample repository served through an emulated link with injected 503s; plan and compare.',
  usage: 'flathub-fetch demo [--rtt MS] [--mbit N] [--fail-every N] [--html FILE] [--json]',
  help: `Serves the sample Flatpak repository bundled with flathub-fetch (built by the real flatpak and
ostree tools: two releases of an app of about 800 small files, so it has as many objects as a
real app) on loopback, through an emulated network link (round-trip time and bandwidth cap,
the library's LinkEmulator) and with fault injection (the server answers 503 to the first attempt
of every Nth object or delta request; the client retries). Then it shows what a client sees:

  1. the refs (commit, date, download and installed size, EOL) and the static deltas;
  2. the plan for the app: deltas offered, the strategy chosen and why, delta vs object path;
  3. compare, for a fresh install and for an update from the previous release: the app pulled
     with static deltas and object by object into throwaway repositories, side by side —
     requests, bytes, wall time, first-byte latency, errors, retries, waste — and every injected
     503 with its URL and the retry that recovered it;
  4. the HTML report of the comparison (request waterfall, delta vs objects), and where it is.

Works offline and takes several seconds (the object-by-object pull makes hundreds of
requests, which is the point).

Options:
  --rtt MS          emulated round-trip time (default 30)
  --mbit N          emulated bandwidth per direction, Mbit/s (default 50)
  --fail-every N    503 on the first attempt of every Nth object/delta request (default 10; 0: none)
  --html FILE       where the HTML report goes (default flathub-fetch-demo.html in the temporary
                    directory)
  --json            print {server, link {rttMs, mbit}, failEvery, refs: <refs --json>,
                    deltas: <deltas --json>, plan: <plan --json>, compares: [<compare --json>, …]
                    (fresh install, then update when the sample has a previous release),
                    served {requests, injected503}, html: the report's path or null}

Example:
  flathub-fetch demo
  flathub-fetch demo --rtt 100 --mbit 10
`,
  options: { rtt: { type: 'string' }, mbit: { type: 'string' }, 'fail-every': { type: 'string' }, html: { type: 'string' } },
  async run(args, o, signal) {
    if (args.positionals.length > 0) throw new UsageError(`unexpected argument "${args.positionals[0]}"`);
    const rttMs = positive('rtt', args.values.rtt, 30, true);
    const mbit = positive('mbit', args.values.mbit, 50);
    const failEvery = positive('fail-every', args.values['fail-every'], 10, true);
    const json = args.values.json === true;
    const htmlFile = resolve((args.values.html as string | undefined) ?? join(tmpdir(), 'flathub-fetch-demo.html'));
    const arch = 'x86_64';
    const [{ planRemotePull }, { LinkEmulator, RepoServer }] = await Promise.all([loadClient(), loadTesting()]);
    const server = await RepoServer.start(sampleRepoPath(), { faults: demoFaults(Math.floor(failEvery)) });
    const link = await LinkEmulator.start({ upstreamPort: Number(new URL(server.url).port), rttMs, mbit });
    try {
      const url = link.url;
      const say = (text: string) => {
        if (!json) o.out.write(text);
      };
      if (!json)
        o.err.write(
          dim(
            o,
            `serving the sample repository at ${url} — emulated link: ${rttMs} ms RTT, ${mbit} Mbit/s; 503 on every ${failEvery}th object/delta request\n`,
          ),
        );
      const refs = await listRefs(url, { arch, signal });
      const deltas = await listDeltas(url, { arch, signal });
      const app = refs.refs.find((r) => r.name.startsWith('app/')) ?? refs.refs[0];
      if (app === undefined) throw new Error(`the sample repository at ${url} has no refs`);
      say(`${bold(o, '1. Refs')}\n`);
      if (!json) renderRefs(o, refs);
      say(`\n${bold(o, 'Static deltas')}\n`);
      if (!json) renderDeltas(o, deltas);

      const plan = await planRemotePull({ url, ref: app.name, arch, signal });
      say(`\n${bold(o, '2. ')}`);
      if (!json) renderPlan(o, plan);

      const previous = deltas.deltas.find((d) => d.to === app.commit && d.from !== null)?.from ?? null;
      const compares = [];
      const comparisons: PullComparison[] = [];
      for (const from of [null, previous]) {
        if (compares.length > 0 && from === null) continue;
        const n = `3${'abc'[compares.length] ?? ''}.`;
        say(`\n${bold(o, `${n} ${from === null ? 'Fresh install' : `Update from the previous release ${from.slice(0, 12)}`}`)}\n`);
        const c = await runCompare(o, {
          url,
          ref: app.name,
          arch,
          signal,
          progress: !json,
          onComparison: (full) => {
            comparisons.push(full);
          },
          ...(from !== null ? { from } : {}),
        });
        compares.push(c);
        if (!json) renderCompare(o, c);
      }

      const injected = server.log.filter((e) => e.fault === 'status').length;
      // ── The HTML report: the one call site (the renderer is wired in demoReport.ts). ──
      const html = (await writeDemoHtmlReport({ comparisons, file: htmlFile })) ? htmlFile : null;
      if (json) {
        writeJson(o, {
          server: url,
          link: { rttMs, mbit },
          failEvery,
          refs,
          deltas,
          plan: planJson(plan),
          compares,
          served: { requests: server.log.length, injected503: injected },
          html,
        });
      } else {
        o.out.write(`\n${bold(o, 'What this shows')}\n${conclusion(compares, injected)}\n`);
        o.err.write(dim(o, `${server.log.length} requests served, ${injected} of them answered 503 on purpose\n`));
        o.out.write(
          html === null
            ? `\n${bold(o, '4. HTML report')}: not available in this build (its renderer is not part of it yet)\n`
            : `\n${bold(o, '4. HTML report')} of this comparison: ${html}\n`,
        );
      }
      return ExitCode.OK;
    } finally {
      await link.close();
      await server.close();
    }
  },
};

function conclusion(compares: Array<Awaited<ReturnType<typeof runCompare>>>, injected: number): string {
  const lines: string[] = [];
  for (const c of compares) {
    const what = c.from === null ? 'fresh install' : 'update';
    lines.push(
      `- ${what}: ${c.deltas.requests} requests with static deltas (${c.deltas.strategy}) against ${c.objects.requests} object by object` +
        ` (${Math.round(c.objects.requests / Math.max(1, c.deltas.requests))}× as many);` +
        ` ${(c.deltas.wallMs / 1000).toFixed(2)} s vs ${(c.objects.wallMs / 1000).toFixed(2)} s on this link.`,
    );
  }
  const seen = compares.reduce((n, c) => n + c.deltas.failures.length + c.objects.failures.length, 0);
  lines.push(
    `- the server answered ${injected} requests with 503 on purpose (in the listing, the plan and the pulls); the client retried` +
      ` each and every command succeeded. The ${seen} that hit the compared pulls are listed above with URL and attempt.`,
  );
  lines.push('- against a real remote: flathub-fetch plan REF, then flathub-fetch compare REF (REMOTE defaults to Flathub).');
  return lines.join('\n');
}
