/**
 * Bounds the dead ArrayBuffers (Node.js Buffers) a thread keeps resident.
 *
 * V8 frees a dead ArrayBuffer's memory only in a garbage collection, and it schedules those by
 * its JavaScript heap and a generous allowance of memory allocated outside it (tens of MB per
 * isolate, whatever the heap's size). A thread that allocates mostly buffers — a content worker
 * inflating and writing objects, the pull's thread receiving bodies — so keeps that much
 * garbage resident, in each thread. Where the embedder exposes V8's collector (`globalThis.gc`,
 * as the CLI does), `GarbageBudget` runs a full collection once the thread's ArrayBuffer bytes
 * have grown by `budget` since the last one: garbage stays within the budget, and a collection
 * costs a small fraction of the work that made it. Without the collector exposed it does
 * nothing and V8's own schedule applies.
 */
import { getHeapStatistics } from 'node:v8';
import { isMainThread } from 'node:worker_threads';

/** What a budget reads of its thread: the JavaScript heap in use, and memory held outside it (ArrayBuffers, mostly). */
export interface ThreadMemory {
  heapUsed: number;
  external: number;
}

/**
 * V8's figures for this thread's isolate. Not `process.memoryUsage()`: that also reads the
 * process's resident size from /proc, which waits for the address space's lock while other
 * threads fault pages in and map memory (≈ 200 µs a call in a busy pull, against a few here).
 */
export function readThreadMemory(): ThreadMemory {
  const s = getHeapStatistics();
  return { heapUsed: s.used_heap_size, external: s.external_memory };
}

export class GarbageBudget {
  readonly #min: number;
  readonly #max: number;
  readonly #read: () => ThreadMemory;
  /** Noted bytes between looks: an eighth of the budget found at the last look. */
  #step: number;
  /** Bytes outside the heap after the last collection, or when the budget began (what was live then). */
  #base: number;
  /** Bytes noted since the last look at the thread's figures. */
  #noted = 0;

  /**
   * The thread may gain half its live JavaScript heap in buffer bytes before a collection,
   * within `[min, max]` bytes: a full collection costs in proportion to the heap it traces, so
   * each one then frees garbage in proportion to its cost (a small heap collects more often, and
   * keeps less garbage). `min === max` is a fixed budget. `read` gives the thread's figures.
   */
  constructor(min: number, max = min, read: () => ThreadMemory = readThreadMemory) {
    this.#min = min;
    this.#max = Math.max(min, max);
    this.#read = read;
    this.#base = read().external;
    this.#step = Math.max(1, min >> 3);
  }

  /**
   * Records `bytes` allocated in buffers; looks at the thread's total every eighth of its current
   * budget (a look asks V8 for the thread's figures: a few microseconds).
   */
  note(bytes: number): void {
    this.#noted += bytes;
    if (this.#noted >= this.#step) this.check();
  }

  /** Collects if the thread's memory outside its heap grew by the budget since the last collection. */
  check(): void {
    this.#noted = 0;
    const gc = (globalThis as { gc?: unknown }).gc;
    if (typeof gc !== 'function') return;
    const { external: now, heapUsed } = this.#read();
    // Buffers freed by V8's own collections lower the base too.
    if (now < this.#base) this.#base = now;
    const budget = Math.min(this.#max, Math.max(this.#min, heapUsed >> 1));
    this.#step = Math.max(1, budget >> 3);
    if (now - this.#base < budget) return;
    gc();
    this.#base = this.#read().external;
  }
}

/**
 * This thread's budget for buffers that die soon after they are made (bodies received, a
 * decoder's output chunks once copied, a content worker's jobs): one per thread (each thread
 * has its own instance of this module), as V8's heap is. The pull's thread holds the pull's
 * state, so its budget follows its heap (4–16 MiB); a worker thread holds almost nothing between
 * jobs, collects cheaply and keeps 4 MiB at most (its buffers come from its own allocator arena,
 * resident until freed).
 */
export const threadGarbage = isMainThread ? new GarbageBudget(4 << 20, 16 << 20) : new GarbageBudget(4 << 20);
