import type { PlanAlternative, RemotePlan } from '@flathub-fetch/client';
import { loadClient } from '../client.js';
import type { Command } from '../Command.js';
import { ExitCode } from '../exitCodes.js';
import { bold, dim, formatBytes, type Output, table, writeJson } from '../output.js';
import { splitRemote } from '../remoteArgs.js';
import { UsageError } from '../UsageError.js';

const LABELS: Record<PlanAlternative['strategy'], string> = {
  'delta-from': 'DELTA FROM REVISION',
  'delta-scratch': 'DELTA FROM SCRATCH',
  objects: 'OBJECTS',
};

/** The `--json` document: the plan without the per-request records (their count instead). */
export function planJson(p: RemotePlan) {
  const { requests, ...rest } = p;
  return { ...rest, planningRequests: requests.filter((r) => r.attempt === 1).length };
}

function startingPoint(p: RemotePlan): string {
  switch (p.local.kind) {
    case 'empty':
      return 'an empty repository';
    case 'repo':
      return `repository ${p.local.repo} (${p.local.objects} objects; complete commits: ${p.plan.localCommits.map((c) => c.slice(0, 12)).join(', ') || 'none'})`;
    case 'from':
      return `a repository holding commit ${p.local.from} (${p.local.objects} objects, listed by ${
        p.local.source === 'superblock' ? 'its from-scratch delta’s superblock' : 'walking its dirtrees over HTTP'
      })`;
  }
}

export function renderPlan(o: Output, p: RemotePlan): void {
  const size =
    p.targetRef === null ? '' : ` (download ${formatBytes(p.targetRef.downloadSize)}, installed ${formatBytes(p.targetRef.installedSize)})`;
  o.out.write(`${bold(o, 'Plan')} ${p.ref ?? p.target} → ${p.target.slice(0, 12)}${size}\n`);
  o.out.write(`remote: ${p.remote}\nstarting from: ${startingPoint(p)}\n\n`);
  if (p.deltas.length === 0) o.out.write('static deltas to this commit: none\n');
  else {
    o.out.write(`static deltas to this commit: ${p.deltas.length}\n`);
    const rows = [['FROM', 'LISTED IN'].map((h) => bold(o, h))];
    for (const d of p.deltas) rows.push([d.from === null ? 'scratch' : d.from, d.source]);
    o.out.write(`${indent(table(rows))}\n`);
  }
  o.out.write(`\n${bold(o, 'chosen:')} ${p.plan.strategy} — ${p.plan.reason}\n\n`);
  if (p.plan.strategy === 'up-to-date') return;
  const alts = p.plan.alternatives;
  const header = ['', ...alts.map((a) => (a === p.plan.chosen ? `${LABELS[a.strategy]} *` : LABELS[a.strategy]))];
  const rows = [header.map((h) => bold(o, h))];
  const cell = (a: PlanAlternative, v: string) => (a.available ? v : '-');
  rows.push(['available', ...alts.map((a) => (a.available ? 'yes' : 'no'))]);
  rows.push(['from', ...alts.map((a) => cell(a, a.strategy === 'objects' ? '-' : a.from === null ? 'scratch' : a.from.slice(0, 12)))]);
  rows.push(['requests', ...alts.map((a) => cell(a, a.requests === null ? '?' : String(a.requests)))]);
  rows.push(['bytes', ...alts.map((a) => cell(a, a.bytes === null ? '?' : formatBytes(a.bytes)))]);
  rows.push(['total requests', ...alts.map((a) => cell(a, String(p.totals[a.strategy]?.requests ?? '?')))]);
  rows.push(['total bytes', ...alts.map((a) => cell(a, formatBytes(p.totals[a.strategy]?.bytes)))]);
  rows.push(['estimate', ...alts.map((a) => cell(a, a.estimate))]);
  rows.push(['cost model', ...alts.map((a) => cell(a, seconds(p.estimatedSeconds[a.strategy])))]);
  o.out.write(`${table(rows)}\n\n`);
  for (const a of alts) o.out.write(`${LABELS[a.strategy].toLowerCase()}: ${a.note}\n`);
  o.out.write(
    dim(
      o,
      `\nrequests/bytes: the alternative's own; totals add repository metadata (${p.metadata.requests} requests: config, summary…)` +
        ` and the delta lookup (${p.deltaDiscovery.requests}; a --no-deltas pull skips it)` +
        `${p.pricing.requests > 0 ? `, and for the chosen path the ${p.pricing.requests} other superblock(s) the pull fetches to price it` : ''}.\n` +
        `cost model: bytes ÷ ${(p.costModel.bandwidth * 8) / 1e6} Mbit/s + requests × ${p.costModel.rttMs} ms RTT ÷ ${p.costModel.parallelism} in flight.\n`,
    ),
  );
  if (p.objectPath.method === 'walk')
    o.out.write(
      dim(o, `object path counted by a walk of the target's dirtrees (${p.objectPath.walk?.requests} requests made for this plan).\n`),
    );
}

