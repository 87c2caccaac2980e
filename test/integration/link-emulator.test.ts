/**
 * LinkEmulator: bytes pass through intact and counted, and the link never delivers faster than
 * its model allows (lower bounds only: a loaded machine can only make things slower; the
 * model's accuracy is measured by `node bench/linkProxy.mjs --self-check`).
 */
import { randomBytes } from 'node:crypto';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { LinkEmulator } from '../../packages/client/src/testing/index.js';

let echo: Server;
let echoPort: number;
beforeAll(async () => {
  echo = createServer((s) => s.pipe(s));
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', () => r()));
  echoPort = (echo.address() as { port: number }).port;
});
afterAll(() => new Promise<void>((r) => echo.close(() => r())));

const open = (port: number) =>
  new Promise<Socket>((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port }, () => resolve(s));
    s.once('error', reject);
  });

/** Sends `data` and resolves with what came back once as many bytes arrived, and the ms it took. */
function roundTrip(s: Socket, data: Buffer): Promise<{ back: Buffer; ms: number }> {
  return new Promise((resolve) => {
    const t = performance.now();
    const chunks: Buffer[] = [];
    let n = 0;
    const on = (c: Buffer) => {
      chunks.push(c);
      n += c.length;
      if (n >= data.length) {
        s.off('data', on);
        resolve({ back: Buffer.concat(chunks), ms: performance.now() - t });
      }
    };
    s.on('data', on);
    s.write(data);
  });
}

test('bytes arrive intact and in order, counted per direction; RTT and bandwidth are lower bounds', async () => {
  const rttMs = 40;
  const mbit = 20;
  const link = await LinkEmulator.start({ upstreamPort: echoPort, rttMs, mbit });
  try {
    expect(link.url).toBe(`http://127.0.0.1:${link.port}/`);
    // Timed from before the connect: the emulated handshake starts when the proxy accepts, and a
    // busy test process may run the first write some ms after that.
    const t0 = performance.now();
    const s = await open(link.port);
    const first = await roundTrip(s, Buffer.from('hello'));
    const firstMs = performance.now() - t0;
    expect(first.back.toString()).toBe('hello');
    // Connection setup + one round trip (timers may fire ~1 ms early by design).
    expect(firstMs).toBeGreaterThanOrEqual(2 * rttMs - 2);
    const again = await roundTrip(s, Buffer.from('again'));
    expect(again.ms).toBeGreaterThanOrEqual(rttMs - 2);
    const big = randomBytes(256 * 1024);
    const echoed = await roundTrip(s, big);
    expect(echoed.back.equals(big)).toBe(true);
    // Up and down each serialize 256 KiB at 20 Mbit/s (pipelined: at least one direction's time).
    expect(echoed.ms).toBeGreaterThanOrEqual((big.length * 8) / (mbit * 1000) + rttMs - 2);
    s.destroy();
    expect(link.stats()).toEqual({ connections: 1, upBytes: 10 + big.length, downBytes: 10 + big.length });
    link.reset();
    expect(link.stats()).toEqual({ connections: 0, upBytes: 0, downBytes: 0 });
  } finally {
    await link.close();
  }
});

test('bad options are refused', async () => {
  await expect(LinkEmulator.start({ upstreamPort: 0 })).rejects.toThrow(/upstreamPort/);
  await expect(LinkEmulator.start({ upstreamPort: echoPort, mbit: 0 })).rejects.toThrow(/mbit/);
  await expect(LinkEmulator.start({ upstreamPort: echoPort, rttMs: -1 })).rejects.toThrow(/rttMs/);
});
