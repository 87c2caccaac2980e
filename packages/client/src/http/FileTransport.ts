/**
 * file:// URLs as a transport: 200 with the file, 404 when it does not exist, 206 for a
 * `Range: bytes=N-` / `bytes=N-M` request (416 past the end), honouring `If-Range` against the
 * ETag and Last-Modified it derives from the file's size and mtime.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Transport, TransportRequest, TransportResponse } from './Transport.js';

export class FileTransport implements Transport {
  async request(req: TransportRequest): Promise<TransportResponse> {
    const sent = performance.now();
    req.trace?.requestSent(sent, null);
    const path = fileURLToPath(req.url);
    let size: number;
    let mtime: Date;
    try {
      const st = await stat(path);
      if (!st.isFile()) return empty(404, req);
      size = st.size;
      mtime = st.mtime;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      return empty(code === 'EACCES' ? 403 : 404, req);
    }
    const etag = `"${size.toString(16)}-${Math.floor(mtime.getTime()).toString(16)}"`;
    const lastModified = mtime.toUTCString();
    const base = { etag, 'last-modified': lastModified, 'accept-ranges': 'bytes' };
    let range = parseRange(req.headers.range, size);
    const ifRange = req.headers['if-range'];
    if (range !== null && ifRange !== undefined && ifRange !== etag && ifRange !== lastModified) range = null;
    if (range === 'unsatisfiable') return { ...empty(416, req), headers: { ...base, 'content-range': `bytes */${size}` } };
    const start = range?.start ?? 0;
    const end = range?.end ?? size - 1;
    const length = Math.max(0, end - start + 1);
    const headers: Record<string, string> = { ...base, 'content-length': String(length) };
    if (range !== null) headers['content-range'] = `bytes ${start}-${end}/${size}`;
    const status = range !== null ? 206 : 200;
    if (req.method === 'HEAD' || length === 0) return { ...empty(status, req), headers };
    const stream = createReadStream(path, { signal: req.signal, highWaterMark: 256 * 1024, start, end });
    req.trace?.responseStart(performance.now(), null);
    const trace = req.trace;
    return {
      status,
      headers,
      body: (async function* () {
        for await (const chunk of stream as AsyncIterable<Buffer>) {
          trace?.bodyChunk(performance.now(), chunk.length);
          yield chunk;
        }
        trace?.responseEnd(performance.now());
      })(),
      dispose: () => stream.destroy(),
    };
  }

  async close(): Promise<void> {}
}

/** `bytes=N-` or `bytes=N-M` (single range only); null when absent or not understood (serve it all). */
function parseRange(header: string | undefined, size: number): { start: number; end: number } | 'unsatisfiable' | null {
  if (header === undefined) return null;
  const m = /^bytes=(\d+)-(\d*)$/.exec(header.trim());
  if (m === null) return null;
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (start >= size || end < start) return 'unsatisfiable';
  return { start, end };
}

function empty(status: number, req: TransportRequest): TransportResponse {
  const at = performance.now();
  req.trace?.responseStart(at, null);
  req.trace?.responseEnd(at);
  return { status, headers: {}, body: (async function* () {})(), dispose: () => {} };
}
