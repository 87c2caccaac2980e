/**
 * A signal that follows `signal`, for work that runs many concurrent requests (and waits) on
 * one caller's signal: they listen on the linked one, which has no listener limit, and the
 * caller's signal carries a single listener, removed by `dispose()`. Without it, Node prints a
 * MaxListenersExceededWarning once more than 10 requests are in flight on the caller's signal.
 * Every listener added to the linked signal is removed when its request or wait ends, so the
 * missing limit hides no leak.
 */
import { setMaxListeners } from 'node:events';

export interface LinkedSignal {
  signal: AbortSignal | undefined;
  dispose(): void;
}

export function linkSignal(signal: AbortSignal | undefined): LinkedSignal {
  if (signal === undefined) return { signal: undefined, dispose: () => {} };
  const ac = new AbortController();
  setMaxListeners(0, ac.signal);
  if (signal.aborted) {
    ac.abort(signal.reason);
    return { signal: ac.signal, dispose: () => {} };
  }
  const onAbort = () => ac.abort(signal.reason);
  signal.addEventListener('abort', onAbort, { once: true });
  return { signal: ac.signal, dispose: () => signal.removeEventListener('abort', onAbort) };
}
