import { constants, type ZlibOptions } from 'node:zlib';

/** Above this, a one-shot inflate's output is gathered in chunks of this size instead of allocated whole up front. */
const WHOLE_OUTPUT_LIMIT = 4 << 20;

/**
 * Options for a one-shot raw inflate (`inflateRawSync`) of a payload that must inflate to
 * exactly `size` bytes: no more than `size` is produced (ERR_BUFFER_TOO_LARGE), and the output
 * buffer is sized for the whole result. Node's default chunk (16 KiB) would hold every small
 * object in a 16 KiB backing store and gather larger ones in chunks copied into a new buffer at
 * the end: per object, garbage several times its size that V8 frees only at its next full
 * collection. One byte more than `size` lets zlib report the end of the stream without a
 * second output buffer; small results come out of Node's shared buffer pool.
 */
export function exactInflateOptions(size: number): ZlibOptions {
  return {
    maxOutputLength: Math.max(size, 1),
    finishFlush: constants.Z_SYNC_FLUSH,
    chunkSize: Math.max(constants.Z_MIN_CHUNK, Math.min(size + 1, WHOLE_OUTPUT_LIMIT)),
  };
}
