import { isIP, type LookupFunction } from 'node:net';

/**
 * A `lookup` for socket options that answers every name with one address: connections go to
 * that address while the URL, SNI and certificate check keep the host name (curl's --resolve).
 */
export function pinnedLookup(address: string): LookupFunction {
  const family = isIP(address);
  return ((_host: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
    if (options?.all === true) callback(null, [{ address, family }]);
    else callback(null, address, family);
  }) as unknown as LookupFunction;
}
