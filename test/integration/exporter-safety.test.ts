/**
 * The exporter is safe to expose: only configured modules and allowed targets are probed (403 /
 * 400 otherwise, nothing fetched), a redirect off the allow-list is refused for mirror and pull
 * probes alike (the host it points at never sees a request), the query is bounded, probes beyond
 * concurrency + queue get 503, and Prometheus' scrape-timeout header bounds a probe. Real nginx
 * serves the repositories; a TCP server that accepts and never answers stands for a hung mirror.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { type ExporterConfig, type ExporterHandle, parseExporterConfig, startExporter } from '../../packages/client/src/index.js';
import { runCli } from '../support/cli.js';
import { fixtureSets } from '../support/fixtures.js';
import { type NginxServer, startNginx } from '../support/nginx.js';
import { describeWithTools } from '../support/tools.js';

const set = fixtureSets().at(-1);
if (set === undefined) throw new Error('no fixtures');
const APP = 'app/org.example.Hello/x86_64/stable';

const get = async (base: string, path: string, headers: Record<string, string> = {}) => {
  const res = await fetch(new URL(path, base), { headers });
  return { status: res.status, body: await res.text() };
};
const value = (text: string, name: string) => {
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text);
  return m === null ? null : Number(m[1]);
};

describeWithTools(['nginx'], 'exporter safety', () => {
  let primary: NginxServer;
  let offList: NginxServer;
  let redirecting: NginxServer;
  let origin: NginxServer;
  let hung: Server;
  let hungUrl: string;
  const sockets: Socket[] = [];
  const workDir = mkdtempSync(join(tmpdir(), 'ffetch-probe-work-'));
  let exporter: ExporterHandle;
  let config: ExporterConfig;

  beforeAll(async () => {
    [primary, offList, origin] = await Promise.all([
      startNginx(set.repoPath('flatpak')),
      startNginx(set.repoPath('flatpak')),
      startNginx(`${set.root}/repos`),
    ]);
    redirecting = await startNginx(set.repoPath('flatpak'), {
      serverConfig: `rewrite ^(.*)$ http://127.0.0.1:${offList.port}$1 redirect;`,
    });
    hung = createServer((s) => {
      sockets.push(s);
      s.on('error', () => {});
    });
    await new Promise<void>((r) => hung.listen(0, '127.0.0.1', r));
    hungUrl = `http://127.0.0.1:${(hung.address() as { port: number }).port}/repo/`;
    const key = readFileSync(join(set.root, 'gpg', 'pubkey.asc'));
    config = await parseExporterConfig(
      {
        concurrency: 1,
        queue: 0,
        modules: {
          mirror: {
            prober: 'mirror',
            primary: primary.url,
            targets: [redirecting.url, hungUrl, `${primary.url}sub/`],
            refs: ['app/*'],
            maxRefs: 1,
            sample: 2,
            gpgKeyFiles: ['key'],
          },
          pull: { prober: 'pull', targets: [redirecting.url, `${origin.url}archive/`], ref: APP, timeout: 10, workDir },
          doctor: { prober: 'doctor', targets: [`${origin.url}flatpak/`], objects: 2, timeout: 30 },
        },
      },
      async () => key,
    );
    exporter = await startExporter(config, { port: 0 });
  });
  afterAll(async () => {
    await exporter?.close();
    for (const s of sockets) s.destroy();
    await new Promise((r) => hung?.close(r));
    await Promise.all([primary, offList, redirecting, origin].map((s) => s?.stop()));
    rmSync(workDir, { recursive: true, force: true });
  });

  test('targets outside the allow-list, malformed queries and other paths are refused before any request', async () => {
    const before = primary.log().length + offList.log().length;
    const enc = encodeURIComponent;
    const cases: Array<[string, number, RegExp]> = [
      [`/probe?module=mirror&target=${enc(offList.url)}`, 403, /not allowed for module "mirror"/],
      [`/probe?module=mirror&target=${enc(`${primary.url}subway/`)}`, 403, /not allowed/],
      [`/probe?module=mirror&target=${enc(`${primary.url}sub/../`)}`, 403, /not allowed/],
      [`/probe?module=mirror&target=${enc(`http://127.0.0.1.evil:${primary.port}/sub/`)}`, 403, /not allowed/],
      [`/probe?module=mirror&target=${enc(`${primary.url}sub/%2e%2e/`)}`, 400, /encoded slash, backslash or dot/],
      [`/probe?module=mirror&target=${enc(`http://user:pw@127.0.0.1:${primary.port}/sub/`)}`, 400, /credentials/],
      [`/probe?module=mirror&target=${enc('file:///etc/')}`, 400, /file: is not http or https/],
      [`/probe?module=doctor&target=${enc(redirecting.url)}`, 403, /not allowed for module "doctor"/],
      [`/probe?module=traceroute&target=${enc(redirecting.url)}`, 400, /unknown module "traceroute" \(configured: mirror, pull, doctor\)/],
      [`/probe?module=mirror&target=${enc(redirecting.url)}&target=${enc(redirecting.url)}`, 400, /exactly one target/],
      [`/probe?module=mirror`, 400, /exactly one target/],
      [`/probe?module=mirror&target=${'a'.repeat(5000)}`, 414, /longer than 4096/],
      ['/other', 404, /no such path/],
    ];
    for (const [path, status, message] of cases) {
      const r = await get(exporter.url, path);
      expect(r.status, path).toBe(status);
      expect(r.body, path).toMatch(message);
    }
    const post = await fetch(new URL('/probe', exporter.url), { method: 'POST', body: 'x' });
    expect(post.status).toBe(405);
    expect(primary.log().length + offList.log().length).toBe(before);
    const metrics = await get(exporter.url, '/metrics');
    expect(value(metrics.body, 'flathub_fetch_exporter_requests_rejected_total\\{reason="not_allowed"\\}')).toBe(5);
    expect(value(metrics.body, 'flathub_fetch_exporter_probes_total\\{module="mirror",result="success"\\}')).toBe(0);
  });

  test('a bad configuration or --listen is one line and exit 2; nothing listens', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ffetch-exporter-config-'));
    const write = (name: string, value: unknown) => {
      writeFileSync(join(dir, name), JSON.stringify(value));
      return join(dir, name);
    };
    const cases: Array<[string[], RegExp]> = [
      [
        ['--config', write('typo.json', { modules: { m: { prober: 'pull', targets: ['*'], ref: APP, timout: 5 } } })],
        /config\.modules\.m\.timout: unknown key/,
      ],
      [
        ['--config', write('doctor.json', { modules: { d: { prober: 'doctor', targets: ['*'], repeats: 3 } } })],
        /config\.modules\.d\.repeats: unknown key/,
      ],
      [['--config', write('open.json', { modules: { m: { prober: 'pull', targets: [], ref: APP } } })], /targets: a non-empty list/],
      [
        ['--config', write('prefix.json', { modules: { m: { prober: 'pull', targets: ['ftp://x/'], ref: APP } } })],
        /targets\[0\]: ftp: is not http or https/,
      ],
    ];
    for (const [args, message] of cases) {
      const r = await runCli(['exporter', '--listen', '127.0.0.1:0', ...args]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(message);
    }
    const listen = await runCli(['exporter', '--listen', 'localhost', '--config', join(dir, 'typo.json')]);
    expect(listen.code).toBe(2);
    expect(listen.stderr).toMatch(/--listen must be \[HOST\]:PORT/);
    rmSync(dir, { recursive: true, force: true });
  });

  test('a redirect off the allow-list is refused: mirror and pull probes fail, the other host sees nothing', async () => {
    const before = offList.log().length;
    const mirror = await get(exporter.url, `/probe?module=mirror&target=${encodeURIComponent(redirecting.url)}`);
    expect(mirror.status).toBe(200);
    expect(mirror.body).toMatch(/flathub_fetch_mirror_check_status\{mirror="[^"]+",check="http"\} 2/);
    expect(value(mirror.body, 'probe_success')).toBe(0);
    const pull = await get(exporter.url, `/probe?module=pull&target=${encodeURIComponent(redirecting.url)}`);
    expect(value(pull.body, 'probe_success')).toBe(0);
    expect(pull.body).toMatch(/flathub_fetch_probe_failure_info\{code="ERR_/);
    expect(redirecting.log().length).toBeGreaterThan(0);
    expect(offList.log().length).toBe(before);
    // The same pull from an allowed origin succeeds, with the pull's own metrics.
    const ok = await get(exporter.url, `/probe?module=pull&target=${encodeURIComponent(`${origin.url}archive/`)}`);
    expect(value(ok.body, 'probe_success')).toBe(1);
    expect(value(ok.body, 'flathub_fetch_pull_success')).toBe(1);
    // Each pull probe's repository is gone afterwards, the failed ones' too.
    expect(readdirSync(workDir)).toEqual([]);
  });

  test('a doctor probe of an allowed target: probe_success and the doctor metrics', async () => {
    const before = origin.log().length;
    const r = await get(exporter.url, `/probe?module=doctor&target=${encodeURIComponent(`${origin.url}flatpak/`)}`);
    expect(r.status).toBe(200);
    expect(value(r.body, 'probe_success'), r.body).toBe(1);
    expect(r.body).toMatch(/^flathub_fetch_doctor_first_byte_seconds\{address="127\.0\.0\.1",family="ipv4"\} [0-9.e-]+$/m);
    expect(r.body).toMatch(/^flathub_fetch_doctor_address_up\{address="127\.0\.0\.1",family="ipv4"\} 1$/m);
    expect(r.body).toMatch(/^flathub_fetch_doctor_findings\{kind="healthy",severity="info"\} 1$/m);
    // It measured the target for real: nginx logged its requests.
    expect(origin.log().length).toBeGreaterThan(before);
  });

  test('the scrape-timeout header bounds a probe; beyond concurrency + queue, 503', async () => {
    const t0 = Date.now();
    const slow = get(exporter.url, `/probe?module=mirror&target=${encodeURIComponent(hungUrl)}`, {
      'X-Prometheus-Scrape-Timeout-Seconds': '2',
    });
    // Let the first probe take the only slot, then ask for another.
    for (let i = 0; i < 100 && value((await get(exporter.url, '/metrics')).body, 'flathub_fetch_exporter_probes_in_flight') !== 1; i++)
      await new Promise((r) => setTimeout(r, 20));
    const refused = await get(exporter.url, `/probe?module=mirror&target=${encodeURIComponent(redirecting.url)}`);
    expect(refused.status).toBe(503);
    const r = await slow;
    const elapsed = (Date.now() - t0) / 1000;
    expect(value(r.body, 'probe_success')).toBe(0);
    expect(r.body).toContain('flathub_fetch_probe_failure_info{code="ERR_ABORTED"} 1');
    // Deadline 2 − 0.5 s: answered before Prometheus would give up.
    expect(value(r.body, 'probe_duration_seconds')).toBeLessThan(2);
    expect(elapsed).toBeGreaterThanOrEqual(1.4);
  });

  test('with a queue, a probe waits for the slot and then runs', async () => {
    const queued = await startExporter({ ...config, queue: 1 }, { port: 0 });
    try {
      const slow = get(queued.url, `/probe?module=mirror&target=${encodeURIComponent(hungUrl)}`, {
        'X-Prometheus-Scrape-Timeout-Seconds': '2',
      });
      for (let i = 0; i < 100 && value((await get(queued.url, '/metrics')).body, 'flathub_fetch_exporter_probes_in_flight') !== 1; i++)
        await new Promise((r) => setTimeout(r, 20));
      const waiting = get(queued.url, `/probe?module=pull&target=${encodeURIComponent(`${origin.url}archive/`)}`, {
        'X-Prometheus-Scrape-Timeout-Seconds': '20',
      });
      for (let i = 0; i < 100 && value((await get(queued.url, '/metrics')).body, 'flathub_fetch_exporter_probes_queued') !== 1; i++)
        await new Promise((r) => setTimeout(r, 20));
      const m = (await get(queued.url, '/metrics')).body;
      expect(value(m, 'flathub_fetch_exporter_probes_queued')).toBe(1);
      expect(value(m, 'flathub_fetch_exporter_probes_in_flight')).toBe(1);
      const third = await get(queued.url, `/probe?module=pull&target=${encodeURIComponent(`${origin.url}archive/`)}`);
      expect(third.status).toBe(503);
      expect(value((await slow).body, 'probe_success')).toBe(0);
      expect(value((await waiting).body, 'probe_success')).toBe(1);
      const after = (await get(queued.url, '/metrics')).body;
      expect(value(after, 'flathub_fetch_exporter_probes_in_flight')).toBe(0);
      expect(value(after, 'flathub_fetch_exporter_probes_queued')).toBe(0);
      expect(value(after, 'flathub_fetch_exporter_requests_rejected_total\\{reason="queue_full"\\}')).toBe(1);
    } finally {
      await queued.close();
    }
  });
});
