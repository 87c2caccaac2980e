/**
 * Source of an xz decoding worker (run with `new Worker(src, { eval: true, workerData })`, so it
 * works the same from `src/` and `dist/`). `workerData.lzmaUrl` is the file URL of node-liblzma,
 * resolved by the caller. The worker decodes on its own thread, synchronously, with liblzma writing
 * straight into the caller's SharedArrayBuffer: node-liblzma's native handle (`Unxz#lzma`, whose
 * `codeSync(action, in, inOffset, inLength, out, outOffset)` is one `lzma_code` call) is used
 * when it is there; otherwise (another node-liblzma, or `stream` in the start message) its
 * streaming decoder runs here, on libuv's thread pool, and its output is copied in. The direct
 * path saves the thread-pool round trip and a copy per output buffer (an 11 MB part: 0.37 s
 * instead of 0.40 s) and keeps the work on a thread of its own, so the pull's other threads
 * (HTTP, object writes) do not queue behind it on the shared pool. A worker terminated inside
 * that native call aborts the process, so the caller parks it first (`workerData.control`).
 *
 * Messages, handled strictly in order; every reply carries the `gen` of the `start` it belongs to:
 * - `{ t: 'start', gen, sab, limit, chunkSize, stream }`: a new stream (`stream`: use the streaming decoder); output goes to `sab` (a
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
// The direct path: lzma_code over the input until it is consumed (or, at the end, until the
// stream ends), output into the shared buffer and, past its end, into chunks of chunkSize.
const RUN = 0, FINISH = 3, OK = 0, STREAM_END = 1;
// workerData.control: [0] is 1 while inside liblzma; [1] set by the caller asks this thread to
// park (never to enter liblzma again), so that terminating it cannot land inside a native call.
const control = workerData.control;
function lzmaCall(d, action, input, inOff, inLen, target, off) {
  if (Atomics.load(control, 1) === 1) for (;;) Atomics.wait(control, 1, 1);
  Atomics.store(control, 0, 1);
  try {
    return d.native.codeSync(action, input, inOff, inLen, target, off);
  } finally {
    Atomics.store(control, 0, 0);
    Atomics.notify(control, 0);
  }
}
function code(st, input, finish) {
  const d = st.direct;
  if (st.failed || d.ended) {
    if (!st.failed && input.length > 0) fail(st, 'xz', 'data after the end of the xz stream');
    return;
  }
  let inOff = 0;
  let inLen = input.length;
  for (;;) {
    let target;
    let off;
    if (d.out !== null && st.outSize < d.out.length && st.overflow.length === 0 && d.spare === null) { target = d.out; off = st.outSize; }
    else {
      if (d.spare === null || d.spareUsed === d.spare.length) {
        if (d.spare !== null) st.overflow.push(new Uint8Array(d.spare.buffer, d.spare.byteOffset, d.spareUsed));
        else st.spill = st.outSize;
        d.spare = Buffer.allocUnsafeSlow(d.chunkSize);
        d.spareUsed = 0;
      }
      target = d.spare; off = d.spareUsed;
    }
    const [status, inLeft, outLeft] = lzmaCall(d, finish ? FINISH : RUN, input, inOff, inLen, target, off);
    const produced = target.length - off - outLeft;
    st.outSize += produced;
    if (target === d.spare) d.spareUsed += produced;
    const consumed = inLen - inLeft;
    inOff += consumed;
    inLen = inLeft;
    if (status !== OK && status !== STREAM_END) return fail(st, 'xz', String(st.xz._createLZMAError(status).message));
    if (st.outSize > st.limit) return fail(st, 'too-large', 'payload exceeds ' + st.limit + ' bytes', st.outSize);
    if (status === STREAM_END) {
      d.ended = true;
      if (inLen > 0) fail(st, 'xz', 'data after the end of the xz stream');
      break;
    }
    // Room left in the output: liblzma wants more input (or, at the end, the input was cut short).
    if (outLeft > 0 && inLen === 0) {
      if (finish) fail(st, 'xz', 'xz stream truncated (unexpected end of input)');
      break;
    }
    if (produced === 0 && consumed === 0) return fail(st, 'xz', 'liblzma made no progress');
  }
  if ((finish || st.failed) && d.spare !== null && d.spareUsed > 0) {
    st.overflow.push(new Uint8Array(d.spare.buffer, d.spare.byteOffset, d.spareUsed));
    d.spare = null;
  }
}
async function handle(m) {
  if (m.t === 'start') {
    if (s && s.xz) { s.xz.removeAllListeners('data'); s.xz.on('error', () => {}); s.xz.destroy(); }
    const { createUnxz } = await lzma;
    const st = { gen: m.gen, out: m.sab ? new Uint8Array(m.sab) : null, outSize: 0, overflow: [], spill: 0, limit: m.limit, failed: false, xz: null, direct: null };
    st.xz = createUnxz({ chunkSize: m.chunkSize });
    const native = st.xz.lzma;
    if (!m.stream && native && typeof native.codeSync === 'function') {
      st.direct = { native, out: m.sab ? Buffer.from(m.sab) : null, spare: null, spareUsed: 0, chunkSize: m.chunkSize, ended: false };
      s = st;
      return;
    }
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
    if (st.direct) { code(st, Buffer.from(m.bytes.buffer, m.bytes.byteOffset, m.bytes.byteLength), false); return post({ t: 'ack', gen: st.gen, n }); }
    if (st.xz.write(Buffer.from(m.bytes.buffer, m.bytes.byteOffset, m.bytes.byteLength))) return post({ t: 'ack', gen: st.gen, n });
    await new Promise((resolve) => {
      const done = () => { st.xz.off('drain', done); st.xz.off('close', done); st.xz.off('error', done); resolve(); };
      st.xz.on('drain', done); st.xz.on('close', done); st.xz.on('error', done);
    });
    return post({ t: 'ack', gen: st.gen, n });
  }
  if (m.t === 'end') {
    if (st.direct) code(st, Buffer.alloc(0), true);
    else if (!st.failed) { st.xz.end(); await st.ended; }
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
