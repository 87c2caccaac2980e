/**
 * One port on both loopback families, each behind its own LinkEmulator: `localhost:PORT`
 * reaches the same upstream over 127.0.0.1 and over ::1 with a different round-trip time, the
 * way a host whose IPv6 route is worse than its IPv4 one looks to a client.
 */
import { LinkEmulator } from '../../packages/client/src/testing/index.js';

export interface DualStackLink {
  port: number;
  v4: LinkEmulator;
  v6: LinkEmulator;
  close(): Promise<void>;
}

export async function startDualStackLink(upstreamPort: number, rtt: { v4: number; v6: number }, mbit = 200): Promise<DualStackLink> {
  for (let attempt = 0; ; attempt++) {
    const v4 = await LinkEmulator.start({ upstreamPort, rttMs: rtt.v4, mbit });
    try {
      const v6 = await LinkEmulator.start({ upstreamPort, rttMs: rtt.v6, mbit, host: '::1', port: v4.port });
      return { port: v4.port, v4, v6, close: async () => void (await Promise.all([v4.close(), v6.close()])) };
    } catch (err) {
      await v4.close();
      // The port the IPv4 side got may be taken on ::1: try another.
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt >= 5) throw err;
    }
  }
}
