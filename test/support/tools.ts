/**
 * Real-tool gating. Suites that need `ostree`, `flatpak`, `nginx` or GLib are mandatory when
 * CI=true (a missing tool fails the run) and visibly skipped elsewhere: the suite name says
 * what it needs, and vitest lists it as skipped.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe } from 'vitest';

export const IN_CI = process.env.CI === 'true';

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

/**
 * `describe` for a suite that needs real tools. Missing tools: in CI the suite fails with the
 * list; elsewhere it is skipped with "[skipped: needs …]" in its name.
 */
export function describeWithTools(tools: readonly string[], name: string, fn: () => void): void {
  const missing = missingTools(tools);
  if (missing.length === 0) {
    describe(name, fn);
  } else if (IN_CI) {
    describe(name, () => {
      throw new Error(`CI=true but required tools are missing: ${missing.join(', ')} (install them in .ci/run)`);
    });
  } else {
    describe.skip(`${name} [skipped: needs ${missing.join(', ')}]`, fn);
  }
}
