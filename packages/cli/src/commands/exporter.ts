import { loadClient } from '../client.js';
import type { Command } from '../Command.js';
import { ExitCode } from '../exitCodes.js';
import { UsageError } from '../UsageError.js';

/** "127.0.0.1:9115", "[::1]:9115", ":9115" (every interface), "9115" (loopback). */
export function parseListen(value: string): { host: string; port: number } {
  const m = /^(?:(\[[0-9a-fA-F:.]+\]|[^:[\]]*):)?(\d{1,5})$/.exec(value);
  const port = m === null ? Number.NaN : Number(m[2]);
  if (m === null || port > 65535) throw new UsageError(`--listen must be [HOST]:PORT, got "${value}"`);
  const host = m[1] === undefined ? '127.0.0.1' : m[1] === '' ? '::' : m[1].replace(/^\[|\]$/g, '');
  return { host, port };
}

export const exporterCommand: Command = {
  name: 'exporter',
  summary: 'Serve mirror and pull probes to Prometheus (blackbox_exporter style /probe and /metrics)',
  usage: 'flathub-fetch exporter --listen [HOST]:PORT --config FILE [--json]',
  help: `Runs an HTTP server that Prometheus scrapes the way it scrapes blackbox_exporter:

  GET /probe?target=URL&module=NAME   run module NAME against URL and answer Prometheus text:
                                      probe_success, probe_duration_seconds, and the module's
                                      metrics (flathub_fetch_mirror_* for a mirror check,
                                      flathub_fetch_* for a pull)
  GET /metrics                        the exporter's own health: probes run and failed per
                                      module, in flight, queued, refused; process metrics
  GET /-/healthy                      "OK"

Options:
  --listen [HOST]:PORT   address to listen on: 127.0.0.1:9841, [::1]:9841, :9841 (every
                         interface) or 9841 (loopback); port 0 picks a free one (printed)
  --config FILE          the configuration (JSON, below)
  --json                 log as JSON lines on stdout: {"type":"listening",url,modules}, then one
                         {"type":"probe",module,target,success,failure,message,durationSeconds}
                         per probe (successes too) and {"type":"rejected",status,reason,message}

The configuration (JSON) names the modules and, for each, the targets it may probe:

  {
    "concurrency": 2,            probes running at once (default 2)
    "queue": 8,                  probes waiting for a slot; more are answered 503 (default 8)
    "modules": {
      "mirror": {
        "prober": "mirror",      check the target as a mirror of "primary" (see mirrors check)
        "primary": "https://dl.flathub.org/repo/",
        "targets": ["https://mirror.example.org/flathub/"],
        "refs": ["app/org.gnome.Maps/*"], "maxRefs": 1, "sample": 8,
        "gpgKeyFiles": ["flathub.gpg"], "maxLag": 3600, "connections": 2, "timeout": 60
      },
      "pull": {
        "prober": "pull",        pull "ref" from the target into a temporary repository
        "targets": ["https://dl.flathub.org/repo/"],   (removed afterwards) and report it
        "ref": "app/org.example.App/x86_64/stable", "deltas": "prefer", "connections": 4,
        "workDir": "/var/tmp", "timeout": 120
      },
      "doctor": {
        "prober": "doctor",      the connection doctor against the target (see doctor)
        "targets": ["https://dl.flathub.org/repo/"], "objects": 4, "timeout": 60
      }
    }
  }

Safety: a target must be an http(s) URL under one of its module's "targets" prefixes ("*"
allows any URL; 403 otherwise); every request of a probe, redirects included, stays under them
(a mirror may also redirect to its primary). A probe's deadline is Prometheus'
X-Prometheus-Scrape-Timeout-Seconds minus 0.5 s, at most the module's "timeout" (seconds,
default 60); at most "concurrency" probes run at once. A mirror probe succeeds unless a check
fails (warnings are in flathub_fetch_mirror_status); a pull probe succeeds when the pull completes.
One line per failed or refused probe goes to stderr. SIGINT or SIGTERM stop the server.

Examples:
  flathub-fetch exporter --listen 127.0.0.1:9841 --config /etc/flathub-fetch/exporter.json
  curl 'http://127.0.0.1:9841/probe?module=mirror&target=https://mirror.example.org/flathub/'
  (examples/prometheus/ has a scrape configuration with blackbox-style relabelling and alert rules)
`,
  options: { listen: { type: 'string' }, config: { type: 'string' } },
  async run(args, o, signal) {
    const listen = args.values.listen as string | undefined;
    const configPath = args.values.config as string | undefined;
    if (listen === undefined) throw new UsageError('--listen [HOST]:PORT is required');
    if (configPath === undefined) throw new UsageError('--config FILE is required');
    if (args.positionals.length > 0) throw new UsageError(`unexpected argument "${args.positionals[0]}"`);
    const { host, port } = parseListen(listen);
    const json = args.values.json === true;
    const { loadExporterConfig, startExporter } = await loadClient();
    const config = await loadExporterConfig(configPath);
    const stop = new AbortController();
    const onSignal = () => stop.abort();
    signal.addEventListener('abort', onSignal, { once: true });
    process.once('SIGTERM', onSignal);
    try {
      const server = await startExporter(config, {
        host,
        port,
        onEvent: (e) => {
          if (json) o.out.write(`${JSON.stringify(e)}\n`);
          else if (e.type === 'rejected') o.err.write(`refused (${e.status} ${e.reason}): ${e.message}\n`);
          else if (!e.success) o.err.write(`probe ${e.module} ${e.target}: failed (${e.failure}): ${e.message ?? ''}\n`);
        },
        signal: stop.signal,
      });
      const modules = [...config.modules.keys()];
      if (json) o.out.write(`${JSON.stringify({ type: 'listening', url: server.url, modules })}\n`);
      o.err.write(`flathub-fetch exporter listening on ${server.url} (modules: ${modules.join(', ')})\n`);
      await new Promise<void>((resolve) => {
        if (stop.signal.aborted) resolve();
        else stop.signal.addEventListener('abort', () => resolve(), { once: true });
      });
      await server.close();
      return ExitCode.OK;
    } finally {
      signal.removeEventListener('abort', onSignal);
      process.removeListener('SIGTERM', onSignal);
    }
  },
};
