/**
 * libostree under the same field fault model as our client (test/support/fieldFaults.ts), for
 * RELIABILITY.md's comparison: `ostree pull` (OSTREE_BIN, default the newest libostree built at
 * /work/ref/ostree when present, else the system's `ostree`) from a RepoServer injecting the
 * faults, alternating delta / no delta and HTTP/1.1 / HTTPS with HTTP/2 offered, on the same
 * repositories. Each pull that succeeds must be fsck-clean and equal to the source; failures are
 * counted, with their error line. Opt-in: RELIABILITY_LIBOSTREE_PULLS (3k repository) and
 * RELIABILITY_LIBOSTREE_BIG_PULLS (20k); RELIABILITY_REPORT=FILE appends one JSON line per pull;
 * RELIABILITY_LIBOSTREE_CORRUPT=0 leaves out the 1% corrupt bodies (libostree fails a pull on the
 * first one: this shows its retries against the rest of the model).
 */
import { execFile } from 'node:child_process';
import { appendFileSync, existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect, test } from 'vitest';
import { RepoServer } from '../../packages/client/src/testing/index.js';
import { fieldFaults, useFieldSuite } from '../support/fieldFaults.js';
import { type FieldRepo, fieldRepo } from '../support/fieldRepo.js';
import { checkoutManifest } from '../support/ostree.js';
import type { TestCertificates } from '../support/tls.js';
import { describeWithTools } from '../support/tools.js';

const PULLS = Number(process.env.RELIABILITY_LIBOSTREE_PULLS ?? 0);
const BIG_PULLS = Number(process.env.RELIABILITY_LIBOSTREE_BIG_PULLS ?? 0);
const REF_BUILD = '/work/ref/ostree/bin/ostree';
const BIN = process.env.OSTREE_BIN ?? (existsSync(REF_BUILD) ? REF_BUILD : 'ostree');
const CORRUPT = process.env.RELIABILITY_LIBOSTREE_CORRUPT !== '0';
const ENV = BIN === REF_BUILD ? { ...process.env, LD_LIBRARY_PATH: '/work/ref/ostree/lib' } : process.env;

async function run(args: string[], timeout: number): Promise<{ code: number; stderr: string }> {
  try {
    await promisify(execFile)(BIN, args, { env: ENV, timeout, maxBuffer: 64 * 1024 * 1024 });
    return { code: 0, stderr: '' };
  } catch (err) {
    const e = err as { code?: number; stderr?: string; killed?: boolean };
    return { code: typeof e.code === 'number' ? e.code : -1, stderr: `${e.killed ? '(killed at the timeout) ' : ''}${e.stderr ?? ''}` };
  }
}

describeWithTools(['ostree', 'openssl'], 'libostree under the field fault model', () => {
  let certs: TestCertificates;
  const tmp = useFieldSuite('ffetch-libostree-field-', (c) => {
    certs = c;
  });

  const series = async (made: FieldRepo, label: string, count: number, seedBase: number, timeout: number) => {
    const expected = checkoutManifest(made.repo, made.ref);
    const version = (await promisify(execFile)(BIN, ['--version'], { env: ENV })).stdout.match(/Version: '([^']+)'/)?.[1];
    for (let i = 0; i < count; i++) {
      const deltas = i % 2 === 0;
      const http2 = Math.floor(i / 2) % 2 === 1;
      const server = await RepoServer.start(made.repo, {
        faults: fieldFaults(seedBase + i, { corrupt: CORRUPT }),
        ...(http2
          ? { tls: { cert: readFileSync(certs.serverCert, 'utf8'), key: readFileSync(certs.serverKey, 'utf8'), http2: true } }
          : {}),
      });
      const repo = join(tmp, `${label}-${i}`);
      try {
        await run(['init', `--repo=${repo}`, '--mode=archive'], 30_000);
        const remote = ['remote', 'add', `--repo=${repo}`, '--no-gpg-verify'];
        if (http2) remote.push(`--set=tls-ca-path=${certs.caCert}`);
        await run([...remote, 'origin', server.url], 30_000);
        const started = performance.now();
        const r = await run(['pull', `--repo=${repo}`, ...(deltas ? [] : ['--disable-static-deltas']), 'origin', made.ref], timeout);
        const ms = performance.now() - started;
        const verdict = r.code === 0 ? 'ok' : 'failed';
        if (r.code === 0) {
          const fsck = await run(['fsck', `--repo=${repo}`], 600_000);
          expect(fsck.code, fsck.stderr).toBe(0);
          expect(checkoutManifest(repo, `origin:${made.ref}`)).toEqual(expected);
        }
        const line = JSON.stringify({
          ostree: version,
          label,
          corrupt: CORRUPT,
          i,
          deltas,
          http2,
          verdict,
          ms: Math.round(ms),
          requests: server.log.length,
          faults: server.log.filter((e) => e.fault !== null && e.fault !== 'slow').length,
          error: r.code === 0 ? null : r.stderr.trim().split('\n').at(-1),
        });
        if (process.env.RELIABILITY_VERBOSE) console.log(line);
        if (process.env.RELIABILITY_REPORT) appendFileSync(process.env.RELIABILITY_REPORT, `${line}\n`);
      } finally {
        await server.close();
        rmSync(repo, { recursive: true, force: true });
      }
    }
  };

  test.skipIf(PULLS === 0)(`${PULLS} pulls of the ~3,200-object repository`, { timeout: PULLS * 600_000 }, async () => {
    await series(fieldRepo({ files: 3080, dirs: 150 }), '3k', PULLS, 16_000, 600_000);
  });

  test.skipIf(BIG_PULLS === 0)(`${BIG_PULLS} pulls of the ≥ 20,000-object repository`, { timeout: BIG_PULLS * 1_800_000 }, async () => {
    await series(fieldRepo({ files: 20_000, dirs: 600 }), '20k', BIG_PULLS, 26_000, 1_800_000);
  });
});
