/** A response body's wire chunks, each wait bounded by a stall timer and the attempt's abort. */
import type { AttemptAbort } from './AttemptAbort.js';

/** `onStall` runs when one chunk takes longer than `stallMs` (0: never); `onChunk` sees each chunk's size first. */
export async function* readWire(
  body: AsyncIterable<Uint8Array>,
  abort: AttemptAbort,
  stallMs: number,
  onStall: () => void,
  onChunk: (bytes: number) => void,
): AsyncGenerator<Uint8Array> {
  const it = body[Symbol.asyncIterator]();
  let ended = false;
  // One timer for the whole body, re-armed for each wait; it counts only while waiting (a slow
  // consumer between chunks is not a stall).
  let waiting = false;
  const timer = stallMs > 0 ? setTimeout(() => waiting && onStall(), stallMs) : undefined;
  try {
    for (;;) {
      let r: IteratorResult<Uint8Array>;
      waiting = true;
      timer?.refresh();
      try {
        r = await abort.race(it.next());
      } finally {
        waiting = false;
      }
      if (r.done === true) {
        ended = true;
        return;
      }
      onChunk(r.value.length);
      yield r.value;
    }
  } finally {
    clearTimeout(timer);
    if (!ended) it.return?.()?.catch(() => {});
  }
}
