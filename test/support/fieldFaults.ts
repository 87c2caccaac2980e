/**
 * The field fault model of the reliability suites (issue #16): every request independently —
 * no cap per path, as a CDN in a bad hour answers everyone — gets 503 (20%), 502 (2%), 504 (2%),
 * a reset mid-body (5%), a first-byte stall past the client's timeout (5%), a slow body (2%,
 * not a failure) or, on content-addressed paths, a corrupt body (1%). One pull through it, and
 * the checks every pull must pass: `ostree fsck`, content equal to the server's checkout, no
 * object that fails verification, retry amplification within 1/(1−p) + 5%.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect } from 'vitest';
import { buildReport, type PullReport, pull } from '../../packages/client/src/index.js';
import { type FaultPolicy, randomFaults, RepoServer } from '../../packages/client/src/testing/index.js';
import type { FieldRepo } from './fieldRepo.js';
import { checkoutManifest, fsck } from './ostree.js';
import { corruptObjects } from './repoChecks.js';
import { makeTestCertificates, type TestCertificates } from './tls.js';

/** The rate of faults that fail an attempt (statuses, resets, stalls, corruption). */
export const FIELD_FAILURE_RATE = 0.24 + 0.05 + 0.05 + 0.01;

/** The field model's policy for one seed (`corrupt: false`: without the 1% corrupt bodies). */
export function fieldFaults(seed: number, o: { corrupt?: boolean } = {}): FaultPolicy {
  return randomFaults({
    seed,
    p503: 0.24,
    // 503 ten times out of twelve (20% of requests), 502 and 504 once each (2%).
    statuses: [503, 503, 503, 503, 503, 503, 503, 503, 503, 503, 502, 504],
    pReset: 0.05,
    pStall: 0.05,
    // Past the first-byte timeout the suites set (1 s).
    stallMs: 2500,
    pSlow: 0.02,
    pCorrupt: o.corrupt === false ? 0 : 0.01,
    maxFaultsPerPath: Number.POSITIVE_INFINITY,
    corruptOnly: (p) => p.startsWith('/objects/') || p.startsWith('/deltas/'),
  });
}

export interface FieldPull {
  report: PullReport;
  ms: number;
  requests: number;
  faults: number;
}

/**
 * Pulls `made` through a RepoServer with `faults` (HTTP/1.1, or HTTPS offering HTTP/2 when
 * `certs` is given) into `dir/pull-<name>` and checks the result. `expected` is the source's
 * `checkoutManifest`.
 */
export async function fieldPull(o: {
  made: FieldRepo;
  expected: string[];
  dir: string;
  name: string;
  faults: FaultPolicy;
  deltas: boolean;
  certs?: TestCertificates;
  http2?: boolean;
}): Promise<FieldPull> {
  const server = await RepoServer.start(o.made.repo, {
    faults: o.faults,
    ...(o.certs !== undefined
      ? { tls: { cert: readFileSync(o.certs.serverCert, 'utf8'), key: readFileSync(o.certs.serverKey, 'utf8'), http2: o.http2 === true } }
      : {}),
  });
  try {
    const repo = join(o.dir, `pull-${o.name}`);
    const started = performance.now();
    const result = await pull({
      url: server.url,
      ref: o.made.ref,
      repo,
      deltas: o.deltas ? 'prefer' : 'never',
      http: {
        // Well under the 2.5 s stalls; not so short that a loaded machine's slow HTTPS answers time
        // out too (at 200 ms, HTTP/2 pulls saw 8% first-byte timeouts for the 5% injected).
        timeouts: { firstByte: 1000 },
        retry: { minDelay: 5, maxDelay: 200 },
        ...(o.certs !== undefined ? { http: { tls: { ca: o.certs.caPem } }, allowHttp2: o.http2 === true } : {}),
      },
    });
    const ms = performance.now() - started;
    const report = buildReport(result);
    expect(result.commit).toBe(o.made.commit);
    expect(report.strategy).toBe(o.deltas ? 'delta-scratch' : 'objects');
    expect(corruptObjects(repo), `${o.name}: objects that fail verification`).toEqual([]);
    fsck(repo);
    expect(checkoutManifest(repo, o.made.ref), `${o.name}: content = the server's checkout`).toEqual(o.expected);
    expect(report.requests.abandoned).toBe(0);
    return { report, ms, requests: server.log.length, faults: server.log.filter((e) => e.fault !== null && e.fault !== 'slow').length };
  } finally {
    await server.close();
  }
}

/** The amplification bound of issue #16 for failure rate `p`: 1/(1−p) + 5%. */
export function amplificationBound(p: number): number {
  return (1 / (1 - p)) * 1.05;
}

/**
 * What a field-fault suite works in: a temporary directory (named after `prefix`) and test
 * certificates, made for the suite and removed after it; `ready` receives the certificates.
 */
export function useFieldSuite(prefix: string, ready: (certs: TestCertificates) => void): string {
  const tmp = mkdtempSync(join(tmpdir(), prefix));
  let certs: TestCertificates | undefined;
  beforeAll(() => {
    certs = makeTestCertificates();
    ready(certs);
  });
  afterAll(() => {
    certs?.remove();
    rmSync(tmp, { recursive: true, force: true });
  });
  return tmp;
}
