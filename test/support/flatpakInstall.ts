/**
 * A flatpak world for install/update tests, made by the real flatpak 1.14: a repository with a
 * runtime (`org.test.Platform//1`), its `.Locale` extension (de, fr, en) and an app
 * (`org.test.Hello//stable`), built with build-finish/build-export, signed with the
 * fixture set's throwaway GPG key, static deltas by build-update-repo; and isolated
 * installations (HOME, XDG dirs, FLATPAK_USER_DIR / FLATPAK_SYSTEM_DIR / FLATPAK_CONFIG_DIR in
 * a temporary directory) with the repository added as a remote. Erasable TypeScript only (the
 * install benchmark loads `isolatedFlatpakEnv` with Node.js's type stripping).
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FixtureSet } from './fixtures.js';

export const APP = 'app/org.test.Hello/x86_64/stable';
export const RUNTIME = 'runtime/org.test.Platform/x86_64/1';
export const LOCALE = 'runtime/org.test.Platform.Locale/x86_64/1';
/** A second app sharing most of its files with the first (for concurrent install/prune tests). */
export const OTHER = 'app/org.test.Other/x86_64/stable';
export const LANGS = ['de', 'en', 'fr'];

export interface FlatpakWorld {
  /** The served repository. */
  repo: string;
  /** Environment for the isolated installations (pass to flatpak and to the library). */
  env: NodeJS.ProcessEnv;
  userDir: string;
  /** Adds a new commit of the runtime (with its Locale) and the apps, regenerating deltas; `eol` marks org.test.Hello end-of-life. */
  publish(version: number, options?: { eol?: string }): void;
  /** `flatpak ARGS` in the isolated environment; stdout. */
  flatpak(args: string[]): string;
  /** The repository's head commit of a ref. */
  head(ref: string): string;
  remove(): void;
}

/**
 * The environment of a flatpak that sees only its own installations: HOME and the XDG
 * directories under `home`, the user and system installations and the configuration directory
 * where given (and XDG_RUNTIME_DIR, an existing 0700 directory, when given). The install
 * benchmark uses it as well.
 */
export function isolatedFlatpakEnv(
  home: string,
  dirs: { user: string; system: string; config: string; runtime?: string },
): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: home,
    LANG: 'C.UTF-8',
    XDG_DATA_HOME: join(home, 'data'),
    XDG_CACHE_HOME: join(home, 'cache'),
    XDG_CONFIG_HOME: join(home, 'config'),
    ...(dirs.runtime !== undefined ? { XDG_RUNTIME_DIR: dirs.runtime } : {}),
    FLATPAK_USER_DIR: dirs.user,
    FLATPAK_SYSTEM_DIR: dirs.system,
    FLATPAK_CONFIG_DIR: dirs.config,
  };
}

