/**
 * What a transport tells the client about one exchange while it happens, so that each
 * `RequestRecord` can carry real wire timings. Every method is optional to call: a transport
 * reports what it can observe and HttpClient fills the rest from its own clock. Times are
 * `performance.now()` milliseconds.
 */

/** When a connection's DNS lookup, TCP connect and TLS handshake began and ended; null when one did not happen (DNS for an IP literal, TLS over http:). */
export interface ConnectionPhases {
  dnsStart: number | null;
  dnsEnd: number | null;
  connectStart: number | null;
  connectEnd: number | null;
  tlsStart: number | null;
  tlsEnd: number | null;
}

/** The connection a request went out on. */
export interface TransportConnection extends ConnectionPhases {
  /** Stable per transport, increasing from 1. */
  id: number;
  /** False on the first request of the connection (its DNS/connect/TLS phases belong to this request). */
  reused: boolean;
  remoteAddress: string | null;
  remotePort: number | null;
  /** Negotiated protocol: '1.1' or '2'. */
  httpVersion: string | null;
}

export interface TransportTrace {
  /** The request headers are being written, on `connection` when the transport knows it. */
  requestSent(at: number, connection: TransportConnection | null): void;
  /** The response headers arrived. */
  responseStart(at: number, httpVersion: string | null): void;
  /** A chunk of response body arrived from the network (before the consumer read it). */
  bodyChunk(at: number, bytes: number): void;
  /** The whole response body arrived. */
  responseEnd(at: number): void;
}
