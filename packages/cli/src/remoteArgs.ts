/** Splitting `[REMOTE] REST…` positionals: the first is a remote when it looks like one. */
import { loadClient } from './client.js';

export async function splitRemote(positionals: string[], restCount: number): Promise<{ remote: string | undefined; rest: string[] }> {
  const { looksLikeRemote } = await loadClient();
  if (positionals.length > restCount) return { remote: positionals[0], rest: positionals.slice(1) };
  if (positionals.length > 0 && looksLikeRemote(positionals[0] as string)) return { remote: positionals[0], rest: positionals.slice(1) };
  return { remote: undefined, rest: positionals };
}
