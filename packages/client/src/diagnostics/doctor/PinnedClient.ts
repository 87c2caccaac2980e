/**
 * An HttpClient whose connections all go to one address of the host (a `lookup` override in
 * the connector's socket options, so the URL, SNI and certificate check keep the host name), no
 * retries, and a DoctorRequest per attempt built from its RequestRecord (DNS/connect/TLS/first
 * byte) plus the full response headers, which a transport wrapper keeps (Date, Via, …).
 */
import { isIP } from 'node:net';
import { connect as tlsConnect, type PeerCertificate } from 'node:tls';
import { isFlathubFetchError } from '../../errors/FlathubFetchError.js';
import { HttpClient } from '../../http/HttpClient.js';
import type { HttpClientOptions } from '../../http/HttpClientOptions.js';
import { pinnedLookup } from '../../http/pinnedLookup.js';
import type { RequestRecord } from '../../http/RequestRecord.js';
import type { Transport, TransportRequest, TransportResponse } from '../../http/Transport.js';
import type { TransportConnection } from '../../http/TransportTrace.js';
import { UndiciTransport } from '../../http/UndiciTransport.js';
import { errorSource } from '../errorSource.js';
import type { ResolvedDoctorOptions } from './DoctorOptions.js';
import type { DoctorRequest, TlsFacts } from './DoctorResult.js';

/** Headers that say who answered (kept on each DoctorRequest). */
const WHO =
  /^(server|via|x-served-by|x-cache|x-cache-hits|x-cache-status|x-cache-lookup|x-varnish|age|date|cf-cache-status|cf-ray|x-squid-error|proxy-connection|x-timer|content-type|content-length|content-range|fastly-.*)$/;

/** Bodies shorter than this are not timed for throughput (a few packets say nothing about bandwidth). */
const MIN_TIMED_BYTES = 64 * 1024;

interface Captured {
  url: string;
  headers: Record<string, string>;
  /** Local wall clock when the headers arrived, ms since the epoch. */
  at: number;
}

export class PinnedClient {
  readonly address: string | null;
  readonly http: HttpClient;
  /** The options `http` was made with (for other clients on the same transport, e.g. a Remote's). */
  readonly httpOptions: HttpClientOptions;
  readonly transport: Transport;
  readonly requests: DoctorRequest[] = [];
  /** Wall-clock skews seen (server Date − local), seconds. */
  readonly skews: number[] = [];
  readonly #inner: UndiciTransport;
  readonly #captured: Captured[] = [];
  readonly #o: ResolvedDoctorOptions;
  #what = 'other';

