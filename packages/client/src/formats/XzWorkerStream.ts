/**
 * One xz stream decoded by the WebAssembly decoder in a worker thread (xzWorker.ts) into a
 * SharedArrayBuffer the caller owns: the caller's event loop only forwards compressed bytes.
 * Workers are pooled: a finished stream hands its worker to the next one; an idle worker is
 * unref'd and ends after a few seconds without work. Terminating one is always safe (it runs no
 * native code).
 *
 * `push()` copies the bytes (they may be a view of a pooled network buffer) into ~128 KiB
 * messages and returns a promise while more than 2 MiB are not yet taken by the decoder
 * (backpressure). `finish()` ends the input and resolves with the output's extent, or rejects
 * with an {@link XzStreamError}.
 */
import { Worker } from 'node:worker_threads';
import type { XzOutput, XzStream, XzStreamError } from './xzOutput.js';
import type { XzWorkerReply, XzWorkerRequest } from './xzWorkerProtocol.js';

const MESSAGE_BYTES = 128 * 1024;
const MAX_UNACKED = 2 * 1024 * 1024;
const IDLE_MS = 5000;

interface PooledWorker {
  worker: Worker;
  stream: XzWorkerStream | null;
  idleTimer: ReturnType<typeof setTimeout> | null;
}

const idle: PooledWorker[] = [];
let nextGen = 1;

/** The worker module beside this one: the build's `.js`, or the source's `.ts` where this runs from sources (tests). */
const WORKER_URL = new URL(import.meta.url.endsWith('.ts') ? './xzWorker.ts' : './xzWorker.js', import.meta.url);

function spawn(): PooledWorker {
  // No inherited options: the parent's V8 and process flags are not valid in a worker
  // (ERR_WORKER_INVALID_EXEC_ARGV).
  const worker = new Worker(WORKER_URL, { execArgv: [], name: 'flathub-fetch xz' });
  const pooled: PooledWorker = { worker, stream: null, idleTimer: null };
  worker.on('message', (m: XzWorkerReply) => pooled.stream?.onReply(m));
  const died = (why: string) => {
    const i = idle.indexOf(pooled);
    if (i !== -1) idle.splice(i, 1);
    if (pooled.idleTimer !== null) clearTimeout(pooled.idleTimer);
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
    void pooled.worker.terminate();
  }, IDLE_MS);
  pooled.idleTimer.unref();
}

export class XzWorkerStream implements XzStream {
  readonly gen = nextGen++;
  #pooled: PooledWorker | null;
  #pending: Uint8Array[] = [];
  #pendingBytes = 0;
  #unacked = 0;
  #error: XzStreamError | null = null;
  #wake: (() => void) | null = null;
  #end: { resolve(o: XzOutput): void; reject(e: XzStreamError): void } | null = null;

  /** @param shared where the output goes first (or null: all in overflow chunks). */
  constructor(shared: SharedArrayBuffer | null, limit: number) {
    this.#pooled = acquire(this);
    this.#post({ t: 'start', gen: this.gen, sab: shared, limit });
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

  finish(): Promise<XzOutput> {
    if (this.#error !== null) return Promise.reject(this.#error);
    if (this.#pooled === null) return Promise.reject({ kind: 'xz', message: 'stream destroyed' } satisfies XzStreamError);
    this.#flush();
    return new Promise<XzOutput>((resolve, reject) => {
      this.#end = { resolve, reject };
      this.#post({ t: 'end', gen: this.gen });
    });
  }

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
      pooled.worker.postMessage({ t: 'destroy', gen: this.gen } satisfies XzWorkerRequest);
      release(pooled);
    }
  }

  /** @internal a reply from the worker. */
  onReply(m: XzWorkerReply): void {
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
    } else {
      const end = this.#end;
      this.#end = null;
      this.destroy();
      end?.resolve({ outSize: m.outSize, inShared: m.inShared, overflow: m.overflow });
    }
  }

  #post(m: XzWorkerRequest, transfer: ArrayBuffer[] = []): void {
    this.#pooled?.worker.postMessage(m, transfer);
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
    this.#post({ t: 'write', gen: this.gen, bytes }, [bytes.buffer]);
  }
}
