import type { MirrorCheckEvent } from '@flathub-fetch/client';
import { loadClient } from '../client.js';
import type { Command } from '../Command.js';
import { ExitCode } from '../exitCodes.js';
import { dim, type Output, style, writeJson } from '../output.js';
import { integerOption } from '../integerOption.js';
import { parseResolve } from '../resolveOption.js';
import { UsageError } from '../UsageError.js';
import { writeAtomic } from '../writeAtomic.js';
import { readKeyArgs } from './pull.js';

const COLOURS: Record<string, string> = { pass: '32', warn: '33', fail: '31;1', skip: '2' };

export const mirrorsCommand: Command = {
  name: 'mirrors',
  summary: 'Check that mirrors serve a repository faithfully: freshness, signatures, completeness, HTTP, speed',
  usage:
    'flathub-fetch mirrors check --primary REMOTE MIRROR… [--refs GLOB] [--max-refs N] [--sample N] [--gpg-key FILE] [--arch KEY] [--max-lag SECONDS] [--connections N] [--read-parts N] [--resolve HOST:PORT:ADDR[,ADDR…]] [--json] [--metrics FILE] [--html FILE]',
  help: `Compares each MIRROR (a mirror, CDN or cache URL) with the primary repository and gives each
a verdict per check — pass, warn or fail — with the evidence (URL, expected, got):

  freshness     summary / summary.idx (and .sig) identical to the primary's, or how far behind:
                which refs differ and by how many commits, summary age, Last-Modified / Age
  trust         GPG signatures of summary, summary.idx and the selected refs' commits verify with
                the remote's key (--gpg-key, the GPGKey of a .flatpakrepo --primary, or the
                primary summary's xa.gpg-keys); the signing key and signature time are reported
  completeness  for each selected ref: commit and commitmeta present; delta index identical; every
                delta the primary lists present with the same superblock digest, every part and
                fallback with its declared size; the largest parts and fallbacks read to the end and verified
                (a cache cutting large files while HEAD says otherwise); deltas to the previous
                commit that the primary's index lists (a warning when missing); a sample of
                objects downloaded and verified. A redirecting cache is judged on what it serves
                itself: what it redirects to another origin is reported, not counted
  http          a missing file answers 404 (not 200, 403 or an HTML page); bodies match their
                Content-Length and as long as declared (a cut at a power of two is named); Range honoured; keep-alive; no cached 5xx (failures are repeated);
                redirects followed and counted; cache headers reported
  performance   first-byte time and throughput percentiles over the same objects as the primary;
                share of requests failing for reasons no other check explains

Each mirror's kind is named: full-mirror (serves everything itself), proxy (serves everything
itself with a cache's headers), redirecting-cache (sends some requests — its misses — to another
origin), redirector (sends every request elsewhere). When a mirror's host name has several
addresses (from DNS or --resolve), each address's summary is compared under freshness: a purge
that reached some front servers and not others fails. Signature files are judged apart from
what they sign: a fresh summary.idx with a stale summary.idx.sig is named as such.

A fault is reported once, by the check that owns it: a cached 503 or a truncated body is an http
failure, not also a missing file. Mirrors are checked concurrently, each with at most
--connections connections, so many mirrors take about as long as the slowest.

Options:
  --primary REMOTE     the reference repository (URL, directory or .flatpakrepo; required)
  --refs GLOB          refs whose content is checked (default: all; repeatable)
  --max-refs N         at most N matching refs, a deterministic sample (default 3)
  --sample N           objects downloaded and verified per server (default 20): about N requests
                       per mirror plus a handful per ref
  --gpg-key FILE       public key(s) to verify signatures with (binary or armored; repeatable)
  --arch KEY           subsummaries of a summary.idx to read (default: all; repeatable)
  --max-lag SECONDS    a mirror may trail the primary this long: while the primary's summary is
                       younger, refs not caught up on yet are warnings, not failures (default 0)
  --connections N      connections per server (default 4)
  --read-parts N       large files read to the end per mirror: the largest delta parts and fallback
                       objects (default 2; 0: HEAD only)
  --resolve HOST:PORT:ADDR[,ADDR…]
                       use these addresses for HOST instead of DNS (as curl's; repeatable); with
                       several, every address is compared
  --json               print the result (schema "flathub-fetch/mirror-check@1", documented in the
                       client's mirrors/SCHEMA.md): per mirror its url, status (pass|warn|fail)
                       and checks[] with status, summary and evidence[] {status, what, url,
                       expected, got}
  --metrics FILE       write Prometheus text metrics (flathub_fetch_mirror_*), atomically
  --html FILE          write a self-contained HTML report: the verdict table and, per mirror, the
                       checks that did not pass with their evidence

Exit status: 0 when no mirror fails (warnings allowed), 1 when any mirror fails, 2 usage error.

Examples:
  flathub-fetch mirrors check --primary https://dl.flathub.org/repo/ https://mirror.example.org/flathub/
  flathub-fetch mirrors check --primary flathub.flatpakrepo --refs 'app/org.gnome.*' --sample 50 \\
      https://a.example/flathub/ https://b.example/flathub/ --json
  flathub-fetch mirrors check --primary https://origin.example/repo/ https://cdn.example/repo/ --metrics /var/lib/node_exporter/mirrors.prom
`,
  options: {
    primary: { type: 'string' },
    refs: { type: 'string', multiple: true },
    'max-refs': { type: 'string' },
    sample: { type: 'string' },
    'gpg-key': { type: 'string', multiple: true },
    arch: { type: 'string', multiple: true },
    'max-lag': { type: 'string' },
    connections: { type: 'string' },
    'read-parts': { type: 'string' },
    resolve: { type: 'string', multiple: true },
    metrics: { type: 'string' },
    html: { type: 'string' },
  },
  async run(args, o, signal) {
    const [sub, ...mirrors] = args.positionals;
    if (sub !== 'check')
      throw new UsageError(sub === undefined ? 'missing subcommand "check"' : `unknown subcommand "${sub}" (expected "check")`);
    const primaryArg = args.values.primary as string | undefined;
    if (primaryArg === undefined) throw new UsageError('--primary REMOTE is required');
    if (mirrors.length === 0) throw new UsageError('no MIRROR given');
    const { checkMirrors, mirrorsToPrometheus, renderHtmlReport, renderMirrorTable, resolveRemoteUrl } = await loadClient();
    const primary = resolveRemoteUrl(primaryArg);
    const sample = integerOption(args, 'sample', 0);
    const maxRefs = integerOption(args, 'max-refs', 1);
    const connections = integerOption(args, 'connections', 1);
    const maxLag = integerOption(args, 'max-lag', 0);
    const readParts = integerOption(args, 'read-parts', 0);
    const resolve = parseResolve((args.values.resolve as string[] | undefined) ?? []);
    const refs = args.values.refs as string[] | undefined;
    const arches = args.values.arch as string[] | undefined;
    const gpgKeys = readKeyArgs(args.values['gpg-key'] as string[] | undefined, primary.gpgKey);
    const progress = o.err.isTTY === true && args.values.json !== true;
    const result = await checkMirrors({
      primary: primary.url,
      mirrors: mirrors.map((m) => resolveRemoteUrl(m).url),
      ...(refs !== undefined ? { refs } : {}),
      ...(sample !== undefined ? { sample } : {}),
      ...(maxRefs !== undefined ? { maxRefs } : {}),
      ...(connections !== undefined ? { connections } : {}),
      ...(maxLag !== undefined ? { maxLag } : {}),
      ...(readParts !== undefined ? { readParts } : {}),
      resolve,
      ...(arches !== undefined ? { arches } : {}),
      gpgKeys,
      signal,
      onEvent: progress ? (e) => showProgress(o, e) : undefined,
    });
    const metrics = args.values.metrics as string | undefined;
    if (metrics !== undefined) await writeAtomic(metrics, mirrorsToPrometheus(result));
    const html = args.values.html as string | undefined;
    if (html !== undefined) {
      await writeAtomic(
        html,
        renderHtmlReport([{ kind: 'mirrors', result }], { title: `flathub-fetch mirrors check of ${result.primary.url}` }),
      );
      o.err.write(`HTML report: ${html}\n`);
    }
    if (args.values.json === true) writeJson(o, result);
    else
      o.out.write(`${renderMirrorTable(result, { paint: (s, t) => (COLOURS[s] ? style(o, COLOURS[s] as string, t) : t) }).join('\n')}\n`);
    return result.status === 'fail' ? ExitCode.FAILURE : ExitCode.OK;
  },
};

function showProgress(o: Output, e: MirrorCheckEvent): void {
  if (e.type === 'primary') o.err.write(dim(o, `primary ${e.url}: ${e.refs} refs, checking ${e.selected.join(', ')}\n`));
  else if (e.type === 'mirror-done')
    o.err.write(
      dim(
        o,
        `${e.url}: ${e.report.status} (${e.report.performance.requests} requests, ${(e.report.performance.durationMs / 1000).toFixed(1)} s)\n`,
      ),
    );
}
