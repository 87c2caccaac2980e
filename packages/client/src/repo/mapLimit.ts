/**
 * Runs `fn` over `items` with at most `limit` calls in flight. Stops starting new calls after
 * the first failure and rejects with it once the running calls have settled (so callers can
 * clean up without racing the stragglers).
 */
export async function mapLimit<T>(items: Iterable<T>, limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  const it = items[Symbol.iterator]();
  let failed = false;
  let error: unknown;
  const lane = async (): Promise<void> => {
    while (!failed) {
      const next = it.next();
      if (next.done) return;
      try {
        await fn(next.value);
      } catch (err) {
        if (!failed) error = err;
        failed = true;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, limit) }, lane));
  if (failed) throw error;
}
