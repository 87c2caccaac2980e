/** Repository modes: what a config says, and which of them this library writes. */
import { type KeyFile, keyFileGet } from '../formats/KeyFile.js';

export type RepoMode = 'archive' | 'bare' | 'bare-user' | 'bare-user-only';

/** A repository's mode from its config (`core.mode`; ostree's default is `bare`, `archive-z2` is `archive`). */
export function repoModeOf(config: KeyFile): RepoMode {
  const m = keyFileGet(config, 'core', 'mode') ?? 'bare';
  return m === 'archive-z2' || m === 'archive' ? 'archive' : (m as RepoMode);
}

/** The modes this library writes. */
export type WritableRepoMode = 'archive' | 'bare-user-only';
export const WRITABLE_REPO_MODES: readonly WritableRepoMode[] = ['archive', 'bare-user-only'];
