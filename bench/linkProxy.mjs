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
// ## The link model
//
// Two directions (client→server "up", server→client "down"), each a single bottleneck of
// `mbit` Mbit/s (default 400) followed by a one-way propagation delay of RTT/2 (default RTT
// 20 ms → 10 ms each way). The bandwidth applies to TCP payload bytes (headers, ACKs and
// retransmissions are not modelled).
//
// - Serialization clock per direction, shared by every connection: a direction keeps
//   `linkFree`, the (virtual) time its bottleneck finishes the bytes already accepted. Bytes
//   read from a socket are queued on their connection; the direction drains the queued
//   connections round-robin in quanta of 16 KiB (fair sharing between connections, like
//   competing TCP flows at a router with per-flow queues): a quantum that arrived at time `a`
//   starts at `start = max(linkFree, a)`, occupies the link for `bytes / bandwidth`, and
//   `linkFree = start + bytes / bandwidth`.
// - Propagation: the quantum is delivered to the other socket at `linkFree + RTT/2`. Within a
//   connection quanta leave the link in order and the delay is constant, so chunk i is released
//   at max(arrival_i + RTT/2, release_{i-1} + its serialization time) or later (later when other
//   connections share the link): in order, never faster than the bandwidth.
// - Connection setup costs one RTT: the proxy accepts at once (so the client's own connect
//   timing shows ~0 ms), but the bytes the client sends on a new connection are held until
//   accept + RTT before they enter the link — as if the SYN / SYN-ACK had taken a round trip.
//   So the first request on a new connection takes ≈ 2 RTT to its first response byte,
//   later ones ≈ 1 RTT.
// - FIN travels like data (after the bytes before it); a reset or error closes both sides.
// - Flow control: a connection's direction stops reading its source socket while more than
//   2 MiB it read are not yet delivered (bounds memory; at the default link that is > 2×
//   the bandwidth-delay product, so it never limits throughput). No slow start or congestion
//   window is modelled: a fresh connection gets its fair share from its first byte, which is
//   optimistic for clients that open many connections.
// - Timers: Node's timers fire up to ~1 ms late; departures use the virtual clock, so the
//   bandwidth is exact over time, and a delivery due within EARLY_MS (0.75 ms) is made at once,
//   which centres each one-way delay's timer error on zero (jitter ±~1 ms). The self-check
//   measures what a client actually sees.
import { spawn } from 'node:child_process';
import { createServer, connect as netConnect } from 'node:net';
import { setPriority } from 'node:os';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const QUANTUM = 16 * 1024;
const HIGH_WATER = 2 * 1024 * 1024;
const LOW_WATER = 512 * 1024;
/**
 * Deliveries due within this many ms are made now: Node's timers fire ~1 ms late on average, so
 * this centres the error of each one-way delay on zero (±~0.75 ms) instead of always adding it.
 */
const EARLY_MS = 0.75;

/** One direction's bottleneck: a serialization clock shared by all connections, round-robin. */
class Link {
  constructor(bytesPerMs, delayMs) {
    this.bytesPerMs = bytesPerMs;
    this.delayMs = delayMs;
    this.linkFree = 0;
    this.active = [];
    this.rr = 0;
    this.timer = null;
    this.bytes = 0;
  }

  activate(flow) {
    if (flow.closed || flow.pending.length === 0) return;
    if (!flow.isActive) {
      flow.isActive = true;
      this.active.push(flow);
    }
    if (this.timer === null) this.pump();
  }

  pump() {
    this.timer = null;
    const now = performance.now();
    while (this.active.length > 0) {
      if (this.linkFree > now) {
        this.timer = setTimeout(() => this.pump(), Math.max(0, this.linkFree - now - 0.5));
        return;
      }
      if (this.rr >= this.active.length) this.rr = 0;
      const flow = this.active[this.rr];
      const head = flow.pending[0];
      if (flow.closed || head === undefined) {
        // Torn down (reset) while queued.
        flow.isActive = false;
        this.active.splice(this.rr, 1);
        continue;
      }
      const start = Math.max(this.linkFree, head.arrival);
      if (head.fin) {
        flow.pending.shift();
        flow.depart(null, start + this.delayMs);
      } else {
        const n = Math.min(QUANTUM, head.buf.length - head.off);
        this.linkFree = start + n / this.bytesPerMs;
        this.bytes += n;
        flow.depart(head.buf.subarray(head.off, head.off + n), this.linkFree + this.delayMs);
        head.off += n;
        if (head.off === head.buf.length) flow.pending.shift();
      }
      if (flow.pending.length === 0) {
        flow.isActive = false;
        this.active.splice(this.rr, 1);
      } else {
        this.rr++;
      }
    }
  }
}

