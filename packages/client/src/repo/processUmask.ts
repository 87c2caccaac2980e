/**
 * The process's file mode creation mask, read race-free from `/proc/self/status` (Linux 4.7+):
 * `process.umask()` without an argument sets the mask to 0 and back, and a file another thread
 * creates meanwhile would not get the mask. Null where it cannot be read: callers then set
 * permission bits explicitly.
 */
import { readFileSync } from 'node:fs';

export function processUmask(): number | null {
  try {
    const m = /^Umask:\s*([0-7]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    return m === null ? null : Number.parseInt(m[1] as string, 8);
  } catch {
    return null;
  }
}
