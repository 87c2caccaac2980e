// node bench/lib/requests-task.mjs '{"mode":…,"url":…,"root":…,"ca":…,"warmup":N,"requests":N,"inFlight":N}'
// — many small GETs (the `.filez` objects of at most 64 KiB found under `root`, in name order) in a fresh process, for the requests benchmark. `mode`: `undici` (bare `request` through an
// undici Agent with the same pool settings), `client` (HttpClient.get, recording on, records
// delivered to `onRecord`) or `client-norec` (recording off). Every mode keeps `inFlight` requests
// going (8 connections; HTTP/1.1 pipelining 8 over http, HTTP/2 streams over https) and reads
// each body into memory. Prints JSON: CPU of this process (user + system) per request, in µs,
// for the timed requests after `warmup` untimed ones, and the wall time.
import { readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DIST, ROOT } from './harness.mjs';

const spec = JSON.parse(process.argv[2]);
const { mode, url, root, ca, warmup, requests, inFlight } = spec;
/** Only small objects: the figure is the per-request cost, not the per-byte one. */
const SMALL = 64 * 1024;
const paths = [];
for (const d of readdirSync(join(root, 'objects')).sort()) {
  for (const f of readdirSync(join(root, 'objects', d)).sort()) {
    if (f.endsWith('.filez') && statSync(join(root, 'objects', d, f)).size <= SMALL) paths.push(`objects/${d}/${f}`);
  }
}
if (paths.length === 0) throw new Error(`no .filez objects under ${root}`);
// The list repeats as needed (the client sees distinct requests either way).
const nth = (i) => paths[i % paths.length];
const tls = ca === undefined ? {} : { ca };

let get;
let close;
if (mode === 'undici') {
  const undici = createRequire(join(ROOT, 'packages', 'client', 'package.json'))('undici');
  const agent = new undici.Agent({ connections: 8, pipelining: 8, allowH2: true, connect: tls });
  get = async (path) => {
    const res = await undici.request(new URL(path, url), { dispatcher: agent, headers: { 'user-agent': 'bench' } });
    if (res.statusCode !== 200) throw new Error(`${path}: HTTP ${res.statusCode}`);
    const chunks = [];
    for await (const c of res.body) chunks.push(c);
    return chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
  };
  close = () => agent.close();
} else {
  const { HttpClient } = await import(pathToFileURL(DIST).href);
  let records = 0;
  const http = new HttpClient(url, {
    connections: 8,
    pipelining: 8,
    maxInFlight: inFlight,
    http: { tls },
    recording: mode === 'client',
    onRecord: () => {
      records++;
    },
  });
  const signal = new AbortController().signal;
  get = (path) => http.get(path, { purpose: 'file', maxBytes: 1 << 24, signal });
  close = async () => {
    await http.close();
    if (mode === 'client' && records === 0) throw new Error('no records');
  };
}

async function run(list) {
  let next = 0;
  let bytes = 0;
  const lane = async () => {
    while (next < list.length) {
      const body = await get(list[next++]);
      bytes += body.length;
    }
  };
  await Promise.all(Array.from({ length: inFlight }, lane));
  return bytes;
}

await run(Array.from({ length: warmup }, (_, i) => nth(i)));
globalThis.gc?.();
const timed = Array.from({ length: requests }, (_, i) => nth(warmup + i));
const c0 = process.cpuUsage();
const t0 = performance.now();
const bytes = await run(timed);
const ms = performance.now() - t0;
const c = process.cpuUsage(c0);
await close();
process.stdout.write(JSON.stringify({ mode, requests: timed.length, bytes, ms, cpuUsPerRequest: (c.user + c.system) / timed.length }));
