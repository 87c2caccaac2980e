/**
 * Where the real tools are (`ostree`, `nginx`, `openssl`, …), for the tests and the benchmarks:
 * no vitest import here, so bench scripts load it with Node.js's type stripping.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const KNOWN: Record<string, string[]> = {
  ostree: ['/usr/bin/ostree'],
  flatpak: ['/usr/bin/flatpak'],
  nginx: ['/usr/sbin/nginx'],
  gpg: ['/usr/bin/gpg'],
  varnishd: ['/usr/sbin/varnishd'],
  chromium: ['/usr/bin/chromium'],
  prometheus: ['/usr/bin/prometheus'],
  promtool: ['/usr/bin/promtool'],
  strace: ['/usr/bin/strace'],
};

const cache = new Map<string, string | null>();

/** Absolute path of a tool, or null. */
export function toolPath(name: string): string | null {
  if (cache.has(name)) return cache.get(name) ?? null;
  let found: string | null = (KNOWN[name] ?? []).find((p) => existsSync(p)) ?? null;
  if (found === null) {
    try {
      found = execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim() || null;
    } catch {
      found = null;
    }
  }
  cache.set(name, found);
  return found;
}

export function missingTools(names: readonly string[]): string[] {
  return names.filter((n) => toolPath(n) === null);
}
