/**
 * One xz stream decoded in a worker thread (see xzWorkerSource.ts) into a SharedArrayBuffer the
 * caller owns: the caller's event loop only forwards compressed bytes. Workers are pooled: a
 * finished stream hands its worker to the next one; an idle worker is unref'd and ends after a
 * few seconds without work.
 *
 * `push()` copies the bytes (they may be a view of a pooled network buffer) into ~128 KiB
 * messages and returns a promise while more than 2 MiB are not yet taken by liblzma
 * (backpressure). `finish()` ends the input and resolves with the output's extent, or rejects
 * with an {@link XzWorkerError}.
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { XZ_WORKER_SOURCE } from './xzWorkerSource.js';

const MESSAGE_BYTES = 128 * 1024;
const MAX_UNACKED = 2 * 1024 * 1024;
const IDLE_MS = 5000;

export interface XzWorkerError {
  kind: 'xz' | 'too-large';
  message: string;
  /** Output bytes reached, for 'too-large'. */
  size?: number | undefined;
}

export interface XzWorkerOutput {
  /** Output bytes in all. */
  outSize: number;
  /** Bytes in the shared buffer (all of them unless it overflowed). */
  inShared: number;
  /** The rest, in order. */
  overflow: Uint8Array[];
}

type Reply =
  | { t: 'ack'; gen: number; n: number }
  | { t: 'end'; gen: number; outSize: number; spill: number; overflow: Uint8Array[] }
  | { t: 'error'; gen: number; kind: 'xz' | 'too-large'; message: string; size?: number };

interface PooledWorker {
  worker: Worker;
  stream: XzWorkerStream | null;
  idleTimer: ReturnType<typeof setTimeout> | null;
  /** Shared with the worker: `[IN_CALL]` is 1 while it is inside liblzma, `[STOP]` asks it to park. */
  control: Int32Array;
}

const IN_CALL = 0;
const STOP = 1;
/** Longest wait for a worker to leave liblzma before it is terminated anyway (one call takes a few ms). */
const STOP_WAIT_MS = 2000;

const live = new Set<PooledWorker>();
let exitHookInstalled = false;

/**
 * Parks the worker outside liblzma, so that terminating it is safe: a worker thread terminated
 * while inside node-liblzma's synchronous `codeSync` aborts the whole process ("FATAL ERROR:
 * Error::ThrowAsJavaScriptException napi_throw"), and Node.js terminates every worker when the
 * process exits. Synchronous: also runs from the process's 'exit' event.
 */
function park(pooled: PooledWorker): void {
  const c = pooled.control;
  Atomics.store(c, STOP, 1);
  const until = Date.now() + STOP_WAIT_MS;
  while (Atomics.load(c, IN_CALL) === 1 && Date.now() < until) Atomics.wait(c, IN_CALL, 1, 50);
}

const idle: PooledWorker[] = [];
let nextGen = 1;
let lzmaUrl: string | null = null;

function spawn(): PooledWorker {
  lzmaUrl ??= pathToFileURL(createRequire(import.meta.url).resolve('node-liblzma')).href;
  const control = new Int32Array(new SharedArrayBuffer(8));
  // No inherited options: the source is CommonJS (a parent's `--input-type=module` would make it
  // a module), and the parent's V8 / process flags are not valid there (ERR_WORKER_INVALID_EXEC_ARGV).
  const execArgv: string[] = [];
  const worker = new Worker(XZ_WORKER_SOURCE, { eval: true, execArgv, workerData: { lzmaUrl, control }, name: 'flathub-fetch xz' });
  const pooled: PooledWorker = { worker, stream: null, idleTimer: null, control };
  live.add(pooled);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const p of live) park(p);
    });
  }
  worker.on('message', (m: Reply) => pooled.stream?.onReply(m));
  const died = (why: string) => {
    live.delete(pooled);
    const i = idle.indexOf(pooled);
    if (i !== -1) idle.splice(i, 1);
    pooled.stream?.onReply({ t: 'error', gen: pooled.stream.gen, kind: 'xz', message: why });
    pooled.stream = null;
  };
  worker.on('error', (err) => died(`xz worker failed: ${err.message}`));
  worker.on('exit', (code) => died(`xz worker exited with code ${code}`));
  return pooled;
}

