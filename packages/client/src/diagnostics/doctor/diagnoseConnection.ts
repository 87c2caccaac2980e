/**
 * `diagnoseConnection()`: what stands between this machine and a repository, measured the way
 * Flathub's "Slow connection" form asks (DNS, connect, TLS, first byte, throughput, who answers),
 * per address of the host, then judged in plain words. Addresses are probed one after another so
 * they do not share the link; the content sample (summary, objects, a delta part with and without
 * Range) goes over the address a client would use first. Nothing is sent anywhere but the
 * repository's own host.
 */
import { isIP } from 'node:net';
import { ObjectType } from '../../formats/ObjectType.js';
import { deltaPartPath, objectPath } from '../../formats/paths.js';
import { Remote } from '../../remote/Remote.js';
import type { DiagnoseConnectionOptions, ResolvedDoctorOptions } from './DoctorOptions.js';
import { resolveDoctorOptions } from './DoctorOptions.js';
import {
  type AddressFamily,
  type AddressProbe,
  DOCTOR_SCHEMA,
  type DoctorResult,
  type LatencyFigures,
  type RangeCheck,
} from './DoctorResult.js';
import { PinnedClient, tlsFacts } from './PinnedClient.js';
import { renderDoctorMarkdown } from './renderDoctor.js';
import { resolveHost } from './resolveHost.js';
import { doctorFindings } from './verdict.js';
import { asAbortError, throwIfAborted } from '../../errors/abortError.js';

/** Addresses probed per family (a host may list many; two show whether they differ). */
const PER_FAMILY = 2;
/** Largest delta part downloaded to time throughput, bytes. */
const PART_CAP = 16 * 1024 * 1024;

export async function diagnoseConnection(options: DiagnoseConnectionOptions): Promise<DoctorResult> {
  const o = resolveDoctorOptions(options);
  const startedAt = new Date().toISOString();
  const t0 = performance.now();
  const clients: PinnedClient[] = [];
  try {
    const { answers, addresses } = await resolveHost(o);
    o.onEvent({ type: 'dns', host: o.host, addresses });
    const probed = [4, 6].flatMap((f) => addresses.filter((a) => isIP(a) === f).slice(0, PER_FAMILY));
    const ordered = addresses.filter((a) => probed.includes(a));
    const probes: AddressProbe[] = [];
    for (const address of ordered) {
      throwIfAborted(o.signal, `doctor of ${o.url.href}`, { url: o.url.href });
      o.onEvent({ type: 'address', address, phase: 'start' });
      const client = new PinnedClient(o, address);
      clients.push(client);
      probes.push(await probeAddress(o, client, address));
      o.onEvent({ type: 'address', address, phase: 'done' });
    }
    // The content sample goes over the first address that answered (a client's first choice).
    const preferred = probes.find((p) => p.unreachable === null);
    const main = preferred === undefined ? null : (clients[probes.indexOf(preferred)] as PinnedClient);
    const sample = main === null ? null : await sampleContent(o, main);
    const requests = clients.flatMap((c) => c.requests);
    const skews = clients.flatMap((c) => c.skews).sort((a, b) => a - b);
    // `|| 0`: no -0 (it would not survive JSON).
    const skew = skews.length === 0 ? null : Math.round(skews[Math.floor(skews.length / 2)] as number) || 0;
    const errorsBySource: DoctorResult['errorsBySource'] = {};
    for (const r of requests) if (r.error?.source != null) errorsBySource[r.error.source] = (errorsBySource[r.error.source] ?? 0) + 1;
    const distinct = (name: string) => [...new Set(requests.map((r) => r.headers[name]).filter((v): v is string => v !== undefined))];
    const result: DoctorResult = {
      schema: DOCTOR_SCHEMA,
      url: o.url.href,
      host: o.host,
      startedAt,
      durationMs: 0,
      dns: answers,
      addresses: probes,
      requests,
      sampled: sample?.sampled ?? null,
      ranges: sample?.ranges ?? [],
      answeredBy: { server: distinct('server'), via: distinct('via'), servedBy: distinct('x-served-by'), cache: distinct('x-cache') },
      clockSkewSeconds: skew,
      errorsBySource,
      findings: [],
      markdown: '',
    };
    result.findings = doctorFindings(result);
    result.durationMs = Math.round(performance.now() - t0);
    result.markdown = renderDoctorMarkdown(result);
    return result;
  } catch (err) {
    throw asAbortError(err, o.signal, `doctor of ${o.url.href}`, { url: o.url.href });
  } finally {
    await Promise.all(clients.map((c) => c.close()));
  }
}

/** summary.idx (else summary) on a new connection, then `repeats` small requests on the kept-alive one. */
async function probeAddress(o: ResolvedDoctorOptions, client: PinnedClient, address: string): Promise<AddressProbe> {
  const tls = o.url.protocol === 'https:' ? await tlsFacts(o, address) : null;
  const idx = await client.fetch('summary.idx', 'summary.idx');
  if (idx === null && client.requests.at(-1)?.status === 404) await client.fetch('summary', 'summary');
  // No answer at all (refused, timed out): one failure says it; repeating would only wait again.
  for (let i = 0; i < o.repeats && client.requests.at(-1)?.status !== null; i++) await client.fetch('config', 'config', 1024 * 1024);
  const mine = client.requests;
  const failed = mine.filter((r) => r.error !== null);
  const network = failed.filter((r) => r.status === null);
  const reachable = mine.some((r) => r.status !== null);
  return {
    address,
    family: isIP(address) as AddressFamily,
    firstByte: figures(mine.map((r) => r.firstByteMs)),
    connect: figures(mine.map((r) => (r.connectMs === null ? null : r.connectMs + (r.tlsMs ?? 0)))),
    httpVersion: mine.find((r) => r.httpVersion !== null)?.httpVersion ?? null,
    tls,
    errors: failed.length,
    requests: mine.length,
    unreachable: reachable ? null : (network[0]?.error?.message ?? tls?.error ?? 'no answer'),
  };
}

