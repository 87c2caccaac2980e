/** file:// URLs as a transport: 200 with the file, 404 when it does not exist. */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Transport, TransportRequest, TransportResponse } from './Transport.js';

export class FileTransport implements Transport {
  async request(req: TransportRequest): Promise<TransportResponse> {
    const path = fileURLToPath(req.url);
    let size: number;
    try {
      const st = await stat(path);
      if (!st.isFile()) return empty(404);
      size = st.size;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      return empty(code === 'EACCES' ? 403 : 404);
    }
    if (req.method === 'HEAD') return { ...empty(200), headers: { 'content-length': String(size) } };
    const stream = createReadStream(path, { signal: req.signal, highWaterMark: 256 * 1024 });
    return {
      status: 200,
      headers: { 'content-length': String(size) },
      body: stream,
      dispose: () => stream.destroy(),
    };
  }

  async close(): Promise<void> {}
}

function empty(status: number): TransportResponse {
  return { status, headers: {}, body: (async function* () {})(), dispose: () => {} };
}
