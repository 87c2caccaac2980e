/**
 * GLib key files (`[group]` / `key=value`, `#` comments): OSTree repo `config`, `.flatpakrepo`
 * and `.flatpakref` files, flatpak installations' `repo/config`. Values are unescaped for
 * `\s \n \t \r \\`; localised keys (`Title[de]`) are kept under their full name.
 */
import { formatError } from './formatError.js';

export type KeyFile = Map<string, Map<string, string>>;

export function parseKeyFile(text: string, what = 'key file'): KeyFile {
  const out: KeyFile = new Map();
  let group: Map<string, string> | null = null;
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] as string).trim();
    if (line === '' || line.startsWith('#')) continue;
    if (line.startsWith('[')) {
      if (!line.endsWith(']')) throw formatError(what, `line ${i + 1}: unterminated group header`);
      const name = line.slice(1, -1);
      group = out.get(name) ?? new Map();
      out.set(name, group);
      continue;
    }
    const eq = line.indexOf('=');
    if (eq <= 0) throw formatError(what, `line ${i + 1}: expected key=value`);
    if (group === null) throw formatError(what, `line ${i + 1}: key outside a group`);
    group.set(line.slice(0, eq).trim(), unescapeValue(line.slice(eq + 1).trim()));
  }
  return out;
}

function unescapeValue(v: string): string {
  return v.replace(/\\([sntr\\])/g, (_, c: string) => ({ s: ' ', n: '\n', t: '\t', r: '\r', '\\': '\\' })[c] as string);
}

export function keyFileGet(kf: KeyFile, group: string, key: string): string | undefined {
  return kf.get(group)?.get(key);
}

export function keyFileBool(kf: KeyFile, group: string, key: string): boolean | undefined {
  const v = keyFileGet(kf, group, key);
  if (v === undefined) return undefined;
  return v === 'true' || v === '1';
}