/** The sampled ref's objects and delta part, whole and by Range. */
async function sampleContent(
  o: ResolvedDoctorOptions,
  client: PinnedClient,
): Promise<{ sampled: DoctorResult['sampled']; ranges: RangeCheck[] } | null> {
  let remote: Remote;
  try {
    client.as('summary');
    remote = await Remote.open(o.url, {
      transport: client.transport,
      http: client.httpOptions,
      arch: o.arch,
      signatures: false,
      signal: o.signal,
    });
  } catch (err) {
    if (o.signal?.aborted) throw err;
    return null;
  }
  {
    const refs = remote.refs();
    const ref = (o.ref === null ? undefined : refs.find((r) => r.name === o.ref)) ?? refs.find((r) => r.name.startsWith('app/')) ?? refs[0];
    if (ref === undefined) return null;
    client.as('delta-index');
    const deltas = await remote.deltas([ref.commit], { signal: o.signal }).catch(() => []);
    const delta = deltas.find((d) => d.from === null) ?? deltas[0];
    let objects: Array<{ path: string; size: number | null }> = [];
    let part: { path: string; size: number } | null = null;
    if (delta !== undefined) {
      client.as('superblock');
      const sb = await remote.superblock(delta.from, delta.to, { digest: delta.digest, signal: o.signal }).catch(() => null);
      if (sb !== null) {
        // The largest part up to PART_CAP (enough to time the link, not a whole app's download).
        const parts = sb.parts.filter((p) => !sb.inlineParts.has(p.index)).sort((a, b) => b.size - a.size);
        const biggest = parts.find((p) => p.size <= PART_CAP) ?? parts.at(-1);
        if (biggest !== undefined) part = { path: deltaPartPath(delta.from, delta.to, biggest.index), size: biggest.size };
        const files = sb.parts.flatMap((p) => p.objects).filter((x) => x.type === ObjectType.FILE);
        objects = spread(files, o.objects).map((x) => ({ path: objectPath(x.checksum, x.type), size: null }));
        for (const f of sb.fallbacks) if (objects.length < o.objects) objects.push({ path: objectPath(f.checksum, f.type), size: f.size });
      }
    }
    if (objects.length === 0) objects = [{ path: objectPath(ref.commit, ObjectType.COMMIT), size: null }];
    o.onEvent({ type: 'sample', ref: ref.name, objects: objects.length });
    for (const x of objects) await client.fetch(x.path, 'object');
    const ranges: RangeCheck[] = [];
    if (part !== null) {
      await client.fetch(part.path, 'delta part');
      ranges.push(await rangeCheck(client, part.path, part.size, 'delta part'));
    }
    const largest = client.requests.filter((r) => r.what === 'object' && r.status === 200).sort((a, b) => b.bytes - a.bytes)[0];
    if (largest !== undefined && largest.bytes >= 2) {
      ranges.push(await rangeCheck(client, new URL(largest.url).pathname.replace(o.url.pathname, ''), largest.bytes, 'object'));
    }
    return { sampled: { ref: ref.name, commit: ref.commit, objects: objects.length, deltaPart: part?.path ?? null }, ranges };
  }
}

/** The second half of a file by Range: 206 with exactly those bytes, as a resumed download needs. */
async function rangeCheck(client: PinnedClient, path: string, size: number, what: string): Promise<RangeCheck> {
  const from = Math.floor(size / 2);
  const range = `bytes=${from}-`;
  const r = await client.ranged(path, `${what} range`, range);
  const want = size - from;
  const base = { what: `${what} ${path}`, url: r.url, range };
  if (r.status === null) return { ...base, result: 'failed', detail: r.error?.message ?? 'no answer' };
  if (r.status === 200) return { ...base, result: 'ignored', detail: `200 with ${r.bytes} bytes (the whole file)` };
  const cr = r.headers['content-range'] ?? '';
  if (r.status === 206 && cr === `bytes ${from}-${size - 1}/${size}` && r.bytes === want)
    return { ...base, result: 'honoured', detail: `206, ${r.bytes} bytes` };
  if (r.status >= 500) return { ...base, result: 'failed', detail: `HTTP ${r.status}` };
  return { ...base, result: 'broken', detail: `HTTP ${r.status}, Content-Range ${cr || '(none)'}, ${r.bytes} of ${want} bytes` };
}

/** `n` items spread evenly over the list (its first, last and between). */
function spread<T>(items: readonly T[], n: number): T[] {
  if (items.length <= n) return [...items];
  if (n === 0) return [];
  const out: T[] = [];
  for (let i = 0; i < n; i++) out.push(items[Math.floor((i * (items.length - 1)) / Math.max(1, n - 1))] as T);
  return out;
}

function figures(values: ReadonlyArray<number | null>): LatencyFigures {
  const s = values.filter((v): v is number => v !== null).sort((a, b) => a - b);
  if (s.length === 0) return { count: 0, median: null, min: null, max: null };
  const mid = s.length / 2;
  const median = s.length % 2 === 1 ? (s[Math.floor(mid)] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
  return { count: s.length, median: Math.round(median * 10) / 10, min: s[0] as number, max: s[s.length - 1] as number };
}
