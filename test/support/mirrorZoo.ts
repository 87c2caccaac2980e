/**
 * A "mirror zoo": the Flatpak fixture repository updated by one more `flatpak build-export`
 * (the primary, served by nginx), and mirrors of it each broken in exactly one way — copies
 * with one thing changed served by nginx, nginx configuration variations, or RepoServer fault
 * policies — plus a healthy one, a healthy redirecting cache and a healthy Varnish in front. The failures seen at Flathub in
 * 2024–2026 have their own: large files cut at a power of two while HEAD reports the full length,
 * a signature file that fails while what it signs is fine, deltas of an older commit missing,
 * and one host name whose two addresses serve different summaries.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deltaDirectory, deltaPartPath } from '../../packages/client/src/formats/paths.js';
import { type FaultPolicy, RepoServer } from '../../packages/client/src/testing/index.js';
import type { FixtureSet } from './fixtures.js';
import { type NginxServer, startNginx } from './nginx.js';
import { startVarnish, type VarnishServer } from './varnish.js';

/** First-byte delay of the `very-slow` mirror, ms. */
export const VERY_SLOW_MS = 1200;

export const ZOO = [
  'healthy',
  'stale-summary',
  'missing-delta-part',
  'truncated-object',
  'corrupted-object',
  'html-for-missing',
  'cached-503',
  'very-slow',
  'bad-signature',
  'no-range',
  'redirecting-cache',
  'caching-proxy',
  'cut-at-boundary',
  'sig-unavailable',
  'missing-older-delta',
  'split-addresses',
] as const;
export type ZooMirror = (typeof ZOO)[number];

/** Mirrors that only warn (the check named in ZOO_FAILS warns, every other passes). */
export const ZOO_WARNS: ReadonlySet<ZooMirror> = new Set(['missing-older-delta']);

/** The check each broken mirror must fail (and the only one). */
export const ZOO_FAILS: Record<ZooMirror, string | null> = {
  healthy: null,
  'stale-summary': 'freshness',
  'missing-delta-part': 'completeness',
  'truncated-object': 'http',
  'corrupted-object': 'completeness',
  'html-for-missing': 'http',
  'cached-503': 'http',
  'very-slow': 'performance',
  'bad-signature': 'trust',
  'no-range': 'http',
  'redirecting-cache': null,
  'caching-proxy': null,
  'cut-at-boundary': 'http',
  'sig-unavailable': 'http',
  'missing-older-delta': 'completeness',
  'split-addresses': 'freshness',
};

/** The body size `cut-at-boundary` cuts large files at (a power of two, as a cache's segments). */
export const CUT_AT = 128 * 1024;

export const APP_X86 = 'app/org.example.Hello/x86_64/stable';

export interface Zoo {
  primary: string;
  mirrors: Record<ZooMirror, string>;
  /** The x86_64 app commit before and after the update. */
  oldHead: string;
  newHead: string;
  /** The delta part removed from `missing-delta-part` and answering 503 on `cached-503`. */
  brokenPart: string;
  /** The fixture's public key. */
  keyFile: string;
  /** Host → addresses for checkMirrors' `resolve` (the split-addresses mirror's name). */
  resolve: Record<string, string[]>;
  /** The delta to the older head removed from `missing-older-delta`. */
  olderDelta: string;
  dir: string;
  stop(): Promise<void>;
}

