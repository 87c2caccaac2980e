import { readFileSync } from 'node:fs';
import type { DoctorEvent } from '@flathub-fetch/client';
import { loadClient } from '../client.js';
import type { Command } from '../Command.js';
import { ExitCode } from '../exitCodes.js';
import { integerOption } from '../integerOption.js';
import { bold, dim, type Output, style, writeJson } from '../output.js';
import { parseResolve } from '../resolveOption.js';
import { writeAtomic } from '../writeAtomic.js';
import { UsageError } from '../UsageError.js';

export const doctorCommand: Command = {
  name: 'doctor',
  summary: 'Diagnose a slow or failing connection to a remote: DNS, IPv4/IPv6, TLS, CDN errors, clock; a report to paste',
  usage:
    'flathub-fetch doctor [REMOTE] [--resolve HOST:PORT:ADDR[,ADDR…]]… [--cacert FILE] [--objects N] [--arch ARCH] [--ref REF] [--json | --markdown] [--html FILE]',
  help: `Measures the connection to a repository the way Flathub's "Slow connection" issue form asks,
and says in plain words what is wrong:

  DNS            the A and AAAA answers, each with the resolver's time
  per address    up to two addresses per family, each on its own connections: TCP connect and
                 TLS (protocol, ALPN, certificate issuer, verified or not), HTTP version, first
                 byte over summary.idx and a few small requests; IPv4 and IPv6 compared
  who answers    Server, Via, X-Served-By, X-Cache, Age; a transparent proxy is flagged (proxy-
                 only headers, a certificate that does not verify, HTTP/2 offered but not used)
  clock          the server's Date against this machine's clock
  content        a sample of objects of one ref and its largest delta part (throughput), and
                 the second half of each by Range (resumable downloads)
  errors         each failure attributed to whoever made it: the CDN/cache's own error page (and
                 whether it is its first-byte timeout), the origin, or the network

Then a verdict ("your IPv6 route is 8× slower than IPv4", "503s come from the CDN's first-byte
timeout, not from you") and a Markdown block ready to paste into the issue form. Nothing is
uploaded anywhere: the only host contacted is the repository's.

Options:
  --resolve HOST:PORT:ADDR[,ADDR…]
                 use these addresses for HOST instead of DNS (as curl's --resolve; repeatable;
                 PORT is ignored, the URL's port is used; write IPv6 as ::1 or [::1])
  --cacert FILE  trust this CA certificate (PEM) as well, for a private HTTPS server
  --objects N    objects of the sampled ref downloaded (default 8)
  --arch ARCH    subsummary whose refs are sampled (default: this machine's)
  --ref REF      ref to sample (default: the first app)
  --markdown     print only the Markdown block for the issue form
  --html FILE    also write a self-contained HTML report (verdict, addresses, DNS, every request,
                 Range checks, who answered; no network, no scripts)
  --json         print the result (schema "flathub-fetch/doctor@1", documented in the client's
                 diagnostics/doctor/SCHEMA.md): dns[], addresses[], requests[], ranges[],
                 answeredBy, clockSkewSeconds, errorsBySource, findings[] {kind, severity, text},
                 markdown

Exit status: 0 when nothing is wrong, 1 when a problem was found, 2 usage error.

Examples:
  flathub-fetch doctor
  flathub-fetch doctor https://dl.flathub.org/repo/ --markdown > report.md
  flathub-fetch doctor https://mirror.example/repo/ --resolve mirror.example:443:192.0.2.7,2001:db8::7
`,
  options: {
    resolve: { type: 'string', multiple: true },
    cacert: { type: 'string' },
    objects: { type: 'string' },
    arch: { type: 'string' },
    ref: { type: 'string' },
    markdown: { type: 'boolean' },
    html: { type: 'string' },
  },
  async run(args, o, signal) {
    if (args.positionals.length > 1) throw new UsageError(`unexpected argument "${args.positionals[1]}"`);
    const resolve = parseResolve((args.values.resolve as string[] | undefined) ?? []);
    const cacert = args.values.cacert as string | undefined;
    let ca: string | undefined;
    if (cacert !== undefined) {
      try {
        ca = readFileSync(cacert, 'utf8');
      } catch (err) {
        throw new UsageError(`--cacert ${cacert}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      }
    }
    const objects = integerOption(args, 'objects', 0);
    const { diagnoseConnection, doctorSection, renderDoctorText, renderHtmlReport, resolveRemoteUrl } = await loadClient();
    const remote = resolveRemoteUrl(args.positionals[0]);
    if (!/^https?:/.test(remote.url)) throw new UsageError(`doctor needs an http(s) remote, got ${remote.url}`);
    const json = args.values.json === true;
    const markdown = args.values.markdown === true;
    const progress = o.err.isTTY === true && !json && !markdown;
    const result = await diagnoseConnection({
      url: remote.url,
      resolve,
      ...(ca !== undefined ? { tls: { ca } } : {}),
      ...(objects !== undefined ? { objects } : {}),
      ...(args.values.arch !== undefined ? { arch: args.values.arch as string } : {}),
      ...(args.values.ref !== undefined ? { ref: args.values.ref as string } : {}),
      onEvent: progress ? (e) => showProgress(o, e) : undefined,
      signal,
    });
    const html = args.values.html as string | undefined;
    if (html !== undefined) {
      await writeAtomic(html, renderHtmlReport([doctorSection(result)], { title: `flathub-fetch doctor ${result.host}` }));
      o.err.write(`HTML report: ${html}\n`);
    }
    if (json) writeJson(o, result);
    else if (markdown) o.out.write(`${result.markdown}\n`);
    else {
      const [head, ...rest] = renderDoctorText(result);
      const paint = (line: string) =>
        line.startsWith('  ✗') ? style(o, '31;1', line) : line.startsWith('  !') ? style(o, '33', line) : line;
      o.out.write(`${bold(o, head ?? '')}\n${rest.map(paint).join('\n')}\n`);
      o.out.write(`\n${bold(o, 'For the issue form')} (paste as is; nothing was uploaded):\n\n${result.markdown}\n`);
    }
    return result.findings.some((f) => f.severity === 'problem') ? ExitCode.FAILURE : ExitCode.OK;
  },
};

function showProgress(o: Output, e: DoctorEvent): void {
  if (e.type === 'dns') o.err.write(dim(o, `${e.host}: ${e.addresses.join(', ') || 'no address'}\n`));
  else if (e.type === 'address' && e.phase === 'start') o.err.write(dim(o, `probing ${e.address}…\n`));
  else if (e.type === 'sample') o.err.write(dim(o, `sampling ${e.objects} objects of ${e.ref}…\n`));
}
