/** Validity of D-Bus object paths (`o`) and signatures (`g`), as GLib checks them. */
import { parseTypeAt } from './GVariantType.js';

export function isObjectPath(s: string): boolean {
  if (s === '/') return true;
  return /^(\/[A-Za-z0-9_]+)+$/.test(s);
}

/**
 * A signature is a (possibly empty) sequence of complete types without maybes. GLib sets no
 * length limit (D-Bus's 255 bytes is a D-Bus message rule, not a GVariant one).
 */
export function isSignature(s: string): boolean {
  let p = 0;
  try {
    while (p < s.length) {
      if (s[p] === 'm') return false; // D-Bus signatures have no maybe type
      p = parseTypeAt(s, p)[1];
    }
  } catch {
    return false;
  }
  return !s.includes('m');
}