/** Copies the fixture's flatpak repo and adds one x86_64 app commit with flatpak (≈0.3 s). Returns [primary, stale]. */
export function makeUpdatedRepo(set: FixtureSet, dir: string): { primary: string; stale: string } {
  const stale = join(dir, 'stale');
  const primary = join(dir, 'primary');
  cpSync(set.repoPath('flatpak'), stale, { recursive: true });
  cpSync(set.repoPath('flatpak'), primary, { recursive: true });
  for (const d of ['refs/remotes', 'refs/mirrors', 'tmp']) mkdirSync(join(primary, d), { recursive: true });
  // gpg-agent wants a short socket path: the home lives directly under /tmp.
  const gnupg = mkdtempSync(join(tmpdir(), 'zoo-gpg-'));
  cpSync(join(set.root, 'gpg'), gnupg, { recursive: true });
  execFileSync('chmod', ['-R', 'go-rwx', gnupg]);
  const home = join(dir, 'home');
  mkdirSync(home);
  const env = {
    ...process.env,
    GNUPGHOME: gnupg,
    HOME: home,
    XDG_DATA_HOME: join(home, 'data'),
    XDG_CACHE_HOME: join(home, 'cache'),
    XDG_CONFIG_HOME: join(home, 'config'),
    FLATPAK_USER_DIR: join(home, 'flatpak-user'),
    FLATPAK_SYSTEM_DIR: join(home, 'flatpak-system'),
  };
  try {
    const fpr = set.manifest.gpg.fingerprint;
    const build = join(dir, 'build');
    mkdirSync(join(build, 'files', 'bin'), { recursive: true });
    writeFileSync(join(build, 'files', 'bin', 'hello'), "#!/bin/sh\necho 'Hello flatpak x86_64 v3'\n", { mode: 0o755 });
    writeFileSync(join(build, 'files', 'notes.txt'), 'zoo update\n'.repeat(2000));
    // Incompressible (a SHA-256 chain): its object and the delta part carrying it exceed CUT_AT.
    const blocks: Buffer[] = [];
    let h = createHash('sha256').update('zoo data').digest();
    for (let i = 0; i < 300 * 1024; i += h.length) {
      h = createHash('sha256').update(h).digest();
      blocks.push(h);
    }
    writeFileSync(join(build, 'files', 'data.bin'), Buffer.concat(blocks));
    writeFileSync(
      join(build, 'metadata'),
      '[Application]\nname=org.example.Hello\nruntime=org.example.Platform/x86_64/1\nsdk=org.example.Platform/x86_64/1\n',
    );
    const run = (args: string[]) => execFileSync('flatpak', args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    run(['build-finish', '--command=hello', build]);
    const sign = [`--gpg-sign=${fpr}`, `--gpg-homedir=${gnupg}`];
    run([
      'build-export',
      '--arch=x86_64',
      '--timestamp=2024-02-05T12:00:00Z',
      '--subject=Hello x86_64 1.0.3',
      '--disable-sandbox',
      '--no-update-summary',
      ...sign,
      primary,
      build,
      'stable',
    ]);
    run(['build-update-repo', '--generate-static-deltas', '--static-delta-jobs=1', ...sign, primary]);
  } finally {
    try {
      execFileSync('gpgconf', ['--homedir', gnupg, '--kill', 'all'], { env, stdio: 'ignore' });
    } catch {}
    rmSync(gnupg, { recursive: true, force: true });
  }
  return { primary, stale };
}

const head = (repo: string, ref: string) => readFileSync(join(repo, 'refs', 'heads', ref), 'utf8').trim();

/** Hard-linked copy (cheap); replace files by unlinking first, never write through a link. */
function linkCopy(src: string, dest: string): string {
  execFileSync('cp', ['-al', src, dest]);
  return dest;
}

export async function startZoo(set: FixtureSet): Promise<Zoo> {
  const dir = mkdtempSync(join(tmpdir(), 'ffetch-zoo-'));
  const { primary, stale } = makeUpdatedRepo(set, dir);
  const oldHead = head(stale, APP_X86);
  const newHead = head(primary, APP_X86);
  const brokenPart = deltaPartPath(null, newHead, 0);

  const missingPart = linkCopy(primary, join(dir, 'missing-part'));
  rmSync(join(missingPart, brokenPart));
  const badSig = linkCopy(primary, join(dir, 'bad-sig'));
  rmSync(join(badSig, 'summary.idx.sig'));
  copyFileSync(join(stale, 'summary.idx.sig'), join(badSig, 'summary.idx.sig')); // a good signature, of the previous index
  // The from-scratch delta to the older head (the primary keeps it after the update) is gone.
  const olderDelta = deltaDirectory(null, oldHead).replace(/\/$/, '');
  const missingOlder = linkCopy(primary, join(dir, 'missing-older'));
  rmSync(join(missingOlder, olderDelta), { recursive: true });
  // A cache holding the metadata; objects and delta parts it lacks are redirected to the primary.
  const partial = linkCopy(primary, join(dir, 'partial'));
  for (const f of readdirSync(partial, { recursive: true, encoding: 'utf8' })) {
    if (f.endsWith('.filez') || /^deltas\/.*\/\d+$/.test(f)) rmSync(join(partial, f));
  }
  const html = join(dir, 'html');
  mkdirSync(html);
  writeFileSync(join(html, 'notfound.html'), '<!DOCTYPE html>\n<html><body><h1>Welcome to our mirror</h1></body></html>\n');

  const nginx: NginxServer[] = [];
  const servers: RepoServer[] = [];
  const proxies: VarnishServer[] = [];
  const ng = async (root: string, serverConfig = '', ipv6 = false) => {
    const s = await startNginx(root, { serverConfig, ipv6 });
    nginx.push(s);
    return s.url;
  };
  const rs = async (faults: FaultPolicy) => {
    const s = await RepoServer.start(primary, { faults });
    servers.push(s);
    return s.url;
  };
  try {
    const p = await ng(primary);
    const [healthy, staleUrl, missing, bad, htmlUrl, noRange, cached503, redirecting, sig503, older, split] = await Promise.all([
      ng(primary),
      ng(stale),
      ng(missingPart),
      ng(badSig),
      ng(primary, `error_page 404 =200 /notfound.html;\n    location = /notfound.html { root ${html}; }`),
      ng(primary, 'max_ranges 0;'),
      ng(primary, `location = "/${brokenPart}" { return 503; }`),
      ng(partial, `error_page 404 = @primary;\n    location @primary { return 302 ${p}$uri; }`),
      ng(primary, 'location = /summary.idx.sig { return 503; }'),
      ng(missingOlder),
      // One name, two addresses: 127.0.0.1 serves the primary, ::1 the copy a purge did not reach.
      ng(primary, `set $zoo primary;\n    if ($server_addr = "::1") { set $zoo stale; }\n    location ~ ^/ { root ${dir}/$zoo; }`, true),
    ]);
    const filez = (path: string) => path.endsWith('.filez');
    const [truncated, corrupted, slow, cut] = await Promise.all([
      rs((ctx) => (filez(ctx.path) ? { kind: 'truncate', keep: 512, lie: true } : null)),
      rs((ctx) => (filez(ctx.path) ? { kind: 'corrupt' } : null)),
      // Well past the performance check's fail rule (×8 the healthy reference and 250 ms more)
      // even when a loaded machine slows the reference's own first bytes to ~100 ms.
      rs(() => ({ kind: 'first-byte-delay', ms: VERY_SLOW_MS })),
      // GETs of large files end at CUT_AT with a Content-Length to match; HEAD tells the truth.
      rs((ctx) => (ctx.method === 'GET' && /^\/(objects|deltas)\//.test(ctx.path) ? { kind: 'truncate', keep: CUT_AT, lie: false } : null)),
    ]);
    const proxy = await startVarnish(Number(new URL(p).port), { firstByteTimeout: 10 });
    proxies.push(proxy);
    const splitUrl = `http://localhost:${new URL(split as string).port}/`;
    return {
      primary: p,
      mirrors: {
        healthy: healthy as string,
        'stale-summary': staleUrl as string,
        'missing-delta-part': missing as string,
        'truncated-object': truncated as string,
        'corrupted-object': corrupted as string,
        'html-for-missing': htmlUrl as string,
        'cached-503': cached503 as string,
        'very-slow': slow as string,
        'bad-signature': bad as string,
        'no-range': noRange as string,
        'redirecting-cache': redirecting as string,
        'caching-proxy': proxy.url,
        'cut-at-boundary': cut as string,
        'sig-unavailable': sig503 as string,
        'missing-older-delta': older as string,
        'split-addresses': splitUrl,
      },
      resolve: { localhost: ['127.0.0.1', '::1'] },
      olderDelta,
      oldHead,
      newHead,
      brokenPart,
      keyFile: join(set.root, 'gpg', 'pubkey.asc'),
      dir,
      stop: async () => {
        await Promise.all([...nginx.map((s) => s.stop()), ...servers.map((s) => s.close()), ...proxies.map((s) => s.stop())]);
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await Promise.all([...nginx.map((s) => s.stop()), ...servers.map((s) => s.close()), ...proxies.map((s) => s.stop())]);
    throw err;
  }
}
