// Client CPU per HTTP request: many small GETs (`.filez` objects of the pull benchmark's
// repository) from nginx on loopback, through HttpClient (recording on and off) and through bare
// undici with the same pool settings, over HTTP/1.1 with pipelining 8 and over HTTPS + HTTP/2.
// Each run is a fresh process (bench/lib/requests-task.mjs); runs of the modes alternate so drift
// hits all of them. The figure is the client process's CPU (user + system) per request.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ensureBuilt, OUT, reps, row, runStandalone, stats } from './lib/harness.mjs';
import { startNginx } from '../test/support/nginx.ts';
import { makeTestCertificates } from '../test/support/tls.ts';

const TASK = join(import.meta.dirname, 'lib', 'requests-task.mjs');
const MODES = ['undici', 'client', 'client-norec'];
const WARMUP = 2000;
const REQUESTS = 4000;

export default async function bench() {
  const info = ensureBuilt('make-pull-repo.sh', join(OUT, 'pull-repo'));
  const root = join(OUT, 'pull-repo', 'repo');
  const cert = makeTestCertificates();
  const nginx = await startNginx(root, { nice: -10, tls: { cert: cert.serverCert, key: cert.serverKey, http2: true } });
  const protocols = {
    'http/1.1, pipelining 8': { url: nginx.url },
    'https, http/2': { url: `https://127.0.0.1:${nginx.tlsPort}/`, ca: cert.caPem },
  };
  const { reps: n } = reps({ warmup: 0, reps: 5 });
  const cpu = {};
  try {
    for (let i = 0; i < n; i++) {
      for (const [name, p] of Object.entries(protocols)) {
        for (const mode of i % 2 === 0 ? MODES : [...MODES].reverse()) {
          const arg = JSON.stringify({ mode, ...p, root, warmup: WARMUP, requests: REQUESTS, inFlight: 64 });
          const r = spawnSync(process.execPath, [TASK, arg], { stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 26 });
          if (r.status !== 0) throw new Error(`requests-task ${mode} ${name} failed (${r.status ?? r.signal})`);
          const out = JSON.parse(r.stdout.toString());
          const key = `${name}|${mode}`;
          cpu[key] = [...(cpu[key] ?? []), out.cpuUsPerRequest / 1000];
        }
      }
    }
  } finally {
    await nginx.stop();
    cert.remove();
  }
  const rows = [];
  for (const name of Object.keys(protocols)) {
    const s = Object.fromEntries(MODES.map((m) => [m, stats(cpu[`${name}|${m}`])]));
    for (const m of ['client', 'client-norec']) {
      rows.push(
        row(
          `${name}: HttpClient${m === 'client' ? '' : ' (recording off)'} vs bare undici, CPU per request`,
          { label: m, median: s[m].median, min: s[m].min },
          { label: 'undici', median: s.undici.median, min: s.undici.min },
          `samples (ms/request) ${s[m].samples.map((x) => x.toFixed(3)).join(', ')}; undici ${s.undici.samples.map((x) => x.toFixed(3)).join(', ')}`,
        ),
      );
    }
  }
  return {
    name: 'requests',
    title: 'client CPU per small GET: HttpClient vs bare undici (nginx, loopback)',
    input: { ref: info.ref, requests: REQUESTS, warmup: WARMUP, inFlight: 64, connections: 8 },
    rows,
    notes: ['ms columns are CPU ms per request (user + system of the client process), not wall time'],
  };
}

await runStandalone(import.meta.url, bench);
