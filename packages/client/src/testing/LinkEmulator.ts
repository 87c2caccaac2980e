/**
 * A TCP proxy on loopback that emulates a network link (round-trip time and a shared bandwidth
 * cap) between a client and an upstream server: no netem, no root. The `demo` command puts it in
 * front of a RepoServer; the pull benchmark runs it in its own process (`bench/linkProxy.mjs`).
 *
 * ## The link model
 *
 * Two directions (client→server "up", server→client "down"), each a single bottleneck of `mbit`
 * Mbit/s followed by a one-way propagation delay of RTT/2. The bandwidth applies to TCP payload
 * bytes (headers, ACKs and retransmissions are not modelled).
 *
 * - Serialization clock per direction, shared by every connection: a direction keeps `linkFree`,
 *   the (virtual) time its bottleneck finishes the bytes already accepted. Bytes read from a
 *   socket are queued on their connection; the direction drains the queued connections
 *   round-robin in quanta of 16 KiB (fair sharing, like competing TCP flows at a router with
 *   per-flow queues): a quantum that arrived at `a` starts at `max(linkFree, a)` and occupies the
 *   link for `bytes / bandwidth`.
 * - Propagation: a quantum is delivered to the other socket at `linkFree + RTT/2`. Within a
 *   connection quanta leave in order and the delay is constant: in order, never faster than the
 *   bandwidth.
 * - Connection setup costs one RTT: the proxy accepts at once (the client's own connect timing
 *   shows ~0 ms), but the bytes a client sends on a new connection are held until accept + RTT,
 *   as if SYN / SYN-ACK had taken a round trip. So the first request on a new connection takes
 *   ≈ 2 RTT to its first response byte, later ones ≈ 1 RTT.
 * - FIN travels like data (after the bytes before it); a reset or error closes both sides.
 * - Flow control: a direction stops reading its source socket while more than 2 MiB it read are
 *   undelivered (bounds memory; at 400 Mbit/s and 20 ms that is > 2× the bandwidth-delay product).
 *   No slow start or congestion window: a fresh connection gets its fair share at once.
 * - Timers: Node's fire up to ~1 ms late; departures use the virtual clock, so the bandwidth is
 *   exact over time, and a delivery due within 0.75 ms is made at once, which centres each
 *   one-way delay's timer error on zero. A busy event loop in the same process delays deliveries:
 *   for measurements run the emulator in its own process (`bench/linkProxy.mjs --self-check`
 *   checks what a client actually sees).
 */
import { connect as netConnect, createServer, type Server, type Socket } from 'node:net';

const QUANTUM = 16 * 1024;
const HIGH_WATER = 2 * 1024 * 1024;
const LOW_WATER = 512 * 1024;
/** Deliveries due within this many ms are made now (centres the timers' lateness on zero). */
const EARLY_MS = 0.75;

export interface LinkEmulatorOptions {
  /** Upstream server to forward to. */
  upstreamPort: number;
  /** @default '127.0.0.1' */
  upstreamHost?: string;
  /** Port to listen on (loopback). @default 0 (any free port) */
  port?: number;
  /** Loopback address to listen on: `127.0.0.1` or `::1` (an IPv6 route of its own). @default '127.0.0.1' */
  host?: string;
  /** Round-trip time in milliseconds. @default 20 */
  rttMs?: number;
  /** Bandwidth of each direction in Mbit/s, shared by all connections. @default 400 */
  mbit?: number;
}

export interface LinkEmulatorStats {
  /** Connections accepted. */
  connections: number;
  /** Payload bytes client → server. */
  upBytes: number;
  /** Payload bytes server → client. */
  downBytes: number;
}

interface QueueItem {
  buf: Buffer | null;
  off: number;
  fin: boolean;
  arrival: number;
}

/** One direction's bottleneck: a serialization clock shared by all connections, round-robin. */
class Link {
  readonly bytesPerMs: number;
  readonly delayMs: number;
  linkFree = 0;
  bytes = 0;
  readonly #active: Flow[] = [];
  #rr = 0;
  #timer: NodeJS.Timeout | null = null;

  constructor(bytesPerMs: number, delayMs: number) {
    this.bytesPerMs = bytesPerMs;
    this.delayMs = delayMs;
  }

  activate(flow: Flow): void {
    if (flow.closed || flow.pending.length === 0) return;
    if (!flow.isActive) {
      flow.isActive = true;
      this.#active.push(flow);
    }
    if (this.#timer === null) this.#pump();
  }

  #pump(): void {
    this.#timer = null;
    const now = performance.now();
    while (this.#active.length > 0) {
      if (this.linkFree > now) {
        this.#timer = setTimeout(() => this.#pump(), Math.max(0, this.linkFree - now - 0.5));
        return;
      }
      if (this.#rr >= this.#active.length) this.#rr = 0;
      const flow = this.#active[this.#rr] as Flow;
      const head = flow.pending[0];
      if (flow.closed || head === undefined) {
        // Torn down (reset) while queued.
        flow.isActive = false;
        this.#active.splice(this.#rr, 1);
        continue;
      }
      const start = Math.max(this.linkFree, head.arrival);
      if (head.fin || head.buf === null) {
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
        this.#active.splice(this.#rr, 1);
      } else {
        this.#rr++;
      }
    }
  }
}

/** One direction of one connection: source socket → link → destination socket. */
class Flow {
  readonly pending: QueueItem[] = [];
  isActive = false;
  closed = false;
  readonly #link: Link;
  readonly #src: Socket;
  readonly #dst: Socket;
  readonly #holdUntil: number;
  readonly #transit: Array<{ buf: Buffer | null; at: number }> = [];
  #undelivered = 0;
  #paused = false;
  #timer: NodeJS.Timeout | null = null;

