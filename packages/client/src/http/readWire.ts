/** A response body's wire chunks, each wait bounded by a stall timer and an abort signal. */
import { raceSignal } from './raceSignal.js';

/** `onStall` runs when one chunk takes longer than `stallMs` (0: never); `onChunk` sees each chunk's size first. */
export async function* readWire(
  body: AsyncIterable<Uint8Array>,
  signal: AbortSignal,
  stallMs: number,
  onStall: () => void,
  onChunk: (bytes: number) => void,
): AsyncGenerator<Uint8Array> {
  const it = body[Symbol.asyncIterator]();
  let ended = false;
  try {
    for (;;) {
      const timer = stallMs > 0 ? setTimeout(onStall, stallMs) : undefined;
      let r: IteratorResult<Uint8Array>;
      try {
        r = await raceSignal(it.next(), signal, () => signal.reason);
      } finally {
        clearTimeout(timer);
      }
      if (r.done === true) {
        ended = true;
        return;
      }
      onChunk(r.value.length);
      yield r.value;
    }
  } finally {
    if (!ended) it.return?.()?.catch(() => {});
  }
}