  constructor(o: ResolvedDoctorOptions, address: string | null) {
    this.#o = o;
    this.address = address;
    this.#inner = new UndiciTransport({
      connections: 2,
      allowH2: true,
      connectTimeout: o.timeouts.connect,
      headersTimeout: o.timeouts.firstByte,
      bodyTimeout: o.timeouts.bodyStall,
      tls: { ...o.tls, ...(address === null ? {} : { lookup: pinnedLookup(address) }) },
    });
    const inner = this.#inner;
    const captured = this.#captured;
    this.transport = {
      enforcesTimeouts: true,
      async request(req: TransportRequest): Promise<TransportResponse> {
        const res = await inner.request(req);
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) headers[k] = v;
        captured.push({ url: req.url.href, headers, at: Date.now() });
        return res;
      },
      close: () => inner.close(),
    };
    this.httpOptions = {
      retry: 0,
      concurrency: 'fixed',
      maxInFlight: 2,
      timeouts: o.timeouts,
      userAgent: o.userAgent,
      onRecord: (r) => this.#record(r),
    };
    this.http = new HttpClient(o.url, { ...this.httpOptions, transport: this.transport });
  }

  /** Names the requests made until the next call (`summary.idx`, `object`, …). */
  as(what: string): this {
    this.#what = what;
    return this;
  }

  /** GETs a path to its end (the body is counted, not kept); null when it failed or is missing. */
  async fetch(path: string, what: string, maxBytes = this.#o.maxBytes): Promise<number | null> {
    this.#what = what;
    try {
      const r = await this.http.download(path, {
        purpose: 'other',
        maxBytes,
        allowMissing: true,
        onChunk: () => {},
        onRestart: () => {},
        signal: this.#o.signal,
      });
      return r?.bytes ?? null;
    } catch (err) {
      if (this.#o.signal?.aborted || !isFlathubFetchError(err)) throw err;
      return null;
    }
  }

  /** A GET with a Range header, on the same connections (HttpClient sends Range only to resume). */
  async ranged(path: string, what: string, range: string): Promise<DoctorRequest> {
    const url = this.http.resolve(path);
    let conn: TransportConnection | null = null;
    let sent = performance.now();
    let first: number | null = null;
    let last: number | null = null;
    const req: DoctorRequest = {
      what,
      url: url.href,
      address: this.address,
      range,
      status: null,
      httpVersion: null,
      bytes: 0,
      contentLength: null,
      connectMs: null,
      tlsMs: null,
      firstByteMs: null,
      transferMs: null,
      bytesPerSecond: null,
      headers: {},
      error: null,
    };
    try {
      const res = await this.#inner.request({
        url,
        method: 'GET',
        headers: { 'user-agent': this.#o.userAgent, range },
        signal: this.#o.signal,
        timeouts: this.#o.timeouts,
        trace: {
          requestSent: (at, c) => {
            sent = at;
            conn = c;
          },
          responseStart: (at, v) => {
            first = at;
            req.httpVersion = v;
          },
          bodyChunk: (at) => {
            last = at;
          },
          responseEnd: (at) => {
            last = at;
          },
        },
      });
      req.status = res.status;
      req.headers = pickWho(res.headers);
      const cl = res.headers['content-length'];
      req.contentLength = cl !== undefined && /^\d+$/.test(cl) ? Number(cl) : null;
      try {
        for await (const chunk of res.body) {
          req.bytes += chunk.length;
          if (req.bytes > this.#o.maxBytes) break;
        }
      } finally {
        res.dispose();
      }
      if (req.contentLength !== null && req.bytes < req.contentLength)
        req.error = { class: 'truncated', message: `${req.bytes} of ${req.contentLength} bytes`, source: 'network', cache: null };
    } catch (err) {
      if (this.#o.signal?.aborted) throw err;
      req.error = { class: 'other', message: (err as Error).message, source: 'network', cache: null };
    }
    const c = conn as TransportConnection | null;
    Object.assign(req, phases(c, sent, first, last, req.bytes));
    this.requests.push(req);
    this.#o.onEvent({ type: 'request', what, url: req.url, status: req.status, ms: req.firstByteMs });
    return req;
  }

  async close(): Promise<void> {
    await this.transport.close();
  }

  #record(r: RequestRecord): void {
    const i = this.#captured.findIndex((c) => c.url === r.url);
    const cap = i >= 0 && r.status !== null ? (this.#captured.splice(i, 1)[0] as Captured) : null;
    const headers = cap === null ? {} : pickWho(cap.headers);
    const date = cap?.headers.date === undefined ? Number.NaN : Date.parse(cap.headers.date);
    if (cap !== null && Number.isFinite(date)) this.skews.push((date - cap.at) / 1000);
    const t = r.timings;
    const src = errorSource(r);
    const req: DoctorRequest = {
      what: this.#what,
      url: r.url,
      address: r.remoteAddress ?? this.address,
      range: r.range,
      status: r.status,
      httpVersion: r.httpVersion,
      bytes: r.bodyBytes,
      contentLength: r.contentLength,
      ...phases(
        r.connectionReused === false ? t : null,
        t.requestSent ?? t.dispatched ?? t.queued,
        t.firstByte,
        t.lastByte ?? t.done,
        r.bodyBytes,
      ),
      headers,
      error:
        r.error === null
          ? null
          : { class: r.error.class, message: r.error.message, source: src?.source ?? null, cache: src?.cache ?? null },
    };
    this.requests.push(req);
    this.#o.onEvent({ type: 'request', what: req.what, url: req.url, status: req.status, ms: req.firstByteMs });
  }
}

function phases(
  c: {
    dnsStart: number | null;
    connectStart: number | null;
    connectEnd: number | null;
    tlsStart: number | null;
    tlsEnd: number | null;
    reused?: boolean;
  } | null,
  sent: number,
  first: number | null,
  last: number | null,
  bytes: number,
): Pick<DoctorRequest, 'connectMs' | 'tlsMs' | 'firstByteMs' | 'transferMs' | 'bytesPerSecond'> {
  const fresh = c !== null && c.reused !== true;
  const start = fresh ? (c.connectStart ?? c.dnsStart) : null;
  const transfer = first !== null && last !== null ? Math.max(0, last - first) : null;
  return {
    connectMs: fresh && start !== null && c.connectEnd !== null ? ms(c.connectEnd - start) : null,
    tlsMs: fresh && c.tlsStart !== null && c.tlsEnd !== null ? ms(c.tlsEnd - c.tlsStart) : null,
    firstByteMs: first === null ? null : ms(first - sent),
    transferMs: transfer === null ? null : ms(transfer),
    bytesPerSecond: transfer !== null && transfer > 0 && bytes >= MIN_TIMED_BYTES ? Math.round((bytes * 1000) / transfer) : null,
  };
}

function ms(x: number): number {
  return Math.round(x * 10) / 10;
}

function pickWho(headers: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined && WHO.test(k)) out[k] = v;
  return out;
}