/** Builds the repository (version 1) and an empty user installation with the remote `test` at `url(repo)` once served. */
export function makeFlatpakWorld(set: FixtureSet): FlatpakWorld {
  const dir = mkdtempSync(join(tmpdir(), 'ffetch-fpw-'));
  // gpg-agent wants a short socket path: the home lives directly under /tmp.
  const gnupg = mkdtempSync(join(tmpdir(), 'fpw-gpg-'));
  cpSync(join(set.root, 'gpg'), gnupg, { recursive: true });
  execFileSync('chmod', ['-R', 'go-rwx', gnupg]);
  const home = join(dir, 'home');
  const env = isolatedFlatpakEnv(home, {
    user: join(dir, 'user'),
    system: join(dir, 'system'),
    config: join(dir, 'etc'),
    runtime: join(home, 'run'),
  });
  for (const d of [home, join(home, 'run'), join(dir, 'user'), join(dir, 'system'), join(dir, 'etc')])
    mkdirSync(d, { recursive: true, mode: 0o700 });
  const repo = join(dir, 'repo');
  const sign = [`--gpg-sign=${set.manifest.gpg.fingerprint}`, `--gpg-homedir=${gnupg}`];
  const flatpak = (args: string[]) => execFileSync('flatpak', args, { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const day = (v: number) => `2024-03-${String(v).padStart(2, '0')}T12:00:00Z`;

  const publish = (v: number, options: { eol?: string } = {}) => {
    const build = join(dir, `build-${v}`);
    // The runtime: usr/ becomes its files/.
    const rt = join(build, 'runtime');
    mkdirSync(join(rt, 'usr', 'lib'), { recursive: true });
    mkdirSync(join(rt, 'files'), { recursive: true });
    mkdirSync(join(rt, 'usr', 'share', 'runtime', 'locale'), { recursive: true });
    for (let i = 0; i < 40; i++)
      writeFileSync(join(rt, 'usr', 'lib', `lib${i}.so`), blob(`platform ${i} v${i % 4 === 0 ? v : 1}`, 4096 + i * 97));
    writeFileSync(
      join(rt, 'metadata'),
      '[Runtime]\nname=org.test.Platform\nruntime=org.test.Platform/x86_64/1\nsdk=org.test.Platform/x86_64/1\n\n' +
        '[Extension org.test.Platform.Locale]\ndirectory=share/runtime/locale\nautodelete=true\nlocale-subset=true\n',
    );
    flatpak([
      'build-export',
      '--runtime',
      '--arch=x86_64',
      `--timestamp=${day(v)}`,
      `--subject=Platform ${v}`,
      '--disable-sandbox',
      '--no-update-summary',
      ...sign,
      repo,
      rt,
      '1',
    ]);
    // Its Locale extension, one directory per language (an extension exports files/, not usr/).
    const loc = join(build, 'locale');
    for (const l of LANGS) {
      mkdirSync(join(loc, 'files', l, 'share', l, 'LC_MESSAGES'), { recursive: true });
      for (let i = 0; i < 6; i++)
        writeFileSync(join(loc, 'files', l, 'share', l, 'LC_MESSAGES', `m${i}.mo`), blob(`${l} ${i} v${v}`, 2048 + i * 13));
    }
    writeFileSync(
      join(loc, 'metadata'),
      '[Runtime]\nname=org.test.Platform.Locale\nruntime=org.test.Platform/x86_64/1\nsdk=org.test.Platform/x86_64/1\n\n' +
        '[ExtensionOf]\nref=runtime/org.test.Platform/x86_64/1\n',
    );
    flatpak([
      'build-export',
      '--runtime',
      '--arch=x86_64',
      `--timestamp=${day(v)}`,
      `--subject=Locale ${v}`,
      '--disable-sandbox',
      '--no-update-summary',
      ...sign,
      repo,
      loc,
      '1',
    ]);
    for (const id of ['org.test.Hello', 'org.test.Other']) {
      exportApp(join(build, id), id, v, id === 'org.test.Hello' && options.eol !== undefined ? [`--end-of-life=${options.eol}`] : []);
    }
    flatpak([
      'build-update-repo',
      '--generate-static-deltas',
      '--static-delta-jobs=1',
      `--gpg-import=${join(set.root, 'gpg', 'pubkey.gpg')}`,
      ...sign,
      repo,
    ]);
  };
  const exportApp = (app: string, id: string, v: number, extra: string[]) => {
    // (build-init would need the SDK installed: its metadata is written as it writes it.)
    mkdirSync(join(app, 'files', 'bin'), { recursive: true });
    mkdirSync(join(app, 'var'), { recursive: true });
    writeFileSync(join(app, 'metadata'), `[Application]\nname=${id}\nruntime=org.test.Platform/x86_64/1\nsdk=org.test.Platform/x86_64/1\n`);
    mkdirSync(join(app, 'files', 'share'), { recursive: true });
    writeFileSync(join(app, 'files', 'bin', 'hello'), `#!/bin/sh\necho '${id} v${v}'\n`, { mode: 0o755 });
    for (let i = 0; i < 30; i++)
      writeFileSync(join(app, 'files', 'share', `data${i}.bin`), blob(`app ${i} v${i % 3 === 0 ? v : 1}`, 8192 + i * 31));
    flatpak(['build-finish', '--command=hello', '--share=network', app]);
    flatpak([
      'build-export',
      '--arch=x86_64',
      `--timestamp=${day(v)}`,
      `--subject=${id} ${v}`,
      '--disable-sandbox',
      '--no-update-summary',
      ...extra,
      ...sign,
      repo,
      app,
      'stable',
    ]);
  };
  publish(1);
  return {
    repo,
    env,
    userDir: join(dir, 'user'),
    publish,
    flatpak,
    head: (ref) => readFileSync(join(repo, 'refs', 'heads', ref), 'utf8').trim(),
    remove: () => {
      try {
        execFileSync('gpgconf', ['--homedir', gnupg, '--kill', 'all'], { env, stdio: 'ignore' });
      } catch {}
      rmSync(gnupg, { recursive: true, force: true });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Adds the served repository as remote `test` of the user installation, trusting the fixture key, with `languages`. */
export function addTestRemote(w: FlatpakWorld, set: FixtureSet, url: string, languages = 'de;fr'): void {
  w.flatpak(['remote-add', '--user', `--gpg-import=${join(set.root, 'gpg', 'pubkey.gpg')}`, 'test', url]);
  w.flatpak(['config', '--user', '--set', 'languages', languages]);
}

/** Deterministic, mildly compressible bytes. */
function blob(label: string, size: number): Buffer {
  const line = Buffer.from(`${label} ${'z'.repeat(label.length % 17)}\n`);
  const out = Buffer.alloc(size);
  for (let i = 0; i < size; i++) out[i] = (line[i % line.length] as number) ^ (i % 251 === 0 ? i & 0xff : 0);
  return out;
}
