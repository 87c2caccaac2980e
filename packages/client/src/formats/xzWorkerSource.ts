/**
 * Source of an xz decoding worker (run with `new Worker(src, { eval: true, workerData })`, so it
 * works the same from `src/` and `dist/`). `workerData.lzmaUrl` is the file URL of node-liblzma,
 * resolved by the caller. The worker runs node-liblzma's streaming decoder on its own event loop
 * (liblzma itself runs on libuv's thread pool and calls back into the loop that started it after
 * every output buffer, so on a busy caller's loop decoding stalls), and writes the output straight
 * into the caller's SharedArrayBuffer.
 *
 * Messages, handled strictly in order; every reply carries the `gen` of the `start` it belongs to:
 * - `{ t: 'start', gen, sab, limit, chunkSize }`: a new stream; output goes to `sab` (a
 *   SharedArrayBuffer, or null), then — past its end — to overflow chunks; more than `limit`
 *   bytes in all is an error.
 * - `{ t: 'write', gen, bytes }` (a transferred Uint8Array): compressed input. Reply `{ t: 'ack',
 *   gen, n }` once liblzma has taken it (backpressure).
 * - `{ t: 'end', gen }`: end of input. Reply `{ t: 'end', gen, outSize, overflow }` (overflow
 *   chunks transferred) after the last output.
 * - `{ t: 'destroy', gen }`: abandon the stream.
 * Errors reply `{ t: 'error', gen, kind: 'xz' | 'too-large', message, size? }` once, after which the
 * stream ignores further input.
 */
export const XZ_WORKER_SOURCE = `'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const lzma = import(workerData.lzmaUrl);
let s = null;
function post(m, transfer) { parentPort.postMessage(m, transfer || []); }
function fail(st, kind, message, size) {
  if (st.failed) return;
  st.failed = true;
  post({ t: 'error', gen: st.gen, kind, message, size });
  if (st.xz) { st.xz.removeAllListeners('data'); st.xz.on('error', () => {}); st.xz.destroy(); }
}
function collect(st, b) {
  if (st.failed) return;
  const at = st.outSize;
  st.outSize += b.length;
  if (st.outSize > st.limit) return fail(st, 'too-large', 'payload exceeds ' + st.limit + ' bytes', st.outSize);
  if (st.out !== null && st.outSize <= st.out.length && st.overflow.length === 0) { st.out.set(b, at); return; }
  if (st.out !== null && st.overflow.length === 0) {
    // Past the preallocated buffer: keep the rest in chunks (copied: liblzma reuses nothing, but be safe).
    const fit = Math.max(0, st.out.length - at);
    if (fit > 0) st.out.set(b.subarray(0, fit), at);
    st.overflow.push(new Uint8Array(b.subarray(fit)));
    st.spill = at + fit;
    return;
  }
  st.overflow.push(new Uint8Array(b));
}
async function handle(m) {
  if (m.t === 'start') {
    if (s && s.xz) { s.xz.removeAllListeners('data'); s.xz.on('error', () => {}); s.xz.destroy(); }
    const { createUnxz } = await lzma;
    const st = { gen: m.gen, out: m.sab ? new Uint8Array(m.sab) : null, outSize: 0, overflow: [], spill: 0, limit: m.limit, failed: false, xz: null };
    st.xz = createUnxz({ chunkSize: m.chunkSize });
    st.xz.on('data', (b) => collect(st, b));
    st.xz.on('error', (err) => fail(st, 'xz', String(err && err.message)));
    st.ended = new Promise((resolve) => { st.xz.once('end', resolve); st.xz.once('close', resolve); st.xz.once('error', resolve); });
    s = st;
    return;
  }
  const st = s;
  if (st === null || st.gen !== m.gen) return;
  if (m.t === 'write') {
    if (st.failed) return post({ t: 'ack', gen: st.gen, n: m.bytes.length });
    const n = m.bytes.length;
    if (st.xz.write(Buffer.from(m.bytes.buffer, m.bytes.byteOffset, m.bytes.byteLength))) return post({ t: 'ack', gen: st.gen, n });
    await new Promise((resolve) => {
      const done = () => { st.xz.off('drain', done); st.xz.off('close', done); st.xz.off('error', done); resolve(); };
      st.xz.on('drain', done); st.xz.on('close', done); st.xz.on('error', done);
    });
    return post({ t: 'ack', gen: st.gen, n });
  }
  if (m.t === 'end') {
    if (!st.failed) { st.xz.end(); await st.ended; }
    if (st.failed) return;
    const overflow = st.overflow;
    post({ t: 'end', gen: st.gen, outSize: st.outSize, spill: st.overflow.length > 0 ? st.spill : st.outSize, overflow }, overflow.map((c) => c.buffer));
    st.overflow = [];
    return;
  }
  if (m.t === 'destroy') {
    st.failed = true;
    if (st.xz) { st.xz.removeAllListeners('data'); st.xz.on('error', () => {}); st.xz.destroy(); }
    s = null;
  }
}
let chain = Promise.resolve();
parentPort.on('message', (m) => { chain = chain.then(() => handle(m)).catch((err) => post({ t: 'error', gen: m.gen, kind: 'xz', message: String(err && err.message) })); });
`;