function seconds(s: number | null): string {
  if (s === null) return '?';
  return s < 1 ? `${Math.round(s * 1000)} ms` : `${s.toFixed(2)} s`;
}

function indent(s: string): string {
  return s.replace(/^/gm, '  ');
}

export const planCommand: Command = {
  name: 'plan',
  summary: 'Show what a pull of a ref would download: deltas offered, the strategy chosen and why, delta vs object path costs.',
  usage: 'flathub-fetch plan [REMOTE] REF[@COMMIT] [--from COMMIT | --repo DIR] [--arch ARCH] [--no-walk] [--json]',
  help: `Runs the pull engine's planner without pulling: lists the static deltas that end at the target
commit (from scratch, and from which revisions), the strategy a pull would choose and why, and
the requests and bytes of each alternative side by side — a delta from a revision, the
from-scratch delta, and fetching objects one by one. Every superblock is fetched (one request
each) so delta figures are exact. Nothing is written.

The starting point is an empty repository unless:
  --from COMMIT   plan as if the local repository held exactly COMMIT (e.g. the previous release);
                  its object list comes from its from-scratch delta's superblock when the remote
                  has one, otherwise from walking its dirtrees over HTTP (no file content)
  --repo DIR      plan from an existing local repository (its objects and complete commits)

The object path is counted exactly from a superblock's object list when one is at hand (bytes
approximated from the delta's compressed sizes); when no delta exists, the target's dirtrees are
walked over HTTP (one request per directory) to count its objects, and bytes are estimated from
the summary's download size. The output says which.

Options:
  --arch ARCH   architecture whose Flatpak subsummary to read (default: this machine's)
  --no-walk     never walk dirtrees to count objects (the object path may stay "?")
  --json        print {remote, ref, target, targetRef, local {kind, repo, from, objects, source},
                deltas[], plan {strategy, reason, chosen, alternatives[{strategy, available, delta,
                from, requests, bytes, estimate, note}], localCommits}, objectPath {method, note,
                walk}, metadata, deltaDiscovery, pricing (each {requests, bytes}), totals {delta-from,
                delta-scratch, objects: {requests, bytes} | null}, costModel, estimatedSeconds,
                planningRequests}

Examples:
  flathub-fetch plan app/org.libreoffice.LibreOffice/x86_64/stable
  flathub-fetch plan app/org.gnome.Maps/x86_64/stable --from 3a5c…(64 hex)
  flathub-fetch plan https://example.org/repo/ app/org.example.App/x86_64/stable --repo ./repo --json
`,
  options: { from: { type: 'string' }, repo: { type: 'string' }, arch: { type: 'string' }, 'no-walk': { type: 'boolean' } },
  async run(args, o, signal) {
    const { remote, rest } = await splitRemote(args.positionals, 1);
    if (rest.length !== 1) throw new UsageError(rest.length === 0 ? 'missing REF' : `unexpected argument "${rest[1]}"`);
    const from = args.values.from as string | undefined;
    const repo = args.values.repo as string | undefined;
    if (from !== undefined && repo !== undefined) throw new UsageError('--from and --repo exclude each other');
    if (from !== undefined && !/^[0-9a-f]{64}$/i.test(from)) throw new UsageError(`--from needs a 64-hex commit, got "${from}"`);
    const arch = args.values.arch as string | undefined;
    const { planRemotePull, resolveRemoteUrl } = await loadClient();
    const result = await planRemotePull({
      url: resolveRemoteUrl(remote).url,
      ref: rest[0] as string,
      ...(from !== undefined ? { from } : {}),
      ...(repo !== undefined ? { repo } : {}),
      ...(arch ? { arch } : {}),
      walk: args.values['no-walk'] !== true,
      signal,
    });
    if (args.values.json === true) writeJson(o, planJson(result));
    else renderPlan(o, result);
    return ExitCode.OK;
  },
};
