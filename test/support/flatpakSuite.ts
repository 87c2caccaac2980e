/** The set-up the install suites share: a flatpak world whose remote `test` nginx serves. */
import { afterAll, beforeAll } from 'vitest';
import type { FixtureSet } from './fixtures.js';
import { addTestRemote, type FlatpakWorld, makeFlatpakWorld } from './flatpakInstall.js';
import { type NginxServer, startNginx } from './nginx.js';

/** Makes the world and starts nginx before the suite's tests (the remote's languages: de, fr), removes both after them. */
export function useServedFlatpakWorld(fixtures: FixtureSet, ready: (w: FlatpakWorld, nginx: NginxServer) => void): void {
  let w: FlatpakWorld | undefined;
  let nginx: NginxServer | undefined;
  beforeAll(async () => {
    w = makeFlatpakWorld(fixtures);
    nginx = await startNginx(w.repo);
    addTestRemote(w, fixtures, nginx.url, 'de;fr');
    ready(w, nginx);
  }, 60_000);
  afterAll(async () => {
    await nginx?.stop();
    w?.remove();
  });
}