  constructor(link: Link, src: Socket, dst: Socket, holdUntil: number) {
    this.#link = link;
    this.#src = src;
    this.#dst = dst;
    this.#holdUntil = holdUntil;
    src.on('data', (buf: Buffer) => this.#push(buf, false));
    src.on('end', () => this.#push(null, true));
  }

  #push(buf: Buffer | null, fin: boolean): void {
    if (this.closed) return;
    const now = performance.now();
    const item: QueueItem = { buf, off: 0, fin, arrival: Math.max(now, this.#holdUntil) };
    if (buf !== null) {
      this.#undelivered += buf.length;
      if (this.#undelivered > HIGH_WATER && !this.#paused) {
        this.#paused = true;
        this.#src.pause();
      }
    }
    this.pending.push(item);
    // Connection setup: held until the emulated handshake is done.
    if (item.arrival > now) setTimeout(() => this.#link.activate(this), item.arrival - now);
    else this.#link.activate(this);
  }

  depart(buf: Buffer | null, at: number): void {
    this.#transit.push({ buf, at });
    if (this.#timer === null) this.#schedule();
  }

  #schedule(): void {
    const next = this.#transit[0];
    if (next === undefined) {
      this.#timer = null;
      return;
    }
    this.#timer = setTimeout(() => this.#deliver(), Math.max(0, next.at - performance.now() - EARLY_MS));
  }

  #deliver(): void {
    const now = performance.now() + EARLY_MS;
    if (this.closed) return;
    const out: Buffer[] = [];
    let n = 0;
    let fin = false;
    while (this.#transit.length > 0 && (this.#transit[0] as { at: number }).at <= now) {
      const t = this.#transit.shift() as { buf: Buffer | null };
      if (t.buf === null) {
        fin = true;
        break;
      }
      out.push(t.buf);
      n += t.buf.length;
    }
    if (n > 0) {
      this.#dst.write(out.length === 1 ? (out[0] as Buffer) : Buffer.concat(out, n));
      this.#undelivered -= n;
      if (this.#paused && this.#undelivered < LOW_WATER) {
        this.#paused = false;
        this.#src.resume();
      }
    }
    if (fin) {
      this.#dst.end();
      this.#transit.length = 0;
    }
    this.#schedule();
  }

  close(): void {
    this.closed = true;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.pending.length = 0;
    this.#transit.length = 0;
  }
}

export class LinkEmulator {
  readonly rttMs: number;
  readonly mbit: number;
  readonly host: string;
  readonly #server: Server;
  readonly #up: Link;
  readonly #down: Link;
  readonly #sockets = new Set<Socket>();
  #connections = 0;

  private constructor(o: Required<LinkEmulatorOptions>) {
    this.rttMs = o.rttMs;
    this.mbit = o.mbit;
    this.host = o.host;
    const bytesPerMs = (o.mbit * 1e6) / 8 / 1000;
    this.#up = new Link(bytesPerMs, o.rttMs / 2);
    this.#down = new Link(bytesPerMs, o.rttMs / 2);
    this.#server = createServer({ noDelay: true, allowHalfOpen: true }, (client) => this.#accept(client, o));
  }

  /** Starts listening on `host` (127.0.0.1 unless told). */
  static async start(options: LinkEmulatorOptions): Promise<LinkEmulator> {
    const o: Required<LinkEmulatorOptions> = {
      upstreamHost: options.upstreamHost ?? '127.0.0.1',
      upstreamPort: options.upstreamPort,
      port: options.port ?? 0,
      host: options.host ?? '127.0.0.1',
      rttMs: options.rttMs ?? 20,
      mbit: options.mbit ?? 400,
    };
    if (!Number.isInteger(o.upstreamPort) || o.upstreamPort < 1 || o.upstreamPort > 65535)
      throw new RangeError(`upstreamPort must be a TCP port, got ${String(o.upstreamPort)}`);
    if (!(o.rttMs >= 0)) throw new RangeError(`rttMs must be ≥ 0, got ${o.rttMs}`);
    if (!(o.mbit > 0)) throw new RangeError(`mbit must be > 0, got ${o.mbit}`);
    const emulator = new LinkEmulator(o);
    await new Promise<void>((resolve, reject) => {
      emulator.#server.once('error', reject);
      emulator.#server.listen(o.port, o.host, () => resolve());
    });
    return emulator;
  }

  get port(): number {
    const a = this.#server.address();
    return typeof a === 'object' && a !== null ? a.port : 0;
  }

  /** `http://127.0.0.1:PORT/` (`http://[::1]:PORT/` on IPv6). */
  get url(): string {
    return `http://${this.host.includes(':') ? `[${this.host}]` : this.host}:${this.port}/`;
  }

  stats(): LinkEmulatorStats {
    return { connections: this.#connections, upBytes: this.#up.bytes, downBytes: this.#down.bytes };
  }

  reset(): void {
    this.#connections = 0;
    this.#up.bytes = 0;
    this.#down.bytes = 0;
  }

  async close(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #accept(client: Socket, o: Required<LinkEmulatorOptions>): void {
    this.#connections++;
    const accepted = performance.now();
    client.setNoDelay(true);
    const upstream = netConnect({ host: o.upstreamHost, port: o.upstreamPort, noDelay: true, allowHalfOpen: true });
    this.#sockets.add(client);
    this.#sockets.add(upstream);
    const c2s = new Flow(this.#up, client, upstream, accepted + o.rttMs);
    const s2c = new Flow(this.#down, upstream, client, 0);
    const teardown = () => {
      c2s.close();
      s2c.close();
      client.destroy();
      upstream.destroy();
      this.#sockets.delete(client);
      this.#sockets.delete(upstream);
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
  }
}
