/**
 * Installations, remotes and languages read from flatpak's own files (a temporary
 * FLATPAK_CONFIG_DIR with installations.d, installation repositories with `repo/config`), and
 * flatpak's partial ref names and related-ref rules on summary refs.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { findInstallation, listInstallations, localeLanguages, matchRef, type RemoteRef } from '../../packages/client/src/index.js';
import { relatedOf } from '../../packages/client/src/install/resolveRefs.js';

const dir = mkdtempSync(join(tmpdir(), 'ffetch-inst-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function repoConfig(path: string, text: string): void {
  mkdirSync(join(path, 'repo'), { recursive: true });
  writeFileSync(join(path, 'repo', 'config'), text);
}

const env: NodeJS.ProcessEnv = {
  HOME: join(dir, 'home'),
  FLATPAK_USER_DIR: join(dir, 'user'),
  FLATPAK_SYSTEM_DIR: join(dir, 'system'),
  FLATPAK_CONFIG_DIR: join(dir, 'etc'),
  LANG: 'pt_BR.UTF-8',
  LC_TIME: 'de_DE.UTF-8',
};

describe('installations', () => {
  repoConfig(
    env.FLATPAK_USER_DIR as string,
    '[core]\nrepo_version=1\nmode=bare-user-only\nxa.languages=de;fr;\n\n[remote "flathub"]\nurl=https://dl.flathub.org/repo\ngpg-verify=true\ngpg-verify-summary=true\ncollection-id=org.flathub.Stable\n\n[remote "off"]\nurl=https://example.org/\nxa.disable=true\ngpg-verify=false\n',
  );
  writeFileSync(join(env.FLATPAK_USER_DIR as string, 'repo', 'flathub.trustedkeys.gpg'), 'x');
  repoConfig(env.FLATPAK_SYSTEM_DIR as string, '[core]\nmode=bare-user-only\nxa.extra-languages=es_ES;\n');
  mkdirSync(join(dir, 'etc', 'installations.d'), { recursive: true });
  writeFileSync(
    join(dir, 'etc', 'installations.d', 'extra.conf'),
    `[Installation "sdcard"]\nPath=${join(dir, 'sd')}\nDisplayName=SD card\nStorageType=sdcard\nPriority=5\n\n[Installation "low"]\nPath=${join(dir, 'low')}\n`,
  );
  repoConfig(join(dir, 'sd'), '[core]\nmode=bare-user-only\nxa.languages=\n');

  test('user, system and named installations, with their paths, remotes and languages', () => {
    const all = listInstallations({ env });
    expect(all.map((i) => [i.id, i.path, i.isUser])).toEqual([
      ['user', join(dir, 'user'), true],
      ['default', join(dir, 'system'), false],
      ['sdcard', join(dir, 'sd'), false],
      ['low', join(dir, 'low'), false],
    ]);
    const user = findInstallation({ installation: 'user', env });
    expect(user.remotes).toEqual([
      {
        name: 'flathub',
        url: 'https://dl.flathub.org/repo/',
        gpgVerify: true,
        gpgVerifySummary: true,
        collectionId: 'org.flathub.Stable',
        filter: null,
        disabled: false,
        trustedKeys: join(dir, 'user', 'repo', 'flathub.trustedkeys.gpg'),
      },
      {
        name: 'off',
        url: 'https://example.org/',
        gpgVerify: false,
        gpgVerifySummary: true,
        collectionId: null,
        filter: null,
        disabled: true,
        trustedKeys: null,
      },
    ]);
    // xa.languages wins; an empty one means every language.
    expect(user.languages).toEqual(['de', 'fr']);
    expect(findInstallation({ installation: 'sdcard', env })).toMatchObject({
      displayName: 'SD card',
      storageType: 'sdcard',
      priority: 5,
      languages: null,
    });
    // The system installation: xa.extra-languages (language part only), plus the locale environment.
    expect(findInstallation({ installation: 'system', env }).languages).toEqual(['de', 'es', 'pt']);
    expect(() => findInstallation({ installation: 'nope', env })).toThrow(
      /no flatpak installation "nope" \(known: user, default, sdcard, low\)/,
    );
  });

  test('locale languages as GLib reads the environment: LANGUAGE first, then LC_ALL, LC_*, LANG', () => {
    expect(localeLanguages({ LANG: 'C.UTF-8' })).toEqual([]);
    expect(localeLanguages({ LANGUAGE: 'fr_CA:en', LANG: 'de_DE.UTF-8' })).toEqual(['en', 'fr']);
    expect(localeLanguages({ LC_ALL: 'sv_SE@euro', LC_MESSAGES: 'fi_FI' })).toEqual(['sv']);
  });
});

const ref = (name: string, metadata: string | null = null): RemoteRef => ({
  name,
  commit: 'a'.repeat(64),
  collectionId: null,
  timestamp: null,
  version: null,
  commitSize: 0,
  downloadSize: 10,
  installedSize: 20,
  eol: null,
  eolRebase: null,
  metadata,
});

describe('refs', () => {
  const refs = [
    ref('app/org.gnome.Maps/x86_64/stable'),
    ref('app/org.gnome.Maps/x86_64/beta'),
    ref('app/org.gnome.Maps/aarch64/stable'),
    ref('runtime/org.gnome.Maps/x86_64/stable'),
    ref('runtime/org.gnome.Platform/x86_64/46'),
    ref('runtime/org.gnome.Platform.Locale/x86_64/46'),
    ref('runtime/org.gnome.Platform.GL.default/x86_64/46'),
    ref('runtime/org.gnome.Platform.GL.nvidia/x86_64/46'),
    ref('runtime/org.gnome.Platform.Debug/x86_64/46'),
    ref('runtime/org.freedesktop.Platform.ffmpeg/x86_64/23.08'),
  ];

  test("flatpak's partial names", () => {
    expect(matchRef('org.gnome.Maps//stable', refs, 'x86_64', 'r').name).toBe('app/org.gnome.Maps/x86_64/stable');
    expect(matchRef('org.gnome.Maps/aarch64/stable', refs, 'x86_64', 'r').name).toBe('app/org.gnome.Maps/aarch64/stable');
    expect(matchRef('runtime/org.gnome.Maps//stable', refs, 'x86_64', 'r').name).toBe('runtime/org.gnome.Maps/x86_64/stable');
    expect(matchRef('org.gnome.Platform', refs, 'x86_64', 'r').name).toBe('runtime/org.gnome.Platform/x86_64/46');
    expect(() => matchRef('org.gnome.Maps', refs, 'x86_64', 'r')).toThrow(/ambiguous.*beta.*stable|ambiguous.*stable.*beta/);
    expect(() => matchRef('org.gnome.Nope', refs, 'x86_64', 'r')).toThrow(/nothing matches org.gnome.Nope/);
  });

  test('related refs: versions, subdirectories, no-autodownload, download-if, Debug, Locale subpaths', () => {
    const inst = findInstallation({ installation: 'user', env });
    const md = new Map([
      ['Runtime', new Map([['name', 'org.gnome.Platform']])],
      ['Extension org.gnome.Platform.Locale', new Map([['directory', 'share/runtime/locale']])],
      [
        'Extension org.gnome.Platform.GL',
        new Map([
          ['subdirectories', 'true'],
          ['versions', '46;45'],
        ]),
      ],
      ['Extension org.gnome.Platform.Debug', new Map([['directory', 'lib/debug']])],
      [
        'Extension org.freedesktop.Platform.ffmpeg',
        new Map([
          ['version', '23.08'],
          ['no-autodownload', 'true'],
        ]),
      ],
      ['Extension org.gnome.Platform.GL.nvidia@tag', new Map([['download-if', 'have-kernel-module-nvidia']])],
    ]);
    const related = relatedOf(inst, 'runtime/org.gnome.Platform/x86_64/46', md, refs).map((r) => [r.ref.name, r.subpaths]);
    expect(related).toEqual([
      ['runtime/org.gnome.Platform.Locale/x86_64/46', ['/de', '/fr']],
      ['runtime/org.gnome.Platform.GL.default/x86_64/46', null],
      ['runtime/org.gnome.Platform.GL.nvidia/x86_64/46', null],
    ]);
  });
});
