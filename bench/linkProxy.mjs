#!/usr/bin/env node
// A TCP proxy on 127.0.0.1 that emulates a network link between a client and an upstream
// server (for the pull benchmark: loopback only, no netem).
//
//   node bench/linkProxy.mjs --upstream 127.0.0.1:PORT [--port 0] [--rtt 20] [--mbit 400]
//       listens, prints one JSON line {"port":…,"rttMs":…,"mbit":…} on stdout, then serves until
//       stdin closes or SIGTERM. A line "stats" on stdin prints the byte/connection counters as
//       one JSON line; "reset" zeroes them.
//   node bench/linkProxy.mjs --self-check [--rtt 20] [--mbit 400] [--mb 50]
//       starts a proxy (child process) in front of a tiny TCP server and checks the model:
//       connection + small request ≈ 2 RTT, small request on an open connection ≈ 1 RTT, a 50
//       MB transfer ≈ size / bandwidth (+ 1 RTT), 4 parallel transfers share the bandwidth.
//
// The link model (RTT, shared bandwidth, connection setup, flow control) is the library's
// `LinkEmulator` (packages/client/src/testing/LinkEmulator.ts, exported from
// `@flathub-fetch/client/testing`, documented there); this file runs it in its own process and
// checks it. Needs the built library (`npm run build`).
import { spawn } from 'node:child_process';
import { createServer, connect as netConnect } from 'node:net';
import { setPriority } from 'node:os';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { LinkEmulator } from '../packages/client/dist/testing/index.js';

/**
 * Starts the proxy in this process. Returns { port, close(), stats(), reset() }. Note that a
 * busy event loop in the same process delays deliveries: benchmarks run it as its own process
 * (the CLI below).
 */
export async function startLinkProxy({ upstreamHost = '127.0.0.1', upstreamPort, port = 0, rttMs = 20, mbit = 400 }) {
  const link = await LinkEmulator.start({ upstreamHost, upstreamPort, port, rttMs, mbit });
  return { port: link.port, stats: () => link.stats(), reset: () => link.reset(), close: () => link.close() };
}

/**
 * Starts the proxy as a child process (its own event loop, so a busy or blocked parent does not
 * distort the link), optionally with a raised priority (`nice` < 0, root only). Returns
 * { port, url, pid, stats(), reset(), close() }.
 */
