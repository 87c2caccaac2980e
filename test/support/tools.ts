/**
 * Real-tool gating. Suites that need `ostree`, `flatpak`, `nginx` or GLib are mandatory when
 * CI=true (a missing tool fails the run) and visibly skipped elsewhere: the suite name says
 * what it needs, and vitest lists it as skipped.
 */
import { describe } from 'vitest';
import { missingTools } from './toolPath.ts';

export { missingTools, toolPath } from './toolPath.ts';

export const IN_CI = process.env.CI === 'true';

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
