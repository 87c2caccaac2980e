/**
 * A doctor result as Prometheus text (exposition format 0.0.4), for the exporter's `doctor`
 * probes: per address, first byte and connect medians and errors; DNS times; clock skew; and one
 * series per finding (value 1), so alerts can key on `kind` and `severity`.
 */
import type { DoctorResult } from './DoctorResult.js';

const esc = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');

export function doctorToPrometheus(r: DoctorResult): string {
  const out: string[] = [];
  const metric = (name: string, help: string, rows: Array<[Record<string, string>, number | null]>) => {
    const present = rows.filter((x): x is [Record<string, string>, number] => x[1] !== null && Number.isFinite(x[1]));
    if (present.length === 0) return;
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`);
    for (const [labels, v] of present) {
      const l = Object.entries(labels).map(([k, x]) => `${k}="${esc(x)}"`);
      out.push(`${name}${l.length > 0 ? `{${l.join(',')}}` : ''} ${v}`);
    }
  };
  const ms = (v: number | null) => (v === null ? null : v / 1000);
  const addr = (a: DoctorResult['addresses'][number]): Record<string, string> => ({ address: a.address, family: `ipv${a.family}` });
  metric(
    'flathub_fetch_doctor_first_byte_seconds',
    'Median time to first byte per address, seconds.',
    r.addresses.map((a) => [addr(a), ms(a.firstByte.median)]),
  );
  metric(
    'flathub_fetch_doctor_connect_seconds',
    'Median TCP connect time per address, seconds.',
    r.addresses.map((a) => [addr(a), ms(a.connect.median)]),
  );
  metric(
    'flathub_fetch_doctor_request_errors',
    'Failed requests per address.',
    r.addresses.map((a) => [addr(a), a.errors]),
  );
  metric(
    'flathub_fetch_doctor_address_up',
    'Whether the address answered (1) or not (0).',
    r.addresses.map((a) => [addr(a), a.unreachable === null ? 1 : 0]),
  );
  metric(
    'flathub_fetch_doctor_dns_seconds',
    'Resolver time per address family, seconds.',
    r.dns.map((d) => [{ family: `ipv${d.family}`, source: d.source }, ms(d.ms)]),
  );
  metric('flathub_fetch_doctor_clock_skew_seconds', "The server's Date header minus this machine's clock, seconds.", [
    [{}, r.clockSkewSeconds],
  ]);
  const findings = new Map<string, [Record<string, string>, number]>();
  for (const f of r.findings) {
    const key = `${f.kind}\0${f.severity}`;
    const row = findings.get(key) ?? [{ kind: f.kind, severity: f.severity }, 0];
    row[1]++;
    findings.set(key, row);
  }
  metric('flathub_fetch_doctor_findings', 'Findings by kind and severity (problem, warning, info).', [...findings.values()]);
  return out.length === 0 ? '' : `${out.join('\n')}\n`;
}
