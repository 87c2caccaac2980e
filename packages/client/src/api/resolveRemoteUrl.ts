/**
 * What a user may type for a remote: a URL (http, https, file), a path to a repository
 * directory, a `.flatpakrepo` file (its `Url`, and `GPGKey` when present), or the name of a
 * remote configured for flatpak (system `/var/lib/flatpak/repo/config`, then the user's
 * `~/.local/share/flatpak/repo/config`). Flathub when nothing is given.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { keyFileGet, parseKeyFile } from '../formats/KeyFile.js';
import { invalidArgument } from '../errors/invalidArgument.js';

export const FLATHUB_URL = 'https://dl.flathub.org/repo/';

export interface ResolvedRemote {
  url: string;
  /** Base64 OpenPGP key from a .flatpakrepo, when present. */
  gpgKey: string | null;
  /** How the argument was understood. */
  kind: 'default' | 'url' | 'directory' | 'flatpakrepo' | 'configured';
  name: string | null;
}

export interface ResolveRemoteOptions {
  /** Installation config files searched for named remotes. @default system and user installations */
  configFiles?: string[];
}

export function defaultFlatpakConfigFiles(): string[] {
  const files = ['/var/lib/flatpak/repo/config'];
  const dataHome = process.env.XDG_DATA_HOME ?? join(homedir(), '.local', 'share');
  files.push(join(dataHome, 'flatpak', 'repo', 'config'));
  return files;
}

/** True when the argument names a remote rather than something else (a ref glob). */
export function looksLikeRemote(arg: string, options: ResolveRemoteOptions = {}): boolean {
  if (/^(https?|file):\/\//i.test(arg)) return true;
  if (arg.endsWith('.flatpakrepo') || arg.startsWith('/') || arg.startsWith('.')) return true;
  return configuredRemote(arg, options.configFiles ?? defaultFlatpakConfigFiles()) !== null;
}

export function resolveRemoteUrl(arg: string | undefined, options: ResolveRemoteOptions = {}): ResolvedRemote {
  if (arg === undefined || arg === '') return { url: FLATHUB_URL, gpgKey: null, kind: 'default', name: 'flathub' };
  if (/^(https?|file):\/\//i.test(arg)) return { url: withSlash(arg), gpgKey: null, kind: 'url', name: null };
  if (arg.endsWith('.flatpakrepo')) {
    let text: string;
    try {
      text = readFileSync(arg, 'utf8');
    } catch (err) {
      throw invalidArgument(
        'remote',
        arg,
        `cannot read .flatpakrepo file: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      );
    }
    const kf = parseKeyFile(text, arg);
    const url = keyFileGet(kf, 'Flatpak Repo', 'Url');
    if (url === undefined) throw invalidArgument('remote', arg, 'no Url= in [Flatpak Repo]');
    return { url: withSlash(url), gpgKey: keyFileGet(kf, 'Flatpak Repo', 'GPGKey') ?? null, kind: 'flatpakrepo', name: null };
  }
  if (existsSync(arg) && statSync(arg).isDirectory()) {
    return { url: pathToFileURL(`${resolve(arg)}/`).href, gpgKey: null, kind: 'directory', name: null };
  }
  const url = configuredRemote(arg, options.configFiles ?? defaultFlatpakConfigFiles());
  if (url !== null) return { url: withSlash(url), gpgKey: null, kind: 'configured', name: arg };
  throw invalidArgument('remote', arg, 'not a URL, a repository directory, a .flatpakrepo file or a configured flatpak remote');
}

function configuredRemote(name: string, files: readonly string[]): string | null {
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    try {
      const url = keyFileGet(parseKeyFile(text, file), `remote "${name}"`, 'url');
      if (url !== undefined) return url;
    } catch {
      // An unreadable installation config is not this argument's problem.
    }
  }
  return null;
}

function withSlash(url: string): string {
  return url.endsWith('/') ? url : `${url}/`;
}
