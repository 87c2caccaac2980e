/**
 * Flatpak installations as flatpak itself finds them, read from their own files:
 *
 * - `user`: `$FLATPAK_USER_DIR`, else `$XDG_DATA_HOME/flatpak` (`~/.local/share/flatpak`);
 * - `default` (the system installation): `$FLATPAK_SYSTEM_DIR`, else `/var/lib/flatpak`;
 * - named ones: `[Installation "ID"]` groups of `$FLATPAK_CONFIG_DIR/installations.d/*.conf`
 *   (`/etc/flatpak/installations.d`) with `Path`, `DisplayName`, `StorageType`, `Priority`.
 *
 * Each installation's remotes are the `[remote "NAME"]` sections of its `repo/config`: `url`,
 * `gpg-verify` and `gpg-verify-summary` (both true unless set false), `collection-id`,
 * `xa.filter`, `xa.disable`; trusted keys are `repo/NAME.trustedkeys.gpg`. Its languages
 * (what `.Locale` extensions are pulled for) are flatpak's: `core.xa.languages` when set
 * (an empty list: every language), else `core.xa.extra-languages` plus the languages of the
 * locale environment (LANGUAGE, LC_ALL, LC_*, LANG).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { FlathubFetchError } from '../errors/FlathubFetchError.js';
import { ErrorCodes } from '../errors/codes.js';
import { type KeyFile, keyFileGet, parseKeyFile } from '../formats/KeyFile.js';
import { invalidArgument } from '../errors/invalidArgument.js';

export interface InstallationRemote {
  name: string;
  url: string;
  /** Commits must carry a good signature from a trusted key (`gpg-verify`). */
  gpgVerify: boolean;
  /** The summary must carry a good signature (`gpg-verify-summary`). */
  gpgVerifySummary: boolean;
  collectionId: string | null;
  /** `xa.filter`: a file of allow/deny ref patterns, or null. */
  filter: string | null;
  /** `xa.disable=true`: flatpak ignores the remote. */
  disabled: boolean;
  /** `repo/NAME.trustedkeys.gpg` when it exists. */
  trustedKeys: string | null;
}

export interface Installation {
  /** `user`, `default` (system) or the ID of a named installation. */
  id: string;
  isUser: boolean;
  displayName: string;
  /** The installation directory (it holds `repo/`, `app/`, `runtime/`). */
  path: string;
  repoPath: string;
  storageType: string | null;
  priority: number;
  remotes: InstallationRemote[];
  /**
   * Languages `.Locale` extensions are pulled for (sorted, language codes such as `de`), or
   * null for all of them (`xa.languages` set empty, or no language configured or in the
   * environment: flatpak then pulls the whole extension).
   */
  languages: string[] | null;
}

export interface InstallationSelector {
  /** `user`, `system` (alias `default`) or a named installation's ID. @default 'user' unless running as root, then 'system' */
  installation?: string;
  /** Environment to read FLATPAK_* / XDG / locale variables from. @default process.env */
  env?: NodeJS.ProcessEnv;
}

function env(o: InstallationSelector): NodeJS.ProcessEnv {
  return o.env ?? process.env;
}

export function userInstallationPath(e: NodeJS.ProcessEnv = process.env): string {
  if (e.FLATPAK_USER_DIR) return e.FLATPAK_USER_DIR;
  return join(e.XDG_DATA_HOME || join(e.HOME || homedir(), '.local', 'share'), 'flatpak');
}

export function systemInstallationPath(e: NodeJS.ProcessEnv = process.env): string {
  return e.FLATPAK_SYSTEM_DIR || '/var/lib/flatpak';
}

/** Every installation flatpak knows of: user, the default system one, then the configured ones by priority. */
export function listInstallations(o: InstallationSelector = {}): Installation[] {
  const e = env(o);
  const out = [
    readInstallation('user', true, 'User installation', userInstallationPath(e), null, 0, e),
    readInstallation('default', false, 'Default system installation', systemInstallationPath(e), null, 0, e),
  ];
  const confDir = join(e.FLATPAK_CONFIG_DIR || '/etc/flatpak', 'installations.d');
  let files: string[] = [];
  try {
    files = readdirSync(confDir)
      .filter((f) => f.endsWith('.conf'))
      .sort();
  } catch {
    // No installations.d: only the user and system installations.
  }
  const named: Installation[] = [];
  for (const f of files) {
    const file = join(confDir, f);
    const kf = parseKeyFile(readFileSync(file, 'utf8'), file);
    for (const [group, keys] of kf) {
      const m = /^Installation "([^"]+)"$/.exec(group);
      if (m === null) continue;
      const id = m[1] as string;
      const path = keys.get('Path');
      if (path === undefined) throw invalidArgument('installation', id, `${file}: [${group}] has no Path`);
      if (named.some((n) => n.id === id)) continue; // flatpak ignores duplicates
      named.push(
        readInstallation(
          id,
          false,
          keys.get('DisplayName') ?? id,
          path,
          keys.get('StorageType') ?? null,
          Number(keys.get('Priority') ?? 0),
          e,
        ),
      );
    }
  }
  named.sort((a, b) => b.priority - a.priority);
  return [...out, ...named];
}