function acquire(stream: XzWorkerStream): PooledWorker {
  const pooled = idle.pop() ?? spawn();
  if (pooled.idleTimer !== null) clearTimeout(pooled.idleTimer);
  pooled.idleTimer = null;
  pooled.stream = stream;
  pooled.worker.ref();
  return pooled;
}

function release(pooled: PooledWorker): void {
  pooled.stream = null;
  pooled.worker.unref();
  idle.push(pooled);
  pooled.idleTimer = setTimeout(() => {
    const i = idle.indexOf(pooled);
    if (i === -1) return;
    idle.splice(i, 1);
    live.delete(pooled);
    park(pooled);
    void pooled.worker.terminate();
  }, IDLE_MS);
  pooled.idleTimer.unref();
}

export class XzWorkerStream {
  readonly gen = nextGen++;
  #pooled: PooledWorker | null;
  #pending: Uint8Array[] = [];
  #pendingBytes = 0;
  #unacked = 0;
  #error: XzWorkerError | null = null;
  #wake: (() => void) | null = null;
  #end: { resolve(o: XzWorkerOutput): void; reject(e: XzWorkerError): void } | null = null;

  /**
   * @param shared where the output goes first (or null: all in overflow chunks).
   * @param stream use node-liblzma's streaming decoder even when the direct one is available.
   */
  constructor(shared: SharedArrayBuffer | null, limit: number, chunkSize: number, stream = false) {
    this.#pooled = acquire(this);
    this.#pooled.worker.postMessage({ t: 'start', gen: this.gen, sab: shared, limit, chunkSize, stream });
  }

  /** The decoder's error, once it reported one (input is then ignored). */
  get error(): XzWorkerError | null {
    return this.#error;
  }

  push(bytes: Uint8Array): Promise<void> | undefined {
    if (this.#error !== null || this.#pooled === null) return undefined;
    this.#pending.push(bytes);
    this.#pendingBytes += bytes.length;
    if (this.#pendingBytes >= MESSAGE_BYTES) this.#flush();
    if (this.#unacked <= MAX_UNACKED) return undefined;
    return new Promise<void>((resolve) => {
      this.#wake = resolve;
    });
  }

  finish(): Promise<XzWorkerOutput> {
    if (this.#error !== null) return Promise.reject(this.#error);
    if (this.#pooled === null) return Promise.reject({ kind: 'xz', message: 'stream destroyed' } satisfies XzWorkerError);
    this.#flush();
    return new Promise<XzWorkerOutput>((resolve, reject) => {
      this.#end = { resolve, reject };
      this.#pooled?.worker.postMessage({ t: 'end', gen: this.gen });
    });
  }

  /** Abandons the stream (a pending `finish()` rejects) and returns the worker to the pool. */
  destroy(): void {
    const pooled = this.#pooled;
    if (pooled === null) return;
    this.#pooled = null;
    this.#pending = [];
    this.#wake?.();
    this.#wake = null;
    const end = this.#end;
    this.#end = null;
    end?.reject({ kind: 'xz', message: 'stream destroyed' });
    if (pooled.stream === this) {
      pooled.worker.postMessage({ t: 'destroy', gen: this.gen });
      release(pooled);
    }
  }

  /** @internal a reply from the worker. */
  onReply(m: Reply): void {
    if (m.gen !== this.gen) return;
    if (m.t === 'ack') {
      this.#unacked -= m.n;
      if (this.#unacked <= MAX_UNACKED) {
        const wake = this.#wake;
        this.#wake = null;
        wake?.();
      }
    } else if (m.t === 'error') {
      this.#error ??= { kind: m.kind, message: m.message, size: m.size };
      this.#wake?.();
      this.#wake = null;
      this.#end?.reject(this.#error);
      this.#end = null;
    } else if (m.t === 'end') {
      const end = this.#end;
      this.#end = null;
      this.destroy();
      end?.resolve({ outSize: m.outSize, inShared: m.spill, overflow: m.overflow });
    }
  }

  #flush(): void {
    if (this.#pendingBytes === 0 || this.#pooled === null) return;
    const bytes = new Uint8Array(this.#pendingBytes);
    let at = 0;
    for (const c of this.#pending) {
      bytes.set(c, at);
      at += c.length;
    }
    this.#pending = [];
    this.#unacked += this.#pendingBytes;
    this.#pendingBytes = 0;
    this.#pooled.worker.postMessage({ t: 'write', gen: this.gen, bytes }, [bytes.buffer]);
  }
}
