/**
 * `flathub-fetch` entry point: parses the command line, runs one command, maps errors to one
 * line and an exit code. Command modules load lazily so `--help` starts fast.
 */
import { parseArgs } from 'node:util';
import type { Command } from './Command.js';
import { ExitCode } from './exitCodes.js';
import { defaultOutput, type Output } from './output.js';
import { UsageError } from './UsageError.js';

const VERSION = '0.1.0';

const COMMANDS: Record<string, { summary: string; load: () => Promise<Command> }> = {
  refs: {
    summary: 'List the refs a remote advertises, with commit, date and sizes',
    load: async () => (await import('./commands/refs.js')).refs,
  },
  deltas: {
    summary: 'List the static deltas a remote offers, with parts and sizes',
    load: async () => (await import('./commands/deltas.js')).deltas,
  },
  pull: {
    summary: 'Pull a ref into a local archive repository (deltas first, verified)',
    load: async () => (await import('./commands/pull.js')).pullCommand,
  },
  plan: {
    summary: 'Show what a pull would download: deltas offered, strategy and why, delta vs object path',
    load: async () => (await import('./commands/plan.js')).planCommand,
  },
  compare: {
    summary: 'Pull a ref with and without static deltas into throwaway repos and compare them',
    load: async () => (await import('./commands/compare.js')).compareCommand,
  },
  install: {
    summary: 'Install into a flatpak installation: we download (deltas, parallel, resumable), flatpak deploys',
    load: async () => (await import('./commands/install.js')).installCommand,
  },
  update: {
    summary: 'Update a flatpak installation: from-revision deltas downloaded by us, deployed by flatpak',
    load: async () => (await import('./commands/update.js')).updateCommand,
  },
  checkout: {
    summary: 'Materialise a commit of a local repository into a directory',
    load: async () => (await import('./commands/checkout.js')).checkoutCommand,
  },
  mirrors: {
    summary: 'Check mirrors against the primary: freshness, signatures, completeness, HTTP semantics, speed',
    load: async () => (await import('./commands/mirrors.js')).mirrorsCommand,
  },
  exporter: {
    summary: 'Serve mirror and pull probes to Prometheus (blackbox_exporter-style /probe, /metrics)',
    load: async () => (await import('./commands/exporter.js')).exporterCommand,
  },
  doctor: {
    summary: 'Diagnose a slow or failing connection: DNS, IPv4 vs IPv6, TLS, CDN or origin errors, clock; a report to paste',
    load: async () => (await import('./commands/doctor.js')).doctorCommand,
  },
  demo: {
    summary: 'Serve the embedded sample repository locally: refs, deltas, a pull with and without deltas',
    load: async () => (await import('./commands/demo.js')).demo,
  },
};

export function mainHelp(): string {
  const names = Object.keys(COMMANDS);
  const width = Math.max(...names.map((n) => n.length));
  return `flathub-fetch ${VERSION} — download Flatpak/OSTree content efficiently and see what happens on the wire

Usage: flathub-fetch <command> [options]

Commands:
${names.map((n) => `  ${n.padEnd(width)}  ${COMMANDS[n]?.summary}`).join('\n')}

REMOTE is a URL (https://…/repo/, file:///…), a repository directory, a .flatpakrepo file, or
the name of a remote configured for flatpak; it defaults to Flathub (https://dl.flathub.org/repo/).

Every command takes --json (machine-readable output on stdout) and --help.
Results go to stdout; progress and diagnostics to stderr. Colour only on a terminal, never with NO_COLOR.
Set DEBUG=flathub-fetch:* to trace requests (and to get stack traces on errors).

Exit codes: 0 ok, 1 failure, 2 usage error, 3 verification failure, 130 interrupted.

Examples:
  flathub-fetch demo
  flathub-fetch refs 'app/org.gnome.*' --arch x86_64
  flathub-fetch deltas https://dl.flathub.org/repo/ app/org.gnome.Maps/x86_64/stable
  flathub-fetch install --user flathub org.gnome.Maps
  flathub-fetch <command> --help
`;
}

export async function main(argv: string[], output: Output = defaultOutput()): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined || first === '--help' || first === '-h' || first === 'help') {
    const topic = first === 'help' ? rest[0] : undefined;
    if (topic !== undefined && COMMANDS[topic] !== undefined) return main([topic, '--help'], output);
    output.out.write(mainHelp());
    return first === undefined ? ExitCode.USAGE : ExitCode.OK;
  }
  if (first === '--version' || first === '-V') {
    output.out.write(`${VERSION}\n`);
    return ExitCode.OK;
  }
  const entry = COMMANDS[first];
  if (entry === undefined) {
    output.err.write(`flathub-fetch: unknown command "${first}" (see flathub-fetch --help)\n`);
    return ExitCode.USAGE;
  }
  const command = await entry.load();
  const controller = new AbortController();
  const onSigint = () => controller.abort(new Error('interrupted'));
  process.once('SIGINT', onSigint);
  try {
    let parsed: ReturnType<typeof parseArgs>;
    try {
      parsed = parseArgs({
        args: rest,
        options: { ...command.options, help: { type: 'boolean', short: 'h' }, json: { type: 'boolean' } },
        allowPositionals: true,
        strict: true,
      });
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    if (parsed.values.help === true) {
      output.out.write(`Usage: ${command.usage}\n\n${command.summary}\n\n${command.help}`);
      return ExitCode.OK;
    }
    return await command.run(parsed as Parameters<Command['run']>[0], output, controller.signal);
  } catch (err) {
    return await reportError(err, command, output, controller.signal);
  } finally {
    process.removeListener('SIGINT', onSigint);
  }
}

async function reportError(err: unknown, command: Command, output: Output, signal: AbortSignal): Promise<number> {
  if (err instanceof UsageError) {
    output.err.write(`flathub-fetch ${command.name}: ${err.message}\nUsage: ${command.usage}\n`);
    return ExitCode.USAGE;
  }
  if (signal.aborted) {
    output.err.write(`flathub-fetch ${command.name}: interrupted\n`);
    return ExitCode.INTERRUPTED;
  }
  const e = err as { code?: string; message?: string; stack?: string };
  const message = e.message ?? String(err);
  output.err.write(`flathub-fetch ${command.name}: ${message}\n`);
  if (process.env.DEBUG !== undefined && e.stack !== undefined) output.err.write(`${e.stack}\n`);
  return exitCodeOf(e.code);
}

/** The exit code of a failed command: usage for a bad argument, verification for content that failed a check. */
async function exitCodeOf(code: string | undefined): Promise<number> {
  if (code === undefined || !code.startsWith('ERR_')) return ExitCode.FAILURE;
  // Only the library's errors carry these codes, so it is loaded already (the help and usage
  // paths never get here).
  const { ErrorCodes: E } = await import('@flathub-fetch/client');
  if (code === E.INVALID_ARGUMENT) return ExitCode.USAGE;
  const verification: readonly string[] = [
    E.CHECKSUM_MISMATCH,
    E.FORMAT,
    E.GVARIANT_TRUNCATED,
    E.GVARIANT_MALFORMED,
    E.GVARIANT_BAD_TYPE,
    E.GVARIANT_BAD_VALUE,
    E.UNSAFE_NAME,
    E.SIGNATURE,
  ];
  return verification.includes(code) ? ExitCode.VERIFICATION : ExitCode.FAILURE;
}
