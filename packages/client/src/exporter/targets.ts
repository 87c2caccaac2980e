/**
 * Which URLs a probe may touch. A configuration lists URL prefixes per module; a target (and,
 * during a probe, every request and redirect) must parse as an http(s) URL without credentials
 * and start with one of them once both are normalised (WHATWG URL: lower-case host, default
 * port dropped, dot segments resolved). A prefix always ends at a path segment boundary, so
 * `https://a.example/repo/` allows neither `https://a.example/repository/` nor
 * `https://a.example.evil/`. Encoded slashes, backslashes and dots are refused outright (a server
 * may decode them into a path outside the prefix). `*` allows any http(s) URL.
 */
import { invalidArgument } from '../errors/invalidArgument.js';

export const ANY_TARGET = '*';

/** A configured prefix, normalised; throws ERR_INVALID_ARGUMENT naming `argument`. */
export function normalisePrefix(value: unknown, argument: string): string {
  if (value === ANY_TARGET) return ANY_TARGET;
  if (typeof value !== 'string') throw invalidArgument(argument, value, 'expected an http(s) URL prefix or "*"');
  const reason = targetProblem(value);
  if (reason !== null) throw invalidArgument(argument, value, reason);
  const u = new URL(value);
  if (u.search !== '' || u.hash !== '') throw invalidArgument(argument, value, 'a prefix has no query or fragment');
  if (!u.pathname.endsWith('/')) u.pathname += '/';
  return u.href;
}

/** Why `value` is not an acceptable target URL, or null. */
export function targetProblem(value: string): string | null {
  if (value.length > 2048) return 'longer than 2048 characters';
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    return 'not a URL';
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return `${u.protocol} is not http or https`;
  if (u.username !== '' || u.password !== '') return 'credentials in the URL';
  if (u.hash !== '') return 'a fragment';
  // Checked on the text as given: the URL parser would already have resolved an encoded dot segment.
  if (/%(2f|5c|2e)/i.test(value.split('?')[0] as string) || value.includes('\\')) return 'an encoded slash, backslash or dot in the path';
  return null;
}

/** The normalised target if it is acceptable and under one of `prefixes`, else null. */
export function allowedTarget(value: string, prefixes: readonly string[]): string | null {
  if (targetProblem(value) !== null) return null;
  const href = new URL(value).href;
  return prefixes.some((p) => p === ANY_TARGET || href.startsWith(p) || `${href}/` === p) ? href : null;
}
