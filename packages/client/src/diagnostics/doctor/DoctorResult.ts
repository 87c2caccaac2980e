/**
 * The result of `diagnoseConnection()` (`flathub-fetch doctor`): plain data, JSON-serialisable
 * as is (schema `flathub-fetch/doctor@1`, documented in SCHEMA.md beside this file), so a report
 * renderer (text, Markdown, HTML) needs nothing but this object.
 */
import type { ErrorSource } from '../errorSource.js';

export const DOCTOR_SCHEMA = 'flathub-fetch/doctor@1';

export type AddressFamily = 4 | 6;

/** One DNS question (A or AAAA) and how long the resolver took. */
export interface DnsAnswer {
  family: AddressFamily;
  /** `dns`: asked the system's DNS servers; `system`: getaddrinfo (hosts file, NSS); `override`: the `resolve` option; `literal`: the URL holds an address. */
  source: 'dns' | 'system' | 'override' | 'literal';
  addresses: string[];
  /** Resolver time, ms (null when nothing was asked). */
  ms: number | null;
  /** The resolver's error code (`ENOTFOUND`, `ENODATA`, …), or null. */
  error: string | null;
}

/** The TLS session of one address (null fields when not https or the handshake failed). */
export interface TlsFacts {
  protocol: string | null;
  /** ALPN result: `h2`, `http/1.1`, or null when the server chose none. */
  alpn: string | null;
  subject: string | null;
  issuer: string | null;
  validTo: string | null;
  /** Whether the chain verified against the trusted CAs; the error when not. */
  authorized: boolean;
  error: string | null;
}

/** One request the doctor made, with its timings (ms from the request's start) and who answered. */
export interface DoctorRequest {
  /** `summary.idx`, `config`, `object`, `delta-part`, `delta-part range`, … */
  what: string;
  url: string;
  address: string | null;
  range: string | null;
  status: number | null;
  httpVersion: string | null;
  bytes: number;
  contentLength: number | null;
  /** DNS, TCP connect and TLS of a new connection (null on a reused one or when not measured). */
  connectMs: number | null;
  tlsMs: number | null;
  /** Request sent → response headers. */
  firstByteMs: number | null;
  /** Response headers → last body byte. */
  transferMs: number | null;
  /** Body bytes per second over the transfer (null for bodies too small to time). */
  bytesPerSecond: number | null;
  /** Who answered: server, via, x-served-by, x-cache, age, … (lower-case names). */
  headers: Record<string, string>;
  error: { class: string; message: string; source: ErrorSource | null; cache: string | null } | null;
}

export interface LatencyFigures {
  count: number;
  median: number | null;
  min: number | null;
  max: number | null;
}

/** One address of the host, probed on its own connections. */
export interface AddressProbe {
  address: string;
  family: AddressFamily;
  /** First byte of requests on that address, ms. */
  firstByte: LatencyFigures;
  /** TCP connect (plus TLS) of its connections, ms. */
  connect: LatencyFigures;
  httpVersion: string | null;
  tls: TlsFacts | null;
  /** Requests that failed / all. */
  errors: number;
  requests: number;
  /** The connection failed entirely (refused, unreachable, TLS): why. */
  unreachable: string | null;
}

export interface RangeCheck {
  what: string;
  url: string;
  range: string;
  /** `honoured`: 206 with the range asked; `ignored`: 200 with the whole body; `broken`: anything else. */
  result: 'honoured' | 'ignored' | 'broken' | 'failed';
  detail: string;
}

/** A finding of the verdict, in plain words. */
export interface DoctorFinding {
  kind:
    | 'ipv6-slower'
    | 'ipv4-slower'
    | 'unreachable'
    | 'family-unreachable'
    | 'address-slower'
    | 'cdn-first-byte-timeout'
    | 'cache-errors'
    | 'origin-errors'
    | 'network-errors'
    | 'transparent-proxy'
    | 'clock-skew'
    | 'dns-failed'
    | 'dns-slow'
    | 'range-broken'
    | 'short-body'
    | 'slow-throughput'
    | 'healthy';
  severity: 'problem' | 'warning' | 'info';
  /** One sentence a user can paste, e.g. "your IPv6 route is 6× slower than IPv4 (…)". */
  text: string;
}

export interface DoctorResult {
  schema: typeof DOCTOR_SCHEMA;
  url: string;
  host: string;
  startedAt: string;
  durationMs: number;
  dns: DnsAnswer[];
  addresses: AddressProbe[];
  /** Every request made, in order. */
  requests: DoctorRequest[];
  /** The ref whose objects and delta part were sampled, or null when none could be read. */
  sampled: { ref: string; commit: string; objects: number; deltaPart: string | null } | null;
  ranges: RangeCheck[];
  /** Who answers: the distinct Server / Via / X-Served-By / X-Cache values seen. */
  answeredBy: { server: string[]; via: string[]; servedBy: string[]; cache: string[] };
  /** Server Date − local clock, seconds (positive: the local clock is behind); null without a Date header. */
  clockSkewSeconds: number | null;
  /** Failed requests by who produced the failure (errorSource). */
  errorsBySource: Partial<Record<ErrorSource, number>>;
  findings: DoctorFinding[];
  /** A Markdown block for Flathub's "Slow connection" issue form. */
  markdown: string;
}
