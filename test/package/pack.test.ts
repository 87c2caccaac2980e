/**
 * The published shape of @flathub-fetch/client: `npm pack` gives a tarball that a separate
 * scratch project installs, imports at run time and type-checks against (ESM, .d.ts, exports map).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { REPO_ROOT } from '../support/fixtures.js';

const scratch = mkdtempSync(join(tmpdir(), 'ffetch-pack-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

test('npm pack of packages/client installs and imports with types in a scratch project', { timeout: 240_000 }, () => {
  const npm = (args: string[], cwd: string) => execFileSync('npm', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  npm(['pack', '--pack-destination', scratch, join(REPO_ROOT, 'packages', 'client')], REPO_ROOT);
  const tarball = readdirSync(scratch).find((f) => f.endsWith('.tgz'));
  expect(tarball).toMatch(/^flathub-fetch-client-\d+\.\d+\.\d+\.tgz$/);
  const files = execFileSync('tar', ['-tzf', join(scratch, tarball as string)], { encoding: 'utf8' }).split('\n');
  expect(files).toContain('package/dist/index.js');
  expect(files).toContain('package/dist/index.d.ts');
  expect(files.some((f) => f.includes('/src/') || f.endsWith('.tsbuildinfo'))).toBe(false);

  const project = join(scratch, 'project');
  execFileSync('mkdir', ['-p', project]);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'scratch', private: true, type: 'module' }));
  // A Node consumer: @types/node is present, as for any library built on Node's APIs.
  npm(['install', '--no-audit', '--no-fund', '--prefer-offline', join(scratch, tarball as string), '@types/node@20'], project);
  writeFileSync(
    join(project, 'check.ts'),
    `import { decode, encode, gv, parseSummary, Remote, FlathubFetchError, type Decoded } from '@flathub-fetch/client';
import { parseCommit } from '@flathub-fetch/client/formats';
import { Variant } from '@flathub-fetch/client/gvariant';
const commit: Decoded<'(a{sv}aya(say)sstayay)'> = [[], new Uint8Array(0), [], 's', 'b', 1n, new Uint8Array(32), new Uint8Array(32)];
const bytes: Uint8Array = gv('(a{sv}aya(say)sstayay)').encode(commit);
const subject: string = parseCommit(bytes).subject;
const v: Variant = new Variant('s', subject);
const n: number = decode('u', encode('u', 7));
void [parseSummary, Remote, FlathubFetchError, v, n];
`,
  );
  writeFileSync(
    join(project, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        strict: true,
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        target: 'ES2022',
        noEmit: true,
        skipLibCheck: false,
        types: ['node'],
      },
      files: ['check.ts'],
    }),
  );
  const tsc = spawnSync(process.execPath, [join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', project], {
    encoding: 'utf8',
  });
  expect(tsc.stdout + tsc.stderr).toBe('');
  expect(tsc.status).toBe(0);
  const out = execFileSync(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `import { decode, encode, Remote } from '@flathub-fetch/client';
       import { RepoServer } from '@flathub-fetch/client/testing';
       console.log(JSON.stringify({ n: decode('(su)', encode('(su)', ['hi', 7])), remote: typeof Remote.open, server: typeof RepoServer.start }));`,
    ],
    { cwd: project, encoding: 'utf8' },
  );
  expect(JSON.parse(out)).toEqual({ n: ['hi', 7], remote: 'function', server: 'function' });
});
