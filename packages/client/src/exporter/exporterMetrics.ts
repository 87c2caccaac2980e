/**
 * The exporter's own health for `/metrics`: probes run and failed per module, probes in flight
 * and queued, requests refused and why, and the process basics Prometheus' client libraries
 * export (CPU, resident memory, heap, start time, open file descriptors on Linux).
 */
import { readdirSync } from 'node:fs';

export class ExporterStats {
  readonly probes = new Map<string, { success: number; failure: number; seconds: number }>();
  readonly rejected = new Map<string, number>();
  inFlight = 0;
  queued = 0;

  probeDone(module: string, success: boolean, seconds: number): void {
    const s = this.probes.get(module) ?? { success: 0, failure: 0, seconds: 0 };
    this.probes.set(module, s);
    if (success) s.success++;
    else s.failure++;
    s.seconds += seconds;
  }

  reject(reason: string): void {
    this.rejected.set(reason, (this.rejected.get(reason) ?? 0) + 1);
  }
}

const esc = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');

export function exporterMetrics(stats: ExporterStats, modules: readonly string[], version: string): string {
  const out: string[] = [];
  const family = (name: string, type: string, help: string) => out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
  family('flathub_fetch_exporter_probes_total', 'counter', 'Probes run, by module and result.');
  for (const m of modules) {
    const s = stats.probes.get(m) ?? { success: 0, failure: 0, seconds: 0 };
    out.push(
      `flathub_fetch_exporter_probes_total{module="${esc(m)}",result="success"} ${s.success}`,
      `flathub_fetch_exporter_probes_total{module="${esc(m)}",result="failure"} ${s.failure}`,
    );
  }
  family('flathub_fetch_exporter_probe_seconds_total', 'counter', 'Time spent probing, by module, seconds.');
  for (const m of modules) out.push(`flathub_fetch_exporter_probe_seconds_total{module="${esc(m)}"} ${stats.probes.get(m)?.seconds ?? 0}`);
  family('flathub_fetch_exporter_probes_in_flight', 'gauge', 'Probes running now.');
  out.push(`flathub_fetch_exporter_probes_in_flight ${stats.inFlight}`);
  family('flathub_fetch_exporter_probes_queued', 'gauge', 'Probes waiting for a slot now.');
  out.push(`flathub_fetch_exporter_probes_queued ${stats.queued}`);
  family(
    'flathub_fetch_exporter_requests_rejected_total',
    'counter',
    'Requests refused, by reason (bad_request, not_allowed, queue_full, not_found, method).',
  );
  for (const reason of ['bad_request', 'not_allowed', 'queue_full', 'not_found', 'method'])
    out.push(`flathub_fetch_exporter_requests_rejected_total{reason="${reason}"} ${stats.rejected.get(reason) ?? 0}`);
  family('flathub_fetch_exporter_build_info', 'gauge', 'Version of flathub-fetch and Node.js (value 1).');
  out.push(`flathub_fetch_exporter_build_info{version="${esc(version)}",nodejs="${esc(process.version)}"} 1`);
  const cpu = process.cpuUsage();
  const mem = process.memoryUsage();
  family('process_cpu_seconds_total', 'counter', 'Total user and system CPU time spent, seconds.');
  out.push(`process_cpu_seconds_total ${(cpu.user + cpu.system) / 1e6}`);
  family('process_resident_memory_bytes', 'gauge', 'Resident memory size, bytes.');
  out.push(`process_resident_memory_bytes ${mem.rss}`);
  family('process_heap_bytes', 'gauge', 'JavaScript heap in use, bytes.');
  out.push(`process_heap_bytes ${mem.heapUsed}`);
  family('process_start_time_seconds', 'gauge', 'Start time of the process since the Unix epoch, seconds.');
  out.push(`process_start_time_seconds ${Math.round((performance.timeOrigin / 1000) * 1000) / 1000}`);
  const fds = openFds();
  if (fds !== null) {
    family('process_open_fds', 'gauge', 'Open file descriptors.');
    out.push(`process_open_fds ${fds}`);
  }
  return `${out.join('\n')}\n`;
}

function openFds(): number | null {
  try {
    return readdirSync('/proc/self/fd').length;
  } catch {
    return null;
  }
}
