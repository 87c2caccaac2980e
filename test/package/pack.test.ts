/**
 * The published packages as a new user gets them: `npm pack` tarballs of @flathub-fetch/client and
 * @flathub-fetch/cli, checked by publint and (the library) @arethetypeswrong/cli, then installed
 * into an empty project on each supported Node.js line with an empty HOME, no npm configuration
 * and a PATH of node, npm and coreutils only — no compiler, make or python, so anything that
 * wanted to compile at install would fail. There the library loads from ESM and from CommonJS
 * (require(esm)), its types resolve under `node16` and `bundler`, and the installed CLI pulls a
 * real repository served by nginx through its from-scratch delta, naming the xz decoder it ran.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { fixtureSets, REPO_ROOT } from '../support/fixtures.js';
import { type NginxServer, startNginx } from '../support/nginx.js';
import { machineNpmrc, nodeBinary } from '../support/nodeRuntimes.js';
import { describeWithTools } from '../support/tools.js';

const scratch = mkdtempSync(join(tmpdir(), 'ffetch-pack-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
const BIN = join(REPO_ROOT, 'node_modules', '.bin');
const APP = 'app/org.example.Hello/x86_64/stable';

const tarballs: Record<'client' | 'cli', string> = { client: '', cli: '' };
beforeAll(() => {
  for (const name of ['client', 'cli'] as const) {
    const out = execFileSync('npm', ['pack', '--json', '--pack-destination', scratch, join(REPO_ROOT, 'packages', name)], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
    });
    tarballs[name] = join(scratch, (JSON.parse(out) as Array<{ filename: string }>)[0]?.filename ?? '');
  }
}, 120_000);

const list = (tarball: string) => execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' }).split('\n').filter(Boolean);

describe('the packed tarballs', () => {
  test.each(['client', 'cli'] as const)(
    '%s: the build and its sources, no tests, fixtures or build info; every source map resolves inside it',
    (name) => {
      const files = list(tarballs[name]);
      expect(files).toContain(name === 'client' ? 'package/dist/index.js' : 'package/dist/bin.js');
      expect(files).toContain('package/package.json');
      expect(files.filter((f) => /\/test\/|\.test\.|__tests__|\/fixtures\/|\.tsbuildinfo$|\.pyc$/.test(f))).toEqual([]);
      const dir = join(scratch, `unpacked-${name}`);
      mkdirSync(dir, { recursive: true });
      execFileSync('tar', ['-xzf', tarballs[name], '-C', dir]);
      const maps = files.filter((f) => f.endsWith('.map'));
      expect(maps.length).toBeGreaterThan(0);
      const missing: string[] = [];
      for (const m of maps) {
        const map = JSON.parse(readFileSync(join(dir, m), 'utf8')) as { sources: string[] };
        const base = join(dir, m, '..');
        for (const s of map.sources) {
          try {
            statSync(join(base, s));
          } catch {
            missing.push(`${m} → ${s}`);
          }
        }
      }
      expect(missing).toEqual([]);
    },
  );

  test('publint passes for both packages, @arethetypeswrong/cli for the library (ESM only)', () => {
    for (const name of ['client', 'cli']) {
      const r = spawnSync(join(BIN, 'publint'), ['--pack', 'npm', '--strict', join(REPO_ROOT, 'packages', name)], { encoding: 'utf8' });
      expect(r.status, `publint ${name}: ${r.stdout}${r.stderr}`).toBe(0);
    }
    const attw = spawnSync(join(BIN, 'attw'), [tarballs.client, '--profile', 'esm-only', '--format', 'table-flipped'], {
      encoding: 'utf8',
    });
    expect(attw.status, attw.stdout + attw.stderr).toBe(0);
  });
});

/** A PATH of node, npm and coreutils only: a directory of links. */
function barePath(node: string): string {
  const bin = join(scratch, `bin-${statSync(node).ino}`);
  mkdirSync(bin, { recursive: true });
  const link = (name: string, target: string) => {
    try {
      symlinkSync(target, join(bin, name));
    } catch {
      // already there
    }
  };
  link('node', node);
  // The machine's npm (`npm root -g` would answer for the Node.js running the tests).
  const npmCli = execFileSync('sh', ['-c', 'readlink -f "$(command -v npm)"'], { encoding: 'utf8' }).trim();
  link('npm', npmCli);
  link('npx', join(npmCli, '..', 'npx-cli.js'));
  const coreutils = execFileSync('dpkg', ['-L', 'coreutils'], { encoding: 'utf8' })
    .split('\n')
    .filter((p) => /^\/(usr\/)?bin\/[^/]+$/.test(p));
  for (const p of [...coreutils, '/bin/sh']) link(p.slice(p.lastIndexOf('/') + 1), p);
  return bin;
}