export async function spawnLinkProxy({ upstreamPort, rttMs = 20, mbit = 400, nice = 0 }) {
  const child = spawn(
    process.execPath,
    [fileURLToPath(import.meta.url), '--upstream', `127.0.0.1:${upstreamPort}`, '--rtt', String(rttMs), '--mbit', String(mbit)],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  if (nice !== 0) {
    // The link should not slow down when the client under test saturates the CPUs (needs root).
    try {
      setPriority(child.pid, nice);
    } catch {}
  }
  const lines = createInterface({ input: child.stdout });
  const waiting = [];
  lines.on('line', (l) => waiting.shift()?.(JSON.parse(l)));
  const next = () => new Promise((resolve) => waiting.push(resolve));
  const first = await Promise.race([
    next(),
    new Promise((_, reject) => child.once('exit', (c) => reject(new Error(`link proxy exited with ${c}`)))),
  ]);
  return {
    port: first.port,
    url: `http://127.0.0.1:${first.port}/`,
    pid: child.pid,
    stats: () => {
      const p = next();
      child.stdin.write('stats\n');
      return p;
    },
    reset: () => child.stdin.write('reset\n'),
    close: async () => {
      if (child.exitCode !== null) return;
      const done = new Promise((r) => child.once('exit', r));
      child.stdin.end();
      await done;
    },
  };
}

// ---- self-check -----------------------------------------------------------------------------

/** A tiny server: each line "N\n" is answered with N bytes. */
async function sizeServer() {
  const payload = Buffer.alloc(64 * 1024 * 1024, 0x61);
  const server = createServer({ noDelay: true }, (s) => {
    let buf = '';
    s.on('data', (d) => {
      buf += d.toString('latin1');
      let i = buf.indexOf('\n');
      while (i !== -1) {
        let n = Number(buf.slice(0, i));
        buf = buf.slice(i + 1);
        while (n > 0) {
          const k = Math.min(n, payload.length);
          s.write(payload.subarray(0, k));
          n -= k;
        }
        i = buf.indexOf('\n');
      }
    });
    s.on('error', () => {});
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { port: server.address().port, close: () => new Promise((r) => server.close(r)) };
}

function openConn(port) {
  return new Promise((resolve, reject) => {
    const s = netConnect({ host: '127.0.0.1', port, noDelay: true }, () => resolve(s));
    s.once('error', reject);
  });
}

/** Sends "N\n" and resolves with the ms until N bytes came back. */
function ask(sock, n) {
  return new Promise((resolve) => {
    const t = performance.now();
    let got = 0;
    const on = (d) => {
      got += d.length;
      if (got >= n) {
        sock.off('data', on);
        resolve(performance.now() - t);
      }
    };
    sock.on('data', on);
    sock.write(`${n}\n`);
  });
}

const median = (a) => {
  const s = [...a].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/**
 * Measures the emulated link through a proxy child process. Returns rows
 * { what, expectedMs, measuredMs, ok } and the link parameters.
 */
export async function selfCheck({ rttMs = 20, mbit = 400, mb = 50, quick = false } = {}) {
  const server = await sizeServer();
  const proxy = await spawnLinkProxy({ upstreamPort: server.port, rttMs, mbit, nice: -10 });
  const bytesPerMs = (mbit * 1e6) / 8 / 1000;
  const rows = [];
  const check = (what, expectedMs, measuredMs, tolerance) => {
    rows.push({ what, expectedMs, measuredMs, ok: Math.abs(measuredMs - expectedMs) <= tolerance });
  };
  try {
    // New connection + a 100-byte response: handshake RTT + request RTT.
    const setups = [];
    for (let i = 0; i < (quick ? 3 : 5); i++) {
      const t = performance.now();
      const s = await openConn(proxy.port);
      await ask(s, 100);
      setups.push(performance.now() - t);
      s.destroy();
    }
    check('new connection + 100 B request/response (2 RTT)', 2 * rttMs, median(setups), 0.1 * rttMs + 3);
    const s = await openConn(proxy.port);
    await ask(s, 100);
    const small = [];
    for (let i = 0; i < (quick ? 7 : 15); i++) small.push(await ask(s, 100));
    check('100 B request/response on an open connection (1 RTT)', rttMs, median(small), 0.1 * rttMs + 2);
    const big = mb * 1e6;
    const bigMs = await ask(s, big);
    check(`${mb} MB on one connection (RTT + size/bandwidth)`, rttMs + big / bytesPerMs, bigMs, 0.05 * (big / bytesPerMs) + 5);
    if (!quick) {
      const conns = await Promise.all([0, 1, 2, 3].map(() => openConn(proxy.port)));
      for (const c of conns) await ask(c, 10);
      const t = performance.now();
      await Promise.all(conns.map((c) => ask(c, big / 4)));
      check(
        `4 × ${mb / 4} MB in parallel (bandwidth shared)`,
        rttMs + big / bytesPerMs,
        performance.now() - t,
        0.05 * (big / bytesPerMs) + 5,
      );
      for (const c of conns) c.destroy();
    }
    s.destroy();
  } finally {
    await proxy.close();
    await server.close();
  }
  return { rttMs, mbit, rows };
}

// ---- CLI -------------------------------------------------------------------------------------

function arg(name, dflt) {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? dflt : process.argv[i + 1];
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const rttMs = Number(arg('rtt', 20));
  const mbit = Number(arg('mbit', 400));
  if (process.argv.includes('--self-check')) {
    const r = await selfCheck({ rttMs, mbit, mb: Number(arg('mb', 50)) });
    console.log(`link: RTT ${rttMs} ms, ${mbit} Mbit/s per direction`);
    for (const x of r.rows) {
      console.log(
        `${x.ok ? 'ok  ' : 'FAIL'} ${x.what.padEnd(55)} expected ${x.expectedMs.toFixed(1).padStart(7)} ms, measured ${x.measuredMs.toFixed(1).padStart(7)} ms`,
      );
    }
    process.exit(r.rows.every((x) => x.ok) ? 0 : 1);
  }
  const upstream = arg('upstream', null);
  if (upstream === null) {
    console.error('usage: linkProxy.mjs --upstream HOST:PORT [--port 0] [--rtt 20] [--mbit 400] | --self-check');
    process.exit(2);
  }
  const [host, p] = upstream.split(':');
  const proxy = await startLinkProxy({ upstreamHost: host, upstreamPort: Number(p), port: Number(arg('port', 0)), rttMs, mbit });
  console.log(JSON.stringify({ port: proxy.port, rttMs, mbit }));
  const rl = createInterface({ input: process.stdin });
  rl.on('line', (l) => {
    if (l.trim() === 'stats') console.log(JSON.stringify(proxy.stats()));
    else if (l.trim() === 'reset') proxy.reset();
  });
  const stop = async () => {
    await proxy.close();
    process.exit(0);
  };
  rl.on('close', stop);
  process.on('SIGTERM', stop);
}
