/**
 * Worker thread for the CPU-heavy part of content objects: hashing, deflate/inflate and the
 * object files' writes (started by ContentWorkerPool; protocol in contentWorkerProtocol.ts). It
 * only uses Node built-ins: headers are encoded and parsed on the calling thread and sent as bytes.
 */
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { parentPort } from 'node:worker_threads';
import * as zlib from 'node:zlib';
// `.ts` specifiers (rewritten to `.js` in the build): run from the sources, as the tests do, this
// file is loaded by Node.js itself (type stripping), which does not map `.js` to `.ts`.
import type { WorkerReply, WorkerRequest, WorkerWriteOptions } from './contentWorkerProtocol.ts';
import { FILEZ_FIELDS, FilezField as F, type PackedResults, STORE_FIELDS, StoreField as S, type StoreResult } from './StoreJobLayout.ts';

type Failure = Exclude<StoreResult, { status: 'ok' }>;
type StoreRequest = Extract<WorkerRequest, { op: 'store' }>;
type StoreFilezRequest = Extract<WorkerRequest, { op: 'storeFilez' }>;

const port = parentPort;
if (port === null) throw new Error('contentWorker.ts runs as a worker thread');

const post = (id: number, reply: WorkerReply, transfer: ArrayBuffer[] = []) => port.postMessage({ id, ...reply }, transfer);

/** A buffer that owns its whole ArrayBuffer (so it can be transferred). */
function owned(buf: Uint8Array): Uint8Array {
  const u = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  return u.byteOffset === 0 && u.byteLength === u.buffer.byteLength ? u : u.slice();
}

function reply(id: number, checksum: string, data: Uint8Array | null): void {
  post(id, { ok: true, checksum, data }, data === null ? [] : [data.buffer as ArrayBuffer]);
}

function inflateExact(payload: Uint8Array, size: number): Uint8Array {
  return payload.length === 0
    ? new Uint8Array(0)
    : zlib.inflateRawSync(payload, { maxOutputLength: Math.max(size, 1), finishFlush: zlib.constants.Z_SYNC_FLUSH });
}

const range = (m: { data: Uint8Array }, offset: number, length: number) => m.data.subarray(offset, offset + length);
const field = (f: Float64Array, i: number) => f[i] as number;

function storeOne(m: StoreRequest, i: number): Failure | null {
  const f = m.fields;
  const b = i * STORE_FIELDS;
  const expected = m.expected.slice(i * 64, i * 64 + 64);
  const offset = field(f, b + S.offset);
  const length = field(f, b + S.length);
  const content =
    field(f, b + S.inShared) === 1 && m.shared !== null ? m.shared.subarray(offset, offset + length) : range(m, offset, length);
  const checksum = createHash('sha256')
    .update(range(m, field(f, b + S.headerOffset), field(f, b + S.headerLength)))
    .update(content)
    .digest('hex');
  if (checksum !== expected) return { status: 'mismatch', checksum };
  const symlink = field(f, b + S.symlink) === 1;
  const target = symlink ? range(m, field(f, b + S.targetOffset), field(f, b + S.targetLength)) : null;
  if (m.bare) return writeObject(m, expected, field(f, b + S.mode), target, symlink ? null : [content]);
  const filezHeader = range(m, field(f, b + S.filezHeaderOffset), field(f, b + S.filezHeaderLength));
  const chunks = symlink ? [filezHeader] : [filezHeader, zlib.deflateRawSync(content, { level: m.level })];
  return writeObject(m, expected, 0, null, chunks);
}

