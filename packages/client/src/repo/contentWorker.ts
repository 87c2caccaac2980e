/**
 * Worker thread for the CPU-heavy part of content objects: hashing, deflate/inflate and the
 * object files' writes (started by ContentWorkerPool; protocol in contentWorkerProtocol.ts). It
 * only uses Node built-ins: headers are encoded and parsed on the calling thread and sent as bytes.
 */
import { createHash } from 'node:crypto';
import { parentPort } from 'node:worker_threads';
import * as zlib from 'node:zlib';
// `.ts` specifiers (rewritten to `.js` in the build): run from the sources, as the tests do, this
// file is loaded by Node.js itself (type stripping), which does not map `.js` to `.ts`.
import { inflateExact, runStoreJob } from './contentStore.ts';
import type { WorkerReply, WorkerRequest } from './contentWorkerProtocol.ts';
import { threadGarbage } from '../formats/garbageBudget.ts';

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

const handle = (msg: WorkerRequest & { id: number }) => {
  const { id } = msg;
  try {
    switch (msg.op) {
      case 'encode': {
        const checksum = createHash('sha256').update(msg.header).update(msg.content).digest('hex');
        if (!msg.compress || (msg.expected !== null && checksum !== msg.expected)) return reply(id, checksum, null);
        return reply(id, checksum, owned(zlib.deflateRawSync(msg.content, { level: msg.level })));
      }
      case 'store':
      case 'storeFilez':
      case 'storeMetadata':
        return post(id, { ok: true, checksum: '', data: null, results: runStoreJob(msg) });
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
};

port.on('message', (msg: WorkerRequest & { id: number }) => {
  try {
    handle(msg);
  } finally {
    // A job allocates buffers (its transferred input, inflated contents) and keeps none: the
    // dead ones are collected every few jobs instead of piling up to V8's allowance for memory
    // outside its heap, in each worker (see GarbageBudget).
    threadGarbage.check();
  }
});