describeWithTools(['nginx', 'ostree'], 'installed from the tarballs by a new user', () => {
  const set = fixtureSets().at(-1);
  if (set === undefined) throw new Error('no fixtures');
  let nginx: NginxServer | undefined;
  beforeAll(async () => {
    nginx = await startNginx(`${set.root}/repos`);
  });
  afterAll(async () => {
    await nginx?.stop();
  });

  test.each([22, 24, 26])(
    'Node.js %i: installs without compiling; ESM, CommonJS and types work; the CLI pulls a delta and names its decoders',
    { timeout: 300_000 },
    (major) => {
      const node = nodeBinary(major);
      if (node === null) throw new Error(`no Node.js ${major} build for ${process.platform}-${process.arch}`);
      const home = mkdtempSync(join(scratch, `home-${major}-`));
      const project = join(home, 'project');
      mkdirSync(project);
      writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'scratch', private: true, type: 'module' }));
      const bin = barePath(node);
      // HOME is empty (no user npm configuration); npm still reads its installation's global
      // configuration, which on this machine names the CA bundle the registry needs.
      const env = { HOME: home, PATH: bin, npm_config_globalconfig: machineNpmrc() };
      const run = (cmd: string, args: string[], extra: Record<string, string> = {}) => {
        const r = spawnSync(cmd, args, { cwd: project, env: { ...env, ...extra }, encoding: 'utf8', timeout: 240_000 });
        if (r.status !== 0)
          throw new Error(
            `${cmd} ${args.join(' ')}: exit ${r.status} ${r.signal ?? ''} ${r.error?.message ?? ''}\n${r.stdout}\n${r.stderr}`,
          );
        return r;
      };
      for (const tool of ['cc', 'gcc', 'g++', 'make', 'python3', 'xz']) {
        expect(spawnSync(join(bin, 'sh'), ['-c', `command -v ${tool}`], { env }).status, `${tool} must not be on the PATH`).not.toBe(0);
      }
      const installed = run(join(bin, 'npm'), ['install', '--no-audit', '--no-fund', tarballs.client, tarballs.cli]);
      expect(installed.stderr).not.toMatch(/gyp|install-scripts|EBADENGINE/);
      expect(readdirSync(join(project, 'node_modules', '@flathub-fetch'))).toEqual(['cli', 'client']);

      // ESM and CommonJS (require(esm), Node.js ≥ 22.12) consumers, with no warning.
      const esm = run(node, [
        '--input-type=module',
        '-e',
        "import { pull, Remote } from '@flathub-fetch/client'; console.log(typeof pull, typeof Remote.open)",
      ]);
      expect(esm.stdout.trim()).toBe('function function');
      const cjs = run(node, ['--input-type=commonjs', '-e', "const { pull } = require('@flathub-fetch/client'); console.log(typeof pull)"]);
      expect(cjs.stdout.trim()).toBe('function');
      expect(esm.stderr + cjs.stderr).toBe('');

      // Types under node16 and bundler resolution (the workspace's TypeScript, the package's own .d.ts).
      writeFileSync(
        join(project, 'check.ts'),
        `import { pull, type PullResult } from '@flathub-fetch/client';
import { parseCommit } from '@flathub-fetch/client/formats';
import { Variant } from '@flathub-fetch/client/gvariant';
const f: (o: { url: string; ref: string; repo: string }) => Promise<PullResult> = pull;
void [f, parseCommit, Variant];
`,
      );
      for (const [module, moduleResolution] of [
        ['node16', 'node16'],
        ['esnext', 'bundler'],
      ]) {
        writeFileSync(
          join(project, 'tsconfig.json'),
          JSON.stringify({
            compilerOptions: { strict: true, module, moduleResolution, target: 'ES2022', noEmit: true, skipLibCheck: true, types: [] },
            files: ['check.ts'],
          }),
        );
        const tsc = spawnSync(node, [join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', project], {
          encoding: 'utf8',
          env,
        });
        expect(tsc.stdout + tsc.stderr, `${moduleResolution}`).toBe('');
      }

      // The installed CLI pulls the app through its from-scratch delta: first with no xz program on
      // the PATH (the WebAssembly decoder), then with the system's (FLATHUB_FETCH_XZ).
      const url = `${nginx?.url}archive/`;
      const cli = join(project, 'node_modules', '.bin', 'flathub-fetch');
      for (const [xz, backend] of [
        [undefined, 'wasm'],
        ['/usr/bin/xz', 'xz'],
      ] as const) {
        const repo = join(home, `repo-${backend}`);
        const r = run(cli, ['pull', url, APP, '--repo', repo, '--json'], xz === undefined ? {} : { FLATHUB_FETCH_XZ: xz });
        expect(r.stderr).toBe('');
        const report = JSON.parse(r.stdout) as {
          strategy: string;
          objects: { fromDelta: number };
          decoders: { xz: { backend: string; description: string } | null };
        };
        expect(report.strategy).toBe('delta-scratch');
        expect(report.objects.fromDelta).toBeGreaterThan(0);
        expect(report.decoders.xz?.backend, r.stdout.slice(0, 500)).toBe(backend);
        expect(report.decoders.xz?.description).toMatch(backend === 'xz' ? /XZ Utils/ : /WebAssembly/);
      }
    },
  );
});
