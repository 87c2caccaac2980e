/**
 * Connections a transport opened, by socket: an id, how many requests went out on each, and the
 * DNS/connect/TLS phase times observed while opening it (for the first request's record).
 */
import type { Socket } from 'node:net';
import type { ConnectionPhases, TransportConnection } from './TransportTrace.js';

export interface ConnectionState extends ConnectionPhases {
  readonly id: number;
  /** Requests sent on it so far. */
  requests: number;
  remoteAddress: string | null;
  remotePort: number | null;
}

export class ConnectionRegistry {
  #next = 1;
  readonly #bySocket = new WeakMap<object, ConnectionState>();

  /** Registers a socket being opened at `startedAt`. */
  open(socket: Socket, startedAt: number, viaDns: boolean, tls: boolean): ConnectionState {
    const state: ConnectionState = {
      id: this.#next++,
      requests: 0,
      remoteAddress: null,
      remotePort: null,
      dnsStart: viaDns ? startedAt : null,
      dnsEnd: null,
      connectStart: viaDns ? null : startedAt,
      connectEnd: null,
      tlsStart: null,
      tlsEnd: null,
    };
    this.#bySocket.set(socket, state);
    const now = () => performance.now();
    socket.once('lookup', () => {
      const t = now();
      state.dnsEnd = t;
      state.connectStart = t;
    });
    socket.once('connect', () => {
      const t = now();
      state.connectStart ??= t;
      state.connectEnd = t;
      state.remoteAddress = socket.remoteAddress ?? null;
      state.remotePort = socket.remotePort ?? null;
      if (tls) state.tlsStart = t;
    });
    if (tls) socket.once('secureConnect', () => (state.tlsEnd = now()));
    return state;
  }

  /** The connector has a usable socket (after TCP connect, and TLS when it applies). */
  established(state: ConnectionState, socket: Partial<Socket>): void {
    const t = performance.now();
    state.connectStart ??= state.dnsEnd ?? t;
    state.connectEnd ??= t;
    if (state.tlsStart !== null || (socket as { encrypted?: boolean }).encrypted === true) {
      state.tlsStart ??= state.connectEnd;
      state.tlsEnd ??= t;
    }
    state.remoteAddress ??= socket.remoteAddress ?? null;
    state.remotePort ??= socket.remotePort ?? null;
  }

  /** Counts a request going out on `socket`, returning what its record should say about the connection. */
  use(socket: object | null | undefined): TransportConnection | null {
    if (socket === null || socket === undefined) return null;
    const state = this.#bySocket.get(socket);
    if (state === undefined) return null;
    const first = state.requests === 0;
    state.requests++;
    const s = socket as Partial<Socket> & { alpnProtocol?: string | false };
    return {
      id: state.id,
      reused: !first,
      remoteAddress: state.remoteAddress ?? s.remoteAddress ?? null,
      remotePort: state.remotePort ?? s.remotePort ?? null,
      httpVersion: s.alpnProtocol === 'h2' ? '2' : '1.1',
      dnsStart: first ? state.dnsStart : null,
      dnsEnd: first ? state.dnsEnd : null,
      connectStart: first ? state.connectStart : null,
      connectEnd: first ? state.connectEnd : null,
      tlsStart: first ? state.tlsStart : null,
      tlsEnd: first ? state.tlsEnd : null,
    };
  }
}
