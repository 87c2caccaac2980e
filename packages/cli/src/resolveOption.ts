import { UsageError } from './UsageError.js';

/** `HOST:PORT:ADDR[,ADDR…]` (curl's --resolve; an IPv6 ADDR may be bracketed) → host → addresses. */
export function parseResolve(values: readonly string[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const v of values) {
    const m = /^([^:\s]+):(\d+|\*)?:(.+)$/.exec(v);
    if (m === null) throw new UsageError(`--resolve must be HOST:PORT:ADDRESS[,ADDRESS…] (as curl's), got "${v}"`);
    const host = (m[1] as string).toLowerCase();
    const addresses = (m[3] as string).split(',').map((a) => a.trim().replace(/^\[(.*)\]$/, '$1'));
    for (const a of addresses) if (!/^[0-9.]+$/.test(a) && !a.includes(':')) throw new UsageError(`--resolve: "${a}" is not an IP address`);
    out[host] = [...(out[host] ?? []), ...addresses];
  }
  return out;
}
