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
 * - `{ op: 'store', data, shared, items, level, objectsDir, tmpDir, fsync, bare }`: for each item
 *   `{ offset, length, inShared, headerOffset, headerLength, filezHeaderOffset,
 *   filezHeaderLength, expected, symlink, mode, target }` (its checksum header and `.filez`
 *   header are those ranges of `data`, one transferred buffer; its content is a range of `shared`
 *   — a view of a SharedArrayBuffer, not copied — when `inShared`, else of `data`), hash header +
 *   content; when that is `expected`, write the object to a new file in `tmpDir`, fsync it when
 *   asked, rename it to its object path under `objectsDir`. Archive (`bare` false):
 *   `XX/YYYY….filez` = `.filez` header + raw deflate of the content (nothing more for a symlink).
 *   bare-user-only (`bare` true): `XX/YYYY….file` = the content itself with permission bits
 *   `mode` and mtime 0 (as libostree), or a symlink to `target`. Reply `{ ok, checksum: '',
 *   data: null, results }`, one result per item: `{ status: 'ok' }`, `{ status: 'mismatch',
 *   checksum }` or `{ status: 'fs', syscall, path, code, message }` (the temporary file removed).
 * - `{ op: 'storeFilez', data, items, objectsDir, tmpDir, fsync, bare }`: for each item
 *   `{ offset, length, payloadOffset, size, headerOffset, headerLength, expected, symlink, mode,
 *   target }` (its `.filez` is `data[offset, offset + length)`, its checksum header another
 *   range of `data`), inflate the payload (at most `size` bytes, exactly `size` required), hash
 *   header + content; when that is `expected`, write the `.filez` as received (archive) or the
 *   inflated content as for `store` (bare-user-only) to its object path (via `tmpDir`). Results
 *   as for `store`, plus `{ status: 'too-large' | 'short' | 'zlib', message, length? }` for
 *   payloads that do not inflate to the declared size.
 * Failures reply `{ ok: false, kind: 'too-large' | 'short' | 'zlib', message, length? }`.
 */
export const CONTENT_WORKER_SOURCE = `'use strict';
const { parentPort } = require('node:worker_threads');
const zlib = require('node:zlib');
const { createHash, randomBytes } = require('node:crypto');
const fs = require('node:fs');
function owned(buf) {
  const u = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  return u.byteOffset === 0 && u.byteLength === u.buffer.byteLength ? u : u.slice();
}
function reply(id, checksum, data) {
  parentPort.postMessage({ id, ok: true, checksum, data }, data === null ? [] : [data.buffer]);
}
function inflateExact(payload, size) {
  return payload.length === 0
    ? new Uint8Array(0)
    : zlib.inflateRawSync(payload, { maxOutputLength: Math.max(size, 1), finishFlush: zlib.constants.Z_SYNC_FLUSH });
}
function range(m, offset, length) {
  return m.data.subarray(offset, offset + length);
}
function storeOne(m, it) {
  const content = it.inShared ? m.shared.subarray(it.offset, it.offset + it.length) : range(m, it.offset, it.length);
  const checksum = createHash('sha256').update(range(m, it.headerOffset, it.headerLength)).update(content).digest('hex');
  if (checksum !== it.expected) return { status: 'mismatch', checksum };
  if (m.bare) return writeObject(m, it, it.symlink ? null : [content]);
  const filezHeader = range(m, it.filezHeaderOffset, it.filezHeaderLength);
  const chunks = it.symlink ? [filezHeader] : [filezHeader, zlib.deflateRawSync(content, { level: m.level })];
  return writeObject(m, it, chunks);
}
function storeFilezOne(m, it) {
  const filez = range(m, it.offset, it.length);
  let content;
  try {
    content = inflateExact(filez.subarray(it.payloadOffset), it.size);
  } catch (err) {
    const status = err && err.code === 'ERR_BUFFER_TOO_LARGE' ? 'too-large' : 'zlib';
    return { status, message: String(err && err.message) };
  }
  if (content.length !== it.size) return { status: 'short', message: 'size mismatch', length: content.length };
  const checksum = createHash('sha256').update(range(m, it.headerOffset, it.headerLength)).update(content).digest('hex');
  if (checksum !== it.expected) return { status: 'mismatch', checksum };
  if (m.bare) return writeObject(m, it, it.symlink ? null : [content]);
  return writeObject(m, it, [filez]);
}
// Temporary names: a random prefix per worker, a counter per file (no random bytes per object).
const tmpPrefix = '/flathub-fetch-' + randomBytes(6).toString('hex') + '-';
let tmpCounter = 0;
// Writes chunks (or, for null, a symlink to it.target) to a temporary file and renames it into place.
function writeObject(m, it, chunks) {
  const tmp = m.tmpDir + tmpPrefix + (tmpCounter++).toString(36) + '-' + it.expected.slice(0, 16) + '.tmp';
  let step = chunks === null ? 'symlink' : 'open';
  let path = tmp;
  try {
    if (chunks === null) fs.symlinkSync(it.target, tmp);
    else {
      const fd = fs.openSync(tmp, 'wx', 0o644);
      try {
        step = 'write';
        for (const c of chunks) fs.writeFileSync(fd, c);
        if (m.bare) {
          step = 'chmod';
          fs.fchmodSync(fd, it.mode);
          fs.futimesSync(fd, 0, 0);
        }
        if (m.fsync) fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
    }
    step = 'rename';
    const dest = m.objectsDir + '/' + it.expected.slice(0, 2) + '/' + it.expected.slice(2) + (m.bare ? '.file' : '.filez');
    path = tmp + ' -> ' + dest;
    fs.renameSync(tmp, dest);
    return { status: 'ok' };
  } catch (err) {
    try { fs.unlinkSync(tmp); } catch {}
    return { status: 'fs', syscall: step, path, code: err && err.code, message: String(err && err.message) };
  }
}
parentPort.on('message', (m) => {
  try {
    if (m.op === 'encode') {
      const checksum = createHash('sha256').update(m.header).update(m.content).digest('hex');
      if (!m.compress || (m.expected !== null && checksum !== m.expected)) return reply(m.id, checksum, null);
      return reply(m.id, checksum, owned(zlib.deflateRawSync(m.content, { level: m.level })));
    }
    if (m.op === 'store') {
      const results = m.items.map((it) => storeOne(m, it));
      return parentPort.postMessage({ id: m.id, ok: true, checksum: '', data: null, results });
    }
    if (m.op === 'storeFilez') {
      const results = m.items.map((it) => storeFilezOne(m, it));
      return parentPort.postMessage({ id: m.id, ok: true, checksum: '', data: null, results });
    }
    if (m.op === 'inflate') {
      const content = inflateExact(m.payload, m.size);
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
