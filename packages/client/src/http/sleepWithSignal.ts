/** The default `sleep`: a timer that rejects with ERR_ABORTED as soon as `signal` aborts. */
import { abortError } from '../errors/abortError.js';

export function sleepWithSignal(ms: number, { signal }: { signal?: AbortSignal | undefined } = {}): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortError('backoff', {}, signal));
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortError('backoff', {}, signal));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
