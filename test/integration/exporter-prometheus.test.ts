/**
 * `flathub-fetch exporter` scraped by a real Prometheus using the example configuration
 * (examples/prometheus/prometheus.yml, its targets and the exporter's address substituted, the
 * intervals shortened): the exporter probes a mirror served by nginx, and probe_success in
 * Prometheus follows the mirror as it is broken (its objects/ directory moved away) and repaired.
 * A pull module probes a real pull at the same time. The example configuration and rules pass
 * promtool. Waits are bounded; no duration is asserted.
 */
import { cpSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { loadExporterConfig } from '../../packages/client/src/index.js';
import { spawnCli, warningLines } from '../support/cli.js';
import { fixtureSets, REPO_ROOT } from '../support/fixtures.js';
import { type NginxServer, startNginx } from '../support/nginx.js';
import { type PrometheusServer, promtool, startPrometheus } from '../support/prometheus.js';
import { describeWithTools } from '../support/tools.js';

const set = fixtureSets().at(-1);
if (set === undefined) throw new Error('no fixtures');
const APP = 'app/org.example.Hello/x86_64/stable';
const EXAMPLES = join(REPO_ROOT, 'examples', 'prometheus');
const WAIT = 60_000;

describeWithTools(['nginx', 'prometheus', 'promtool'], 'exporter scraped by Prometheus', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'ffetch-exporter-'));
  const mirrorRoot = join(tmp, 'mirror');
  let primary: NginxServer;
  let mirror: NginxServer;
  let origin: NginxServer;
  let exporter: Awaited<ReturnType<typeof spawnCli>>;
  let prometheus: PrometheusServer;

  beforeAll(async () => {
    cpSync(set.repoPath('flatpak'), mirrorRoot, { recursive: true });
    [primary, mirror, origin] = await Promise.all([
      startNginx(set.repoPath('flatpak')),
      startNginx(mirrorRoot),
      startNginx(`${set.root}/repos`),
    ]);
    const config = join(tmp, 'exporter.json');
    writeFileSync(
      config,
      JSON.stringify({
        concurrency: 2,
        modules: {
          mirror: {
            prober: 'mirror',
            primary: primary.url,
            targets: [mirror.url],
            refs: ['app/*'],
            maxRefs: 1,
            sample: 4,
            gpgKeyFiles: [join(set.root, 'gpg', 'pubkey.asc')],
            timeout: 20,
          },
          pull: { prober: 'pull', targets: [`${origin.url}archive/`], ref: APP, timeout: 20 },
          doctor: { prober: 'doctor', targets: [`${origin.url}archive/`], objects: 2, timeout: 20 },
        },
      }),
    );
    exporter = await spawnCli(['exporter', '--listen', '127.0.0.1:0', '--config', config], /listening on http:\/\/([\d.]+:\d+)\//);
    const address = exporter.match[1] as string;
    const yml = readFileSync(join(EXAMPLES, 'prometheus.yml'), 'utf8')
      .replaceAll('127.0.0.1:9841', address)
      .replace(
        '          - https://mirror.example.org/flathub/\n          - https://cdn.example.net/flathub/\n',
        `          - ${mirror.url}\n`,
      )
      .replaceAll('          - https://dl.flathub.org/repo/\n', `          - ${origin.url}archive/\n`)
      .replace(/scrape_interval: \w+/g, 'scrape_interval: 2s')
      .replace(/scrape_timeout: \w+/g, 'scrape_timeout: 2s')
      .replace(/evaluation_interval: \w+/, 'evaluation_interval: 1s');
    expect(yml).toContain(mirror.url);
    expect(yml).not.toContain('example.org');
    expect(yml).not.toContain('flathub.org');
    prometheus = await startPrometheus(yml, { 'alerts.yml': readFileSync(join(EXAMPLES, 'alerts.yml'), 'utf8') });
  });
  afterAll(async () => {
    await prometheus?.stop();
    const code = await exporter?.stop();
    expect(code).toBe(0);
    await Promise.all([primary, mirror, origin].map((s) => s?.stop()));
    rmSync(tmp, { recursive: true, force: true });
  });

  test('the example scrape configuration and alert rules pass promtool', async () => {
    const config = await promtool(['check', 'config', join(EXAMPLES, 'prometheus.yml')]);
    expect(config.code, config.output).toBe(0);
    const rules = await promtool(['check', 'rules', join(EXAMPLES, 'alerts.yml')]);
    expect(rules.code, rules.output).toBe(0);
    expect(rules.output).toMatch(/SUCCESS: \d+ rules found/);
    // The example exporter configuration serves the modules the scrape configuration asks for.
    const exporterConfig = await loadExporterConfig(join(EXAMPLES, 'exporter.json'));
    expect([...exporterConfig.modules.keys()]).toEqual(['mirror', 'pull', 'doctor']);
    expect(exporterConfig.modules.get('mirror')?.targets).toEqual([
      'https://mirror.example.org/flathub/',
      'https://cdn.example.net/flathub/',
    ]);
  });

  test('probe_success follows a mirror that is broken, then repaired', async () => {
    const up = (s: { value: number }[]) => s.length === 1 && s[0]?.value === 1;
    const down = (s: { value: number }[]) => s.length === 1 && s[0]?.value === 0;
    const q = 'probe_success{job="flathub_mirrors"}';
    const first = await prometheus.waitFor(q, up, WAIT);
    expect(first[0]?.metric.instance).toBe(mirror.url);
    const status = await prometheus.waitFor(`flathub_fetch_mirror_status{job="flathub_mirrors"}`, (s) => s.length === 1, WAIT);
    expect(status[0]?.metric.mirror).toBe(mirror.url);
    expect(status[0]?.value).toBe(0);

    renameSync(join(mirrorRoot, 'objects'), join(mirrorRoot, 'objects.away'));
    await prometheus.waitFor(q, down, WAIT);
    const why = await prometheus.waitFor(`flathub_fetch_probe_failure_info{job="flathub_mirrors"}`, (s) => s.length === 1, WAIT);
    expect(why[0]?.metric.code).toBe('check-failed');
    const completeness = await prometheus.query(`flathub_fetch_mirror_check_status{job="flathub_mirrors",check="completeness"}`);
    expect(completeness.map((s) => s.value)).toEqual([2]);

    renameSync(join(mirrorRoot, 'objects.away'), join(mirrorRoot, 'objects'));
    await prometheus.waitFor(q, up, WAIT);
    expect(exporter.stderr()).toMatch(/probe mirror http:\/\/127\.0\.0\.1:\d+\/: failed \(check-failed\): completeness: /);
    expect(warningLines(exporter.stderr())).toEqual([]);
  });

  test('a pull probe succeeds and reports its requests; the exporter reports its own health', async () => {
    await prometheus.waitFor('probe_success{job="flathub_pull"}', (s) => s.length === 1 && s[0]?.value === 1, WAIT);
    const requests = await prometheus.waitFor('sum(flathub_fetch_requests_total{job="flathub_pull"})', (s) => (s[0]?.value ?? 0) > 0, WAIT);
    expect(requests[0]?.value).toBeGreaterThan(5);
    await prometheus.waitFor('up{job="flathub_fetch_exporter"}', (s) => s[0]?.value === 1, WAIT);
    const probes = await prometheus.waitFor(
      'flathub_fetch_exporter_probes_total{job="flathub_fetch_exporter",module="pull",result="success"}',
      (s) => (s[0]?.value ?? 0) > 0,
      WAIT,
    );
    expect(probes).toHaveLength(1);
    const rss = await prometheus.query('process_resident_memory_bytes{job="flathub_fetch_exporter"}');
    expect(rss[0]?.value).toBeGreaterThan(0);
  });
});
