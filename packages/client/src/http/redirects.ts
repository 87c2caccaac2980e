/**
 * The one redirect policy, for pulls (HttpClient) and mirror checks (MirrorSession) alike: which
 * answers are redirects, how many hops a request follows, and which hops are refused. A mirror
 * check therefore judges a mirror's redirects exactly as a pull through it would take them.
 */

/** Answers followed as redirects when they carry a Location; other 3xx answers are final. */
export const REDIRECT_STATUSES: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);

/** Hops one request follows at most (HttpClient's `maxRedirects` default). */
export const MAX_REDIRECTS = 10;

export interface RedirectPolicy {
  /** Hops allowed per request. @default MAX_REDIRECTS */
  maxRedirects?: number;
  /** Targets allowed besides the policy's own rules (the exporter's allow-list); null: any. */
  allowUrl?: ((url: string) => boolean) | null;
}

/**
 * The URL a redirect from `from` to `location` leads to, or the reason it is refused: not a
 * valid URL, not http(s), a downgrade from https to http, a loop (back to a URL in `visited`,
 * the URLs of this request so far, which it extends), more than `maxRedirects` hops, or a
 * target `allowUrl` refuses.
 */
export function followRedirect(
  from: URL,
  location: string,
  visited: Set<string>,
  { maxRedirects = MAX_REDIRECTS, allowUrl = null }: RedirectPolicy = {},
): URL | { refused: string } {
  let to: URL;
  try {
    to = new URL(location, from);
  } catch {
    return { refused: 'not a valid URL' };
  }
  if (to.protocol !== 'http:' && to.protocol !== 'https:') return { refused: `${to.protocol} is not http or https` };
  if (from.protocol === 'https:' && to.protocol === 'http:') return { refused: 'downgrade from https to http' };
  if (visited.has(to.href)) return { refused: 'redirect loop' };
  if (visited.size > maxRedirects) return { refused: `more than ${maxRedirects} redirects` };
  if (allowUrl !== null && !allowUrl(to.href)) return { refused: 'not an allowed URL' };
  visited.add(to.href);
  return to;
}