function storeFilezOne(m: StoreFilezRequest, i: number): Failure | null {
  const f = m.fields;
  const b = i * FILEZ_FIELDS;
  const expected = m.expected.slice(i * 64, i * 64 + 64);
  const filez = range(m, field(f, b + F.offset), field(f, b + F.length));
  const size = field(f, b + F.size);
  let content: Uint8Array;
  try {
    content = inflateExact(filez.subarray(field(f, b + F.payloadOffset)), size);
  } catch (err) {
    const status = (err as { code?: string })?.code === 'ERR_BUFFER_TOO_LARGE' ? 'too-large' : 'zlib';
    return { status, message: String((err as Error)?.message) };
  }
  if (content.length !== size) return { status: 'short', message: 'size mismatch', length: content.length };
  const checksum = createHash('sha256')
    .update(range(m, field(f, b + F.headerOffset), field(f, b + F.headerLength)))
    .update(content)
    .digest('hex');
  if (checksum !== expected) return { status: 'mismatch', checksum };
  const symlink = field(f, b + F.symlink) === 1;
  const target = symlink ? range(m, field(f, b + F.targetOffset), field(f, b + F.targetLength)) : null;
  if (m.bare) return writeObject(m, expected, field(f, b + F.mode), target, symlink ? null : [content]);
  return writeObject(m, expected, 0, null, [filez]);
}

/** Runs one job's objects; replies with the ones not stored (every other one is stored). */
function storeAll<M extends StoreRequest | StoreFilezRequest>(
  id: number,
  m: M,
  count: number,
  one: (m: M, i: number) => Failure | null,
): void {
  const failed: PackedResults['failed'] = [];
  for (let i = 0; i < count; i++) {
    const r = one(m, i);
    if (r !== null) failed.push([i, r]);
  }
  post(id, { ok: true, checksum: '', data: null, results: { count, failed } });
}

// Temporary names: a random prefix per worker, a counter per file (no random bytes per object).
const tmpPrefix = `/flathub-fetch-${randomBytes(6).toString('hex')}-`;
let tmpCounter = 0;

/**
 * Writes chunks (or, for null, a symlink to `target`) to a temporary file and renames it into
 * place: `objects/` never holds a partial object. Null when stored, else the failure.
 */
function writeObject(
  m: WorkerWriteOptions,
  expected: string,
  mode: number,
  target: Uint8Array | null,
  chunks: Uint8Array[] | null,
): Failure | null {
  const tmp = `${m.tmpDir}${tmpPrefix}${(tmpCounter++).toString(36)}-${expected.slice(0, 16)}.tmp`;
  let step = chunks === null ? 'symlink' : 'open';
  let path = tmp;
  try {
    if (chunks === null) fs.symlinkSync(Buffer.from(target ?? new Uint8Array(0)), tmp);
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
    const dest = `${m.objectsDir}/${expected.slice(0, 2)}/${expected.slice(2)}${m.bare ? '.file' : '.filez'}`;
    path = `${tmp} -> ${dest}`;
    fs.renameSync(tmp, dest);
    return null;
  } catch (err) {
    try {
      fs.unlinkSync(tmp);
    } catch {
      // never created, or already gone
    }
    const e = err as NodeJS.ErrnoException;
    return { status: 'fs', syscall: step, path, code: e?.code, message: String(e?.message) };
  }
}

port.on('message', (msg: WorkerRequest & { id: number }) => {
  const { id } = msg;
  try {
    switch (msg.op) {
      case 'encode': {
        const checksum = createHash('sha256').update(msg.header).update(msg.content).digest('hex');
        if (!msg.compress || (msg.expected !== null && checksum !== msg.expected)) return reply(id, checksum, null);
        return reply(id, checksum, owned(zlib.deflateRawSync(msg.content, { level: msg.level })));
      }
      case 'store':
        return storeAll(id, msg, msg.fields.length / STORE_FIELDS, storeOne);
      case 'storeFilez':
        return storeAll(id, msg, msg.fields.length / FILEZ_FIELDS, storeFilezOne);
      case 'inflate': {
        const content = inflateExact(msg.payload, msg.size);
        if (content.length !== msg.size) return post(id, { ok: false, kind: 'short', message: 'size mismatch', length: content.length });
        const checksum = createHash('sha256').update(msg.header).update(content).digest('hex');
        return reply(id, checksum, msg.keep ? owned(content) : null);
      }
      default:
        return post(id, { ok: false, kind: 'zlib', message: `unknown op ${String((msg as { op?: unknown }).op)}` });
    }
  } catch (err) {
    const kind = (err as { code?: string })?.code === 'ERR_BUFFER_TOO_LARGE' ? 'too-large' : 'zlib';
    post(id, { ok: false, kind, message: String((err as Error)?.message) });
  }
});