/** The installation `--user` / `--system` / `--installation=NAME` names. ERR_NOT_FOUND for an unknown name. */
export function findInstallation(o: InstallationSelector = {}): Installation {
  const wanted = o.installation ?? (process.getuid?.() === 0 ? 'default' : 'user');
  const id = wanted === 'system' ? 'default' : wanted;
  const all = listInstallations(o);
  const found = all.find((i) => i.id === id);
  if (found === undefined) {
    throw new FlathubFetchError(ErrorCodes.NOT_FOUND, `no flatpak installation "${wanted}" (known: ${all.map((i) => i.id).join(', ')})`, {
      what: 'installation',
      installation: wanted,
    });
  }
  return found;
}

/** A remote of the installation; ERR_NOT_FOUND (listing the configured ones) when missing or disabled. */
export function installationRemote(inst: Installation, name: string): InstallationRemote {
  const r = inst.remotes.find((x) => x.name === name && !x.disabled);
  if (r === undefined) {
    throw new FlathubFetchError(
      ErrorCodes.NOT_FOUND,
      `remote "${name}" is not configured in the ${inst.id} installation (${inst.path}); configured: ${
        inst.remotes.map((x) => x.name).join(', ') || 'none'
      }`,
      { what: 'remote', remote: name, path: inst.path },
    );
  }
  return r;
}

function readInstallation(
  id: string,
  isUser: boolean,
  displayName: string,
  path: string,
  storageType: string | null,
  priority: number,
  e: NodeJS.ProcessEnv,
): Installation {
  const repoPath = join(path, 'repo');
  let config: KeyFile = new Map();
  const configFile = join(repoPath, 'config');
  if (existsSync(configFile)) config = parseKeyFile(readFileSync(configFile, 'utf8'), configFile);
  const remotes: InstallationRemote[] = [];
  for (const [group, keys] of config) {
    const m = /^remote "(.+)"$/.exec(group);
    if (m === null) continue;
    const name = m[1] as string;
    const url = keys.get('url');
    if (url === undefined) continue;
    const keyring = join(repoPath, `${name}.trustedkeys.gpg`);
    remotes.push({
      name,
      url: url.endsWith('/') ? url : `${url}/`,
      gpgVerify: bool(keys.get('gpg-verify'), true),
      gpgVerifySummary: bool(keys.get('gpg-verify-summary'), true),
      collectionId: keys.get('collection-id') || null,
      filter: keys.get('xa.filter') || null,
      disabled: bool(keys.get('xa.disable'), false),
      trustedKeys: existsSync(keyring) && statSync(keyring).size > 0 ? keyring : null,
    });
  }
  return { id, isUser, displayName, path, repoPath, storageType, priority, remotes, languages: languagesOf(config, e) };
}

function bool(v: string | undefined, d: boolean): boolean {
  if (v === undefined) return d;
  return v === 'true' || v === '1' || v === 'yes';
}

/** GLib string lists: `a;b;` (a trailing separator is allowed). */
function stringList(v: string): string[] {
  return v
    .split(';')
    .map((x) => x.trim())
    .filter((x) => x !== '');
}

function languagesOf(config: KeyFile, e: NodeJS.ProcessEnv): string[] | null {
  const configured = keyFileGet(config, 'core', 'xa.languages');
  if (configured !== undefined) {
    const list = stringList(configured).map((l) => l.replace(/^\//, ''));
    return list.length === 0 ? null : [...new Set(list)].sort();
  }
  const langs = new Set(
    stringList(keyFileGet(config, 'core', 'xa.extra-languages') ?? '')
      .map(languageOf)
      .filter(isLang),
  );
  // flatpak adds the session's locale languages for user installations (and AccountsService's,
  // over D-Bus, which this library does not ask); for system ones localed's, for which the
  // environment stands in here.
  for (const l of localeLanguages(e)) langs.add(l);
  return langs.size === 0 ? null : [...langs].sort();
}

const CATEGORIES = [
  'LC_MESSAGES',
  'LC_ADDRESS',
  'LC_COLLATE',
  'LC_CTYPE',
  'LC_IDENTIFICATION',
  'LC_MONETARY',
  'LC_MEASUREMENT',
  'LC_NAME',
  'LC_NUMERIC',
  'LC_PAPER',
  'LC_TELEPHONE',
  'LC_TIME',
];

/** The languages of the locale environment, as GLib's g_get_language_names_with_category() reads it per category. */
export function localeLanguages(e: NodeJS.ProcessEnv = process.env): string[] {
  const out = new Set<string>();
  for (const cat of CATEGORIES) {
    // The first variable set wins (LANGUAGE is a `:` list).
    const value = e.LANGUAGE || e.LC_ALL || e[cat] || e.LANG || '';
    for (const n of value.split(':')) {
      const l = languageOf(n);
      if (isLang(l)) out.add(l);
    }
  }
  return [...out].sort();
}

function languageOf(locale: string): string {
  return locale.split(/[_.@]/)[0] ?? '';
}

function isLang(l: string): boolean {
  return l !== '' && l !== 'C' && l !== 'POSIX';
}
