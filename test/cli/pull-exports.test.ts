import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { fixtureSets } from '../support/fixtures.js';
import { type NginxServer, startNginx } from '../support/nginx.js';
import { describeWithTools } from '../support/tools.js';
import { runCliSync } from '../support/cli.js';

const require = createRequire(import.meta.url);
const harValidator = require('har-validator') as { har(data: unknown): Promise<unknown> };
const parsePrometheus = require('parse-prometheus-text-format') as (
  text: string,
) => Array<{ name: string; type: string; metrics: Array<{ value?: string; labels?: Record<string, string> }> }>;

const set = fixtureSets().at(-1);
if (set === undefined) throw new Error('no fixtures');
const APP = 'app/org.example.Hello/x86_64/stable';
const HEAD = set.manifest.repos.archive?.heads[APP] as string;

const run = runCliSync;

/** `type`, or `request:<purpose>` for request events. */
const label = (e: { type: string } & Record<string, unknown>): string =>
  e.type === 'request' ? `request:${(e.record as { purpose?: string } | undefined)?.purpose}` : e.type;

const ndjson = (text: string) =>
  text
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as { type: string } & Record<string, unknown>);

describeWithTools(['nginx'], `cli pull exports from nginx (${set.name} fixtures)`, () => {
  let nginx: NginxServer;
  /** Event types of the `--events FILE` and `--events -` runs, for the ordering test. */
  const streams: Record<string, string[]> = {};
  const tmp = mkdtempSync(join(tmpdir(), 'ffetch-cli-exports-'));
  beforeAll(async () => {
    nginx = await startNginx(`${set.root}/repos`);
  });
  afterAll(async () => {
    await nginx?.stop();
    rmSync(tmp, { recursive: true, force: true });
  });

  test('--json, --har, --metrics and --events FILE agree with nginx and with each other', async () => {
    const f = (n: string) => join(tmp, n);
    const start = nginx.log().length;
    const r = run([
      'pull',
      `${nginx.url}archive/`,
      APP,
      '--repo',
      f('repo'),
      '--json',
      '--har',
      f('pull.har'),
      '--metrics',
      f('pull.prom'),
      '--events',
      f('events.ndjson'),
    ]);
    expect(r.code, r.stderr).toBe(0);
    const json = JSON.parse(r.stdout) as { schema: string; commit: string; requests: { total: number }; bytes: { wire: number } };
    expect(json.schema).toBe('flathub-fetch/pull-report@1');
    expect(json.commit).toBe(HEAD);
    const total = json.requests.total;
    expect(total).toBeGreaterThan(0);
    const log = await nginx.logSince(start, total);
    expect(total).toBe(log.length);
    expect(json.bytes.wire).toBe(log.reduce((n, e) => n + e.bodyBytes, 0));

    const har = JSON.parse(readFileSync(f('pull.har'), 'utf8')) as { log: { entries: unknown[] } };
    await expect(harValidator.har(har)).resolves.toBeDefined();
    expect(har.log.entries).toHaveLength(total);

    const families = parsePrometheus(readFileSync(f('pull.prom'), 'utf8'));
    const requests = families.find((x) => x.name === 'flathub_fetch_requests_total');
    expect(requests?.type).toBe('COUNTER');
    expect((requests?.metrics ?? []).reduce((n, x) => n + Number(x.value), 0)).toBe(total);

    const events = ndjson(readFileSync(f('events.ndjson'), 'utf8'));
    streams.file = events.map(label);
    expect(events.filter((e) => e.type === 'plan')).toHaveLength(1);
    expect(events.filter((e) => e.type === 'request')).toHaveLength(total);
    // Each delta part's stages, in order, once per part fetched.
    const partRequests = events.filter((e) => label(e) === 'request:delta-part').length;
    const stages = events.filter((e) => e.type === 'part');
    expect(new Set(stages.map((e) => e.part)).size).toBe(partRequests);
    for (const p of new Set(stages.map((e) => e.part)))
      expect(stages.filter((e) => e.part === p).map((e) => e.stage)).toEqual(['downloading', 'decoded', 'running', 'applied']);
    expect(events.at(-1)?.type).toBe('done');
  });

  test('--events - streams only NDJSON on stdout, ending with done', () => {
    const r = run(['pull', `${nginx.url}archive/`, APP, '--repo', join(tmp, 'repo-stdout'), '--events', '-']);
    expect(r.code, r.stderr).toBe(0);
    // Every stdout line is an event (no human summary mixed in).
    const events = ndjson(r.stdout);
    streams.stdout = events.map(label);
    expect(events.filter((e) => e.type === 'plan')).toHaveLength(1);
    expect(events.at(-1)?.type).toBe('done');
  });

  // PullEvent.ts: the requests that open the remote and price the plan (repository metadata and
  // superblocks) are reported live, before the plan; every delta-part or object request comes after it.
  test('the event stream (file and stdout): only metadata requests before the plan, then the pull, then done', () => {
    expect(Object.keys(streams).sort(), 'both runs above completed').toEqual(['file', 'stdout']);
    const planning =
      /^(request|progress)(:(config|summary|summary\.sig|summary\.idx|summary\.idx\.sig|subsummary|summary-delta|delta-index|superblock|ref))?$/;
    for (const [name, labels] of Object.entries(streams)) {
      const at = labels.indexOf('plan');
      expect(at, name).toBeGreaterThanOrEqual(0);
      for (const l of labels.slice(0, at)) expect(l, `${name}: before the plan`).toMatch(planning);
      expect(
        labels.slice(at + 1).some((l) => /^request:(delta-part|fallback|file|dirtree|dirmeta|commit)$/.test(l)),
        name,
      ).toBe(true);
      expect(labels.at(-1)).toBe('done');
    }
  });

  test('--events without a value is a usage error (exit 2)', () => {
    const r = run(['pull', `${nginx.url}archive/`, APP, '--repo', join(tmp, 'repo-usage'), '--events']);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain('--events');
  });
});
