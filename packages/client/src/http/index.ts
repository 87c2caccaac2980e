export type { Transport, TransportRequest, TransportResponse, TransportTimeouts, RequestPurpose } from './Transport.js';
export type { ConnectionPhases, TransportTrace, TransportConnection } from './TransportTrace.js';
export { UndiciTransport, type UndiciTransportOptions } from './UndiciTransport.js';
export { FileTransport } from './FileTransport.js';
export { HttpClient, MISSING_STATUSES, USER_AGENT, type GetOptions, type DownloadOptions, type DownloadResult } from './HttpClient.js';
export type { HttpClientOptions, ResolvedHttpClientOptions, RetryOptions, TimeoutOptions } from './HttpClientOptions.js';
export { resolveHttpOptions, DEFAULT_RETRY, DEFAULT_TIMEOUTS, DEFAULT_USER_AGENT } from './resolveHttpOptions.js';
export type { RequestRecord, RequestErrorClass, RequestTimings } from './RequestRecord.js';
export { AdaptiveConcurrency, type ConcurrencyChange } from './AdaptiveConcurrency.js';
