/**
 * Source of the content worker (run with `new Worker(src, { eval: true })`, so it works the
 * same from `src/` under a TypeScript loader and from `dist/`). It only uses Node built-ins:
 * headers are encoded and parsed on the calling thread and sent as bytes.
 *
 * Requests (`id` echoes back):
 * - `{ op: 'encode', header, content, expected, compress, level }`: SHA-256 over the framed
 *   checksum header and the content; when it equals `expected` (or `expected` is null) and
 *   `compress` is set, also raw-deflate the content. Reply `{ ok, checksum, data: z | null }`.
 * - `{ op: 'inflate', header, payload, size, keep }`: inflate at most `size` bytes, require
 *   exactly `size`, hash header + content. Reply `{ ok, checksum, data: content | null }`.
 * Failures reply `{ ok: false, kind: 'too-large' | 'short' | 'zlib', message, length? }`.
 */
export const CONTENT_WORKER_SOURCE = `'use strict';
const { parentPort } = require('node:worker_threads');
const zlib = require('node:zlib');
const { createHash } = require('node:crypto');
function owned(buf) {
  const u = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  return u.byteOffset === 0 && u.byteLength === u.buffer.byteLength ? u : u.slice();
}
function reply(id, checksum, data) {
  parentPort.postMessage({ id, ok: true, checksum, data }, data === null ? [] : [data.buffer]);
}
parentPort.on('message', (m) => {
  try {
    if (m.op === 'encode') {
      const checksum = createHash('sha256').update(m.header).update(m.content).digest('hex');
      if (!m.compress || (m.expected !== null && checksum !== m.expected)) return reply(m.id, checksum, null);
      return reply(m.id, checksum, owned(zlib.deflateRawSync(m.content, { level: m.level })));
    }
    if (m.op === 'inflate') {
      const content = m.payload.length === 0
        ? new Uint8Array(0)
        : zlib.inflateRawSync(m.payload, { maxOutputLength: Math.max(m.size, 1), finishFlush: zlib.constants.Z_SYNC_FLUSH });
      if (content.length !== m.size) {
        return parentPort.postMessage({ id: m.id, ok: false, kind: 'short', message: 'size mismatch', length: content.length });
      }
      const checksum = createHash('sha256').update(m.header).update(content).digest('hex');
      return reply(m.id, checksum, m.keep ? owned(content) : null);
    }
    parentPort.postMessage({ id: m.id, ok: false, kind: 'zlib', message: 'unknown op ' + String(m.op) });
  } catch (err) {
    const kind = err && err.code === 'ERR_BUFFER_TOO_LARGE' ? 'too-large' : 'zlib';
    parentPort.postMessage({ id: m.id, ok: false, kind, message: String(err && err.message) });
  }
});
`;