/** One direction of one connection: source socket → link → destination socket. */
class Flow {
  constructor(link, src, dst, holdUntil) {
    this.link = link;
    this.src = src;
    this.dst = dst;
    this.holdUntil = holdUntil;
    this.pending = [];
    this.transit = [];
    this.undelivered = 0;
    this.isActive = false;
    this.paused = false;
    this.timer = null;
    this.closed = false;
    src.on('data', (buf) => this.push({ buf, off: 0, fin: false }));
    src.on('end', () => this.push({ buf: null, off: 0, fin: true }));
  }

  push(item) {
    if (this.closed) return;
    const now = performance.now();
    item.arrival = Math.max(now, this.holdUntil);
    if (item.buf !== null) {
      this.undelivered += item.buf.length;
      if (this.undelivered > HIGH_WATER && !this.paused) {
        this.paused = true;
        this.src.pause();
      }
    }
    this.pending.push(item);
    if (item.arrival > now) {
      // Connection setup: held until the emulated handshake is done.
      setTimeout(() => this.link.activate(this), item.arrival - now);
    } else {
      this.link.activate(this);
    }
  }

  depart(buf, at) {
    this.transit.push({ buf, at });
    if (this.timer === null) this.schedule();
  }

  schedule() {
    const next = this.transit[0];
    if (next === undefined) {
      this.timer = null;
      return;
    }
    this.timer = setTimeout(() => this.deliver(), Math.max(0, next.at - performance.now() - EARLY_MS));
  }

  deliver() {
    const now = performance.now() + EARLY_MS;
    if (this.closed) return;
    const out = [];
    let n = 0;
    let fin = false;
    while (this.transit.length > 0 && this.transit[0].at <= now) {
      const t = this.transit.shift();
      if (t.buf === null) {
        fin = true;
        break;
      }
      out.push(t.buf);
      n += t.buf.length;
    }
    if (n > 0) {
      this.dst.write(out.length === 1 ? out[0] : Buffer.concat(out, n));
      this.undelivered -= n;
      if (this.paused && this.undelivered < LOW_WATER) {
        this.paused = false;
        this.src.resume();
      }
    }
    if (fin) {
      this.dst.end();
      this.transit.length = 0;
    }
    this.schedule();
  }

  close() {
    this.closed = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.pending.length = 0;
    this.transit.length = 0;
  }
}

/**
 * Starts the proxy in this process. Returns { port, close(), stats(), reset() }. Note that a
 * busy event loop in the same process delays deliveries: benchmarks run it as its own process
 * (the CLI below).
 */
export async function startLinkProxy({ upstreamHost = '127.0.0.1', upstreamPort, port = 0, rttMs = 20, mbit = 400 }) {
  const bytesPerMs = (mbit * 1e6) / 8 / 1000;
  const up = new Link(bytesPerMs, rttMs / 2);
  const down = new Link(bytesPerMs, rttMs / 2);
  const sockets = new Set();
  let connections = 0;
  const server = createServer({ noDelay: true, allowHalfOpen: true }, (client) => {
    connections++;
    const accepted = performance.now();
    client.setNoDelay(true);
    const upstream = netConnect({ host: upstreamHost, port: upstreamPort, noDelay: true, allowHalfOpen: true });
    sockets.add(client);
    sockets.add(upstream);
    const c2s = new Flow(up, client, upstream, accepted + rttMs);
    const s2c = new Flow(down, upstream, client, 0);
    const teardown = () => {
      c2s.close();
      s2c.close();
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', teardown);
    upstream.on('error', teardown);
    // Both sides closed (after their FINs were delivered): drop the state.
    let closedSides = 0;
    const onClose = () => {
      closedSides++;
      if (closedSides === 2) teardown();
    };
    client.on('close', onClose);
    upstream.on('close', onClose);
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  return {
    port: server.address().port,
    stats: () => ({ connections, upBytes: up.bytes, downBytes: down.bytes }),
    reset: () => {
      connections = 0;
      up.bytes = 0;
      down.bytes = 0;
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
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
