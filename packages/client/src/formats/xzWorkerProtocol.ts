/**
 * Messages between XzWorkerStream (the caller's thread) and xzWorker.ts (the worker), typed on
 * both sides. Handled strictly in order; every reply carries the `gen` of the `start` it answers.
 */
import type { XzStreamError } from './xzOutput.js';

export type XzWorkerRequest =
  /** A new stream: output into `sab` (or only overflow chunks), more than `limit` bytes in all is an error. */
  | { t: 'start'; gen: number; sab: SharedArrayBuffer | null; limit: number }
  /** Compressed input (transferred). Answered by `ack` once the decoder has taken it. */
  | { t: 'write'; gen: number; bytes: Uint8Array }
  /** End of input: answered by `end` after the last output, or by `error`. */
  | { t: 'end'; gen: number }
  /** Abandon the stream. */
  | { t: 'destroy'; gen: number };

export type XzWorkerReply =
  | { t: 'ack'; gen: number; n: number }
  /** The output's extent; the overflow chunks are transferred. */
  | { t: 'end'; gen: number; outSize: number; inShared: number; overflow: Uint8Array[] }
  | ({ t: 'error'; gen: number } & XzStreamError);
