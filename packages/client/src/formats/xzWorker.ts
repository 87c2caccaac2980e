/**
 * Worker thread that decodes xz streams with the WebAssembly decoder (xz-decompress: XZ Embedded
 * compiled to WebAssembly; portable, nothing compiled at install). Started by XzWorkerStream; one
 * stream at a time; protocol in xzWorkerProtocol.ts. Output goes straight into the caller's
 * SharedArrayBuffer through an {@link XzOutputSink}, so the caller's thread only forwards input.
 *
 * The decoder pulls its input from a ReadableStream fed by `write` messages; each is acknowledged
 * when the decoder takes it, which gives the caller backpressure. Concatenated streams decode as
 * one; input left once the decoder ended is refused ("data after the end of the xz stream"), as is
 * input that ends before it does.
 */
import { parentPort } from 'node:worker_threads';
import xzDecompress from 'xz-decompress';
// `.ts` specifiers (rewritten to `.js` in the build): run from the sources, as the tests do, this
// file is loaded by Node.js itself (type stripping), which does not map `.js` to `.ts`.
import { XzOutputSink, type XzStreamError } from './xzOutput.ts';
import type { XzWorkerReply, XzWorkerRequest } from './xzWorkerProtocol.ts';

interface Stream {
  gen: number;
  sink: XzOutputSink;
  queue: Uint8Array[];
  inputEnded: boolean;
  /** Wakes the input source waiting for a `write` or the `end`. */
  wake: (() => void) | null;
  failed: boolean;
  /** Resolves when the decoder's output ended (or failed). */
  done: Promise<void>;
  reader: ReadableStreamDefaultReader<Uint8Array>;
}

const port = parentPort;
if (port === null) throw new Error('xzWorker.ts runs as a worker thread');
let current: Stream | null = null;

function post(m: XzWorkerReply, transfer: ArrayBuffer[] = []): void {
  port?.postMessage(m, transfer);
}

function fail(st: Stream, err: XzStreamError): void {
  if (st.failed) return;
  st.failed = true;
  post({ t: 'error', gen: st.gen, ...err });
  void st.reader.cancel().catch(() => undefined);
}

function start(gen: number, sab: SharedArrayBuffer | null, limit: number): Stream {
  const st = { gen, sink: new XzOutputSink(sab, limit), queue: [], inputEnded: false, wake: null, failed: false } as unknown as Stream;
  const input = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        while (st.queue.length === 0 && !st.inputEnded) await new Promise<void>((resolve) => (st.wake = resolve));
        const bytes = st.queue.shift();
        if (bytes === undefined) return controller.close();
        controller.enqueue(bytes);
        post({ t: 'ack', gen, n: bytes.length });
      },
    },
    { highWaterMark: 0 },
  );
  st.reader = new xzDecompress.XzReadableStream(input).getReader();
  st.done = (async () => {
    try {
      for (;;) {
        const { done, value } = await st.reader.read();
        if (done) break;
        if (!st.failed && !st.sink.write(value)) return fail(st, st.sink.tooLarge());
      }
      // The stream ended: whatever input is still to come must be stream padding (zero bytes).
      while (!st.inputEnded && !st.failed) await new Promise<void>((resolve) => (st.wake = resolve));
      if (st.queue.some((b) => b.some((x) => x !== 0))) fail(st, { kind: 'xz', message: 'data after the end of the xz stream' });
    } catch (err) {
      fail(st, { kind: 'xz', message: reason(err, st.inputEnded) });
    }
  })();
  return st;
}

/** XZ Embedded's status codes (xz.h), as the decoder reports them ("… failed with error code 7"). */
const XZ_ERRORS: Record<string, string> = {
  '2': 'unsupported integrity check',
  '3': 'out of memory',
  '4': 'memory limit reached',
  '5': 'not xz data',
  '6': 'unsupported options',
  '7': 'compressed data is corrupt',
};

function reason(err: unknown, inputEnded: boolean): string {
  const message = String((err as Error)?.message ?? err);
  const code = /error code (\d+)/.exec(message)?.[1];
  if (code !== undefined && XZ_ERRORS[code] !== undefined) return XZ_ERRORS[code];
  // No progress possible (code 8), or the decoder asked for input after the last byte.
  if (inputEnded) return 'xz stream truncated (unexpected end of input)';
  return message;
}

async function handle(m: XzWorkerRequest): Promise<void> {
  if (m.t === 'start') {
    if (current !== null) {
      current.failed = true;
      void current.reader.cancel().catch(() => undefined);
    }
    current = start(m.gen, m.sab, m.limit);
    return;
  }
  const st = current;
  if (st === null || st.gen !== m.gen) return;
  if (m.t === 'write') {
    if (st.failed) return post({ t: 'ack', gen: st.gen, n: m.bytes.length });
    st.queue.push(m.bytes);
  } else if (m.t === 'end') {
    st.inputEnded = true;
  } else {
    st.failed = true;
    st.inputEnded = true;
    void st.reader.cancel().catch(() => undefined);
    current = null;
  }
  const wake = st.wake;
  st.wake = null;
  wake?.();
  if (m.t === 'end') {
    await st.done;
    if (st.failed) return;
    const out = st.sink.take();
    post(
      { t: 'end', gen: st.gen, ...out },
      out.overflow.map((c) => c.buffer as ArrayBuffer),
    );
  }
}

let chain = Promise.resolve();
port.on('message', (m: XzWorkerRequest) => {
  chain = chain
    .then(() => handle(m))
    .catch((err: unknown) => post({ t: 'error', gen: m.gen, kind: 'xz', message: String((err as Error)?.message ?? err) }));
});
