import type { ParsedArgs } from './Command.js';
import { UsageError } from './UsageError.js';

/** The integer value of `--name` (undefined when absent); a usage error below `min` or when not an integer. */
export function integerOption(args: ParsedArgs, name: string, min: number): number | undefined {
  const raw = args.values[name];
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) {
    throw new UsageError(`--${name} must be ${min === 1 ? 'a positive integer' : `an integer >= ${min}`}, got "${String(raw)}"`);
  }
  return n;
}
