/**
 * A describe block's nginx serving a fixture set's repositories, with the helpers the pull tests
 * share: remote URLs, a scratch directory for local repositories, the requests nginx logged since
 * a point, and a writable copy of a served repository for the ostree CLI (cached per repository).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import type { FixtureSet } from './fixtures.js';
import { type NginxServer, startNginx } from './nginx.js';
import { copyRepo } from './ostree.js';

export interface FixtureNginx {
  /** URL of a served repository (`<base>/<repo>/`). */
  url(repo: string): string;
  /** A path for a new local repository in the block's scratch directory. */
  newRepo(name: string): string;
  /** Starts a log window: the returned function gives nginx's entries since this call. */
  since(): () => ReturnType<NginxServer['log']>;
  /** The served repository as ostree sees it (a copy with the empty directories git drops restored). */
  server(repo: string): string;
  /** The scratch directory (removed after the block). */
  readonly tmp: string;
}

/** Call inside a describe block: starts nginx before its tests, stops it and removes the scratch directory after. */
export function useFixtureNginx(set: FixtureSet, prefix: string): FixtureNginx {
  let nginx: NginxServer | undefined;
  const copies = new Map<string, string>();
  const tmp = mkdtempSync(join(tmpdir(), prefix));
  beforeAll(async () => {
    nginx = await startNginx(`${set.root}/repos`);
  });
  afterAll(async () => {
    await nginx?.stop();
    rmSync(tmp, { recursive: true, force: true });
  });
  const started = (): NginxServer => {
    if (nginx === undefined) throw new Error('nginx is not running (use inside a describe block)');
    return nginx;
  };
  return {
    tmp,
    url: (repo) => `${started().url}${repo}/`,
    newRepo: (name) => join(tmp, name),
    since: () => {
      const n = started().log().length;
      return () => started().log().slice(n);
    },
    server: (repo) => {
      let c = copies.get(repo);
      if (c === undefined) {
        c = copyRepo(set.repoPath(repo));
        copies.set(repo, c);
      }
      return c;
    },
  };
}
