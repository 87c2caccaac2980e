import { FILEZ_FIELDS, FilezField, STORE_FIELDS, StoreField } from './StoreJobLayout.js';

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
 * - `{ op: 'store', data, shared, fields, expected, level, objectsDir, tmpDir, fsync, bare }`:
 *   objects packed as described by `PackedItems` and `StoreField` (StoreJobLayout): each
 *   object's content is a range of `shared` — a view of a SharedArrayBuffer, not copied — or of
 *   `data` (one transferred buffer, which also holds the headers and symlink targets). Hash
 *   header + content; when that is the expected checksum, write the object to a new file in
 *   `tmpDir`, fsync it when asked, rename it to its object path under `objectsDir`. Archive
 *   (`bare` false): `XX/YYYY….filez` = `.filez` header + raw deflate of the content (nothing more
 *   for a symlink). bare-user-only (`bare` true): `XX/YYYY….file` = the content itself with its
 *   permission bits and mtime 0 (as libostree), or a symlink. Reply `{ ok, checksum: '', data:
 *   null, results }` (`PackedResults`: the objects not stored, each with `{ status: 'mismatch',
 *   checksum }` or `{ status: 'fs', syscall, path, code, message }`, the temporary file removed).
 * - `{ op: 'storeFilez', data, fields, expected, objectsDir, tmpDir, fsync, bare }` (`FilezField`):
 *   inflate each fetched `.filez`'s payload (at most its declared size, exactly that size
 *   required), hash header + content; when that is the expected checksum, write the `.filez` as
 *   received (archive) or the inflated content as for `store` (bare-user-only). Results as for
 *   `store`, plus `{ status: 'too-large' | 'short' | 'zlib', message, length? }` for payloads
 *   that do not inflate to the declared size.
 * Failures reply `{ ok: false, kind: 'too-large' | 'short' | 'zlib', message, length? }`.
 */
export const CONTENT_WORKER_SOURCE = `'use strict';
const S = ${JSON.stringify(StoreField)}, SN = ${STORE_FIELDS};
const F = ${JSON.stringify(FilezField)}, FN = ${FILEZ_FIELDS};
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
function storeOne(m, i) {
  const f = m.fields, b = i * SN;
  const expected = m.expected.slice(i * 64, i * 64 + 64);
  const offset = f[b + S.offset], length = f[b + S.length];
  const content = f[b + S.inShared] === 1 ? m.shared.subarray(offset, offset + length) : range(m, offset, length);
  const checksum = createHash('sha256').update(range(m, f[b + S.headerOffset], f[b + S.headerLength])).update(content).digest('hex');
  if (checksum !== expected) return { status: 'mismatch', checksum };
  const symlink = f[b + S.symlink] === 1;
  const target = symlink ? range(m, f[b + S.targetOffset], f[b + S.targetLength]) : null;
  if (m.bare) return writeObject(m, expected, f[b + S.mode], target, symlink ? null : [content]);
  const filezHeader = range(m, f[b + S.filezHeaderOffset], f[b + S.filezHeaderLength]);
  const chunks = symlink ? [filezHeader] : [filezHeader, zlib.deflateRawSync(content, { level: m.level })];
  return writeObject(m, expected, 0, null, chunks);
}
function storeFilezOne(m, i) {
  const f = m.fields, b = i * FN;
  const expected = m.expected.slice(i * 64, i * 64 + 64);
  const filez = range(m, f[b + F.offset], f[b + F.length]);
  const size = f[b + F.size];
  let content;
  try {
    content = inflateExact(filez.subarray(f[b + F.payloadOffset]), size);
  } catch (err) {
    const status = err && err.code === 'ERR_BUFFER_TOO_LARGE' ? 'too-large' : 'zlib';
    return { status, message: String(err && err.message) };
  }
  if (content.length !== size) return { status: 'short', message: 'size mismatch', length: content.length };
  const checksum = createHash('sha256').update(range(m, f[b + F.headerOffset], f[b + F.headerLength])).update(content).digest('hex');
  if (checksum !== expected) return { status: 'mismatch', checksum };
  const symlink = f[b + F.symlink] === 1;
  const target = symlink ? range(m, f[b + F.targetOffset], f[b + F.targetLength]) : null;
  if (m.bare) return writeObject(m, expected, f[b + F.mode], target, symlink ? null : [content]);
  return writeObject(m, expected, 0, null, [filez]);
}
// Runs one job's objects; replies with the ones not stored.
function storeAll(m, count, one) {
  const failed = [];
  for (let i = 0; i < count; i++) {
    const r = one(m, i);
    if (r !== null) failed.push([i, r]);
  }
  parentPort.postMessage({ id: m.id, ok: true, checksum: '', data: null, results: { count, failed } });
}
// Temporary names: a random prefix per worker, a counter per file (no random bytes per object).
const tmpPrefix = '/flathub-fetch-' + randomBytes(6).toString('hex') + '-';
let tmpCounter = 0;
// Writes chunks (or, for null, a symlink to target) to a temporary file and renames it into
// place. Returns null when stored, else the failure.
function writeObject(m, expected, mode, target, chunks) {
  const tmp = m.tmpDir + tmpPrefix + (tmpCounter++).toString(36) + '-' + expected.slice(0, 16) + '.tmp';
  let step = chunks === null ? 'symlink' : 'open';
  let path = tmp;
  try {
    if (chunks === null) fs.symlinkSync(target, tmp);
    else {
      const fd = fs.openSync(tmp, 'wx', 0o644);
      try {
        step = 'write';
        for (const c of chunks) fs.writeFileSync(fd, c);
        if (m.bare) {
          step = 'chmod';
          fs.fchmodSync(fd, mode);
          fs.futimesSync(fd, 0, 0);
        }
        if (m.fsync) fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
    }
    step = 'rename';
    const dest = m.objectsDir + '/' + expected.slice(0, 2) + '/' + expected.slice(2) + (m.bare ? '.file' : '.filez');
    path = tmp + ' -> ' + dest;
    fs.renameSync(tmp, dest);
    return null;
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
    if (m.op === 'store') return storeAll(m, m.fields.length / SN, storeOne);
    if (m.op === 'storeFilez') return storeAll(m, m.fields.length / FN, storeFilezOne);
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
