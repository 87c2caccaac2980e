/** PriorityLimiter: the concurrency bound, urgent tasks ahead of queued ones, FIFO within a priority, slots freed on failure. */
import { expect, test } from 'vitest';
import { PriorityLimiter } from '../src/pull/PriorityLimiter.js';

const deferred = () => {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
};

test('at most `concurrency` run; urgent tasks overtake queued normal ones; FIFO within a priority', async () => {
  const limiter = new PriorityLimiter(2);
  const started: string[] = [];
  let running = 0;
  let peak = 0;
  const gates = new Map<string, ReturnType<typeof deferred>>();
  const task = (name: string) => () => {
    started.push(name);
    running++;
    peak = Math.max(peak, running);
    const g = deferred();
    gates.set(name, g);
    return g.promise.then(() => {
      running--;
      return name;
    });
  };
  const all = [
    limiter.run(task('n1')),
    limiter.run(task('n2')),
    limiter.run(task('n3')),
    limiter.run(task('n4')),
    limiter.run(task('u1'), true),
    limiter.run(task('u2'), true),
  ];
  await Promise.resolve();
  expect(started).toEqual(['n1', 'n2']);
  expect(limiter.pending).toBe(4);
  const finish = async (name: string) => {
    gates.get(name)?.resolve();
    await new Promise((r) => setImmediate(r));
  };
  await finish('n1');
  await finish('n2');
  expect(started).toEqual(['n1', 'n2', 'u1', 'u2']);
  await finish('u1');
  await finish('u2');
  await finish('n3');
  await finish('n4');
  expect(started).toEqual(['n1', 'n2', 'u1', 'u2', 'n3', 'n4']);
  expect(await Promise.all(all)).toEqual(['n1', 'n2', 'n3', 'n4', 'u1', 'u2']);
  expect(peak).toBe(2);
  expect(limiter.pending).toBe(0);
});

test('a failing task frees its slot and its error reaches the caller', async () => {
  const limiter = new PriorityLimiter(1);
  const failing = limiter.run(() => Promise.reject(new Error('boom')));
  const next = limiter.run(() => Promise.resolve('next'));
  await expect(failing).rejects.toThrow('boom');
  expect(await next).toBe('next');
  // The slot is free again: a new task runs at once.
  let ran = false;
  await limiter.run(async () => {
    ran = true;
  });
  expect(ran).toBe(true);
});
