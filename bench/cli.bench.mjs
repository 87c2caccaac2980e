// The CLI's start-up and `refs` on a Flathub-sized summary, whole processes.
//
// - `flathub-fetch --help` and `flathub-fetch plan --help` against `node -e 0` (Node's own start):
//   target (issue): `--help` starts in ≤ 150 ms. The library is imported on first use, so help
//   and usage errors never load undici or the liblzma binding.
// - `flathub-fetch refs` on bench/make-big-summary.sh's repository (flatpak build-update-repo:
//   summary.idx + per-arch subsummaries, ~6,900 refs per arch), read as a file:// remote (the
//   download is a local file read: what remains is what the CLI does after downloading), and
//   served by nginx on loopback (the whole thing). Reference: `ostree summary --view` (parses
//   the classic summary with every arch's refs and prints it). Target (issue): `refs` answers in
//   ≤ 300 ms after download.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ensureBuilt, measureCmd, measureTask, OUT, reps, ROOT, row, runStandalone } from './lib/harness.mjs';
import { startNginx } from '../test/support/nginx.ts';

const BIN = join(ROOT, 'packages', 'cli', 'dist', 'bin.js');

export default async function bench() {
  const dir = join(OUT, 'big-summary');
  const info = ensureBuilt('make-big-summary.sh', dir);
  const repo = join(dir, 'repo');
  const node = process.execPath;
  const r = reps({ warmup: 2, reps: 15 });
  const baseline = measureCmd(node, ['-e', '0'], r);
  const help = measureCmd(node, [BIN, '--help'], r);
  const planHelp = measureCmd(node, [BIN, 'plan', '--help'], r);
  const fileUrl = pathToFileURL(`${repo}/`).href;
  const rr = reps({ warmup: 1, reps: 7 });
  const refsFile = measureCmd(node, [BIN, 'refs', fileUrl, '--arch', 'x86_64'], rr);
  const refsCold = measureTask('cli-refs', [fileUrl, '--arch', 'x86_64'], rr);
  const refsJson = measureCmd(node, [BIN, 'refs', fileUrl, '--arch', 'x86_64', '--json'], rr);
  const view = measureCmd('ostree', ['summary', `--repo=${repo}`, '--view'], rr);
  const nginx = await startNginx(dir);
  let refsHttp;
  try {
    refsHttp = measureCmd(node, [BIN, 'refs', `${nginx.url}repo/`, '--arch', 'x86_64'], rr);
  } finally {
    await nginx.stop();
  }
  const base = { label: 'node -e 0', median: baseline.median, min: baseline.min, rssKb: baseline.rssKb };
  const ref = { label: 'ostree summary --view', median: view.median, min: view.min, rssKb: view.rssKb };
  const ours = (label, m) => ({ label, median: m.median, min: m.min, rssKb: m.rssKb });
  return {
    name: 'cli',
    title: `CLI start-up and refs on a ${(info.summaryBytes / 1e6).toFixed(1)} MB summary (${info.refs} refs)`,
    input: { repo: 'bench/out/big-summary/repo', refs: info.refs, summaryBytes: info.summaryBytes, madeBy: info.tool },
    rows: [
      row('flathub-fetch --help', ours('bin --help', help), base, 'ratio < 1: our start-up over Node’s own', {
        text: '≤ 150 ms',
        met: help.median <= 150,
      }),
      row('flathub-fetch plan --help', ours('bin plan --help', planHelp), base, 'loads the command module, not the library'),
      row(
        'refs after download: the command in a started process',
        { label: 'main(refs file://…)', median: refsCold.op.median, min: refsCold.op.min },
        ref,
        'cold first call after Node start and the library import: summary.idx + subsummary read, checked and parsed, the table of every ref built and written',
        { text: '≤ 300 ms', met: refsCold.op.median <= 300 },
      ),
      row(
        'refs, file:// remote, whole process',
        ours('bin refs file://… --arch x86_64', refsFile),
        ref,
        'start, import, read, parse, print (stdout to /dev/null)',
      ),
      row('refs --json, file:// remote', ours('bin refs … --json', refsJson), ref, 'every ref with its metadata keyfile'),
      row('refs over HTTP (nginx, loopback)', ours('bin refs http://… --arch x86_64', refsHttp), ref, 'includes the download'),
    ],
    notes: [`Node start alone (node -e 0): ${baseline.median.toFixed(1)} ms median`],
  };
}

await runStandalone(import.meta.url, bench);
