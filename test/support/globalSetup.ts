/**
 * Generates a fresh fixture set with the real tools before the tests (mandatory in CI; skipped
 * with a notice elsewhere when the tools are missing). Reuses an existing set made by the same
 * script unless FLATHUB_FETCH_REGENERATE=1.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GENERATED_FIXTURES, REPO_ROOT } from './fixtures.js';
import { IN_CI, missingTools } from './tools.js';

export default function setup(): void {
  const script = join(REPO_ROOT, 'test', 'fixtures', 'make-repos.sh');
  const missing = missingTools(['ostree', 'flatpak', 'gpg']);
  if (missing.length > 0) {
    if (IN_CI) throw new Error(`CI=true but ${missing.join(', ')} missing: cannot generate fixtures`);
    process.stderr.write(`[fixtures] not generating fresh repositories (missing ${missing.join(', ')}); using the committed set only\n`);
    return;
  }
  const hash = createHash('sha256').update(readFileSync(script)).digest('hex');
  const stamp = join(GENERATED_FIXTURES, '.script-sha256');
  if (process.env.FLATHUB_FETCH_REGENERATE !== '1' && existsSync(stamp) && readFileSync(stamp, 'utf8') === hash) return;
  process.stderr.write('[fixtures] generating fresh repositories with the real ostree/flatpak tools…\n');
  execFileSync('bash', [script, GENERATED_FIXTURES], { stdio: ['ignore', 'ignore', 'inherit'] });
  writeFileSync(stamp, hash);
}