/** The TLS session a fresh handshake with `address` gives: protocol, ALPN, certificate, whether it verifies. */
export async function tlsFacts(o: ResolvedDoctorOptions, address: string | null): Promise<TlsFacts> {
  const port = Number(o.url.port || 443);
  return new Promise<TlsFacts>((resolve) => {
    const socket = tlsConnect({
      ...o.tls,
      host: o.host,
      port,
      servername: isIP(o.host) === 0 ? o.host : undefined,
      ALPNProtocols: ['h2', 'http/1.1'],
      rejectUnauthorized: false,
      ...(address === null ? {} : { lookup: pinnedLookup(address) }),
      timeout: o.timeouts.connect,
    });
    const done = (facts: TlsFacts) => {
      socket.destroy();
      resolve(facts);
    };
    socket.once('secureConnect', () => {
      const cert = socket.getPeerCertificate() as PeerCertificate | null;
      const name = (x: Record<string, string | string[]> | undefined) =>
        x === undefined
          ? null
          : Object.entries(x)
              .map(([k, v]) => `${k}=${Array.isArray(v) ? v.join('+') : v}`)
              .join(', ') || null;
      done({
        protocol: socket.getProtocol() ?? null,
        alpn: typeof socket.alpnProtocol === 'string' ? socket.alpnProtocol : null,
        subject: name(cert?.subject as unknown as Record<string, string> | undefined),
        issuer: name(cert?.issuer as unknown as Record<string, string> | undefined),
        validTo: cert?.valid_to ?? null,
        authorized: socket.authorized,
        error: socket.authorizationError === undefined || socket.authorizationError === null ? null : String(socket.authorizationError),
      });
    });
    const fail = (err: Error) =>
      done({ protocol: null, alpn: null, subject: null, issuer: null, validTo: null, authorized: false, error: err.message });
    socket.once('error', fail);
    socket.once('timeout', () => fail(new Error(`no TLS handshake within ${o.timeouts.connect} ms`)));
    const signal = o.signal;
    if (signal !== undefined) {
      const abort = () => fail(new Error('aborted'));
      if (signal.aborted) abort();
      else {
        signal.addEventListener('abort', abort, { once: true });
        socket.once('close', () => signal.removeEventListener('abort', abort));
      }
    }
  });
}
