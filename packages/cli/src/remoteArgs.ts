/** Splitting `[REMOTE] REST…` positionals: the first is a remote when it looks like one. */
import { looksLikeRemote, refGlob } from '@flathub-fetch/client';

export function splitRemote(positionals: string[], restCount: number): { remote: string | undefined; rest: string[] } {
  if (positionals.length > restCount) return { remote: positionals[0], rest: positionals.slice(1) };
  if (positionals.length > 0 && looksLikeRemote(positionals[0] as string)) return { remote: positionals[0], rest: positionals.slice(1) };
  return { remote: undefined, rest: positionals };
}

/** Shell-style glob (`*`, `?`) to a RegExp matching a whole ref (the library's, as `mirrors check --refs` uses it). */
export function globToRegExp(glob: string): RegExp {
  return refGlob(glob);
}
