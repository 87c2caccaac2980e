/**
 * The host's addresses and how they were found: A and AAAA asked of the system's DNS servers
 * (each timed), and getaddrinfo (hosts file, NSS), whose order is the one applications use.
 */
import { promises as dns } from 'node:dns';
import { isIP } from 'node:net';
import type { ResolvedDoctorOptions } from './DoctorOptions.js';
import type { AddressFamily, DnsAnswer } from './DoctorResult.js';

export interface HostAddresses {
  answers: DnsAnswer[];
  /** Every address, in the order a client would try them. */
  addresses: string[];
}

export async function resolveHost(o: ResolvedDoctorOptions): Promise<HostAddresses> {
  const literal = isIP(o.host);
  if (literal !== 0) {
    return {
      answers: [{ family: literal as AddressFamily, source: 'literal', addresses: [o.host], ms: null, error: null }],
      addresses: [o.host],
    };
  }
  const override = o.resolve.get(o.host.toLowerCase());
  if (override !== undefined) {
    const answers = ([4, 6] as const)
      .map((family) => ({
        family,
        source: 'override' as const,
        addresses: override.filter((a) => isIP(a) === family),
        ms: null,
        error: null,
      }))
      .filter((a) => a.addresses.length > 0);
    return { answers, addresses: override };
  }
  const resolver = new dns.Resolver({ timeout: Math.max(1, Math.min(o.timeouts.connect, 5000)), tries: 2 });
  const timed = async (family: AddressFamily, source: 'dns' | 'system', ask: () => Promise<string[]>): Promise<DnsAnswer> => {
    const t = performance.now();
    try {
      const addresses = await ask();
      return { family, source, addresses, ms: round(performance.now() - t), error: null };
    } catch (err) {
      return {
        family,
        source,
        addresses: [],
        ms: round(performance.now() - t),
        error: (err as { code?: string }).code ?? (err as Error).message,
      };
    }
  };
  const system = async (family: AddressFamily) =>
    timed(family, 'system', async () => (await dns.lookup(o.host, { all: true, family })).map((a) => a.address));
  const [a, aaaa, sys4, sys6] = await Promise.all([
    timed(4, 'dns', () => resolver.resolve4(o.host)),
    timed(6, 'dns', () => resolver.resolve6(o.host)),
    system(4),
    system(6),
  ]);
  let ordered: string[] = [];
  try {
    ordered = (await dns.lookup(o.host, { all: true })).map((x) => x.address);
  } catch {
    // No answer from the system resolver: fall back to what DNS said.
  }
  const all = [...ordered];
  for (const x of [...aaaa.addresses, ...a.addresses, ...sys6.addresses, ...sys4.addresses]) if (!all.includes(x)) all.push(x);
  // getaddrinfo answers from the hosts file too: report it only when DNS did not give the same.
  const answers = [a, aaaa];
  for (const s of [sys4, sys6]) {
    const dnsSame = (s.family === 4 ? a : aaaa).addresses;
    if (s.addresses.length > 0 && s.addresses.some((x) => !dnsSame.includes(x))) answers.push(s);
  }
  return { answers, addresses: all };
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
