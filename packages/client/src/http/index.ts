export type { Transport, TransportRequest, TransportResponse, RequestPurpose } from './Transport.js';
export { UndiciTransport, type UndiciTransportOptions } from './UndiciTransport.js';
export { FileTransport } from './FileTransport.js';
export { HttpClient, MISSING_STATUSES, USER_AGENT, type GetOptions } from './HttpClient.js';
