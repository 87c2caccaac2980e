/**
 * GarbageBudget's schedule, with the thread's real ArrayBuffer accounting: buffers are allocated
 * and kept, and a counting stand-in for V8's `gc` records the ArrayBuffer bytes each collection
 * would have been asked at (it frees nothing, so each call marks a new base).
 */
import { afterEach, expect, test } from 'vitest';
import { GarbageBudget, readThreadMemory } from '../src/formats/garbageBudget.js';

const MiB = 1 << 20;
const g = globalThis as { gc?: unknown };
const saved = Object.getOwnPropertyDescriptor(globalThis, 'gc');

afterEach(() => {
  if (saved === undefined) delete g.gc;
  else Object.defineProperty(globalThis, 'gc', saved);
});

/**
 * Allocates `total` bytes in 64 KiB buffers (kept), noting each; for each collection, the bytes
 * allocated since the previous one. (Buffers freed elsewhere in this thread lower the budget's
 * base, so a collection can come later than its budget, never earlier.)
 */
function run(budget: GarbageBudget, total: number): { allocated: number[]; heapUsed: number } {
  const held: Uint8Array[] = [];
  let since = 0;
  const allocated: number[] = [];
  g.gc = () => {
    allocated.push(since);
    since = 0;
  };
  budget.check(); // the base: what is live now
  allocated.length = 0;
  const heapUsed = readThreadMemory().heapUsed;
  for (let n = 0; n < total; n += 64 * 1024) {
    const b = new Uint8Array(64 * 1024);
    held.push(b);
    since += b.length;
    budget.note(b.length);
  }
  expect(held.length).toBe(total / (64 * 1024));
  return { allocated, heapUsed };
}

test('a fixed budget: one collection per budget of buffers made, checked every eighth of it', () => {
  const { allocated } = run(new GarbageBudget(4 * MiB), 20 * MiB);
  expect(allocated.length).toBeGreaterThanOrEqual(4);
  expect(allocated.length).toBeLessThanOrEqual(5);
  for (const bytes of allocated) expect(bytes).toBeGreaterThanOrEqual(4 * MiB);
});

test("a bounded budget follows the thread's heap: half of what it uses, within [min, max]", () => {
  // Bounds far apart: the budget is half the live heap (tens of MB in a test worker).
  const free = run(new GarbageBudget(MiB, 1024 * MiB), 160 * MiB);
  expect(free.heapUsed).toBeGreaterThan(8 * MiB);
  expect(free.allocated.length).toBeGreaterThan(0);
  // (A quarter: the heap may shrink in a collection of V8's own during the loop.)
  expect(free.allocated.length).toBeLessThanOrEqual(Math.ceil((160 * MiB) / (free.heapUsed / 4)));
  for (const bytes of free.allocated) expect(bytes).toBeGreaterThan(free.heapUsed / 4);
  // A heap larger than twice the maximum: the maximum.
  const capped = run(new GarbageBudget(MiB, 2 * MiB), 16 * MiB);
  expect(capped.allocated.length).toBeGreaterThanOrEqual(6);
  expect(capped.allocated.length).toBeLessThanOrEqual(8);
  for (const bytes of capped.allocated) expect(bytes).toBeGreaterThanOrEqual(2 * MiB);
  // A heap smaller than twice the minimum: the minimum.
  const floored = run(new GarbageBudget(1024 * MiB, 2048 * MiB), 64 * MiB);
  expect(floored.allocated).toEqual([]);
});

test("it looks at the thread's memory every eighth of its current budget, not of the smallest one", () => {
  // The budget follows the heap (half of it): a look every sixteenth of the heap's size.
  let looks = 0;
  const budget = new GarbageBudget(MiB, 1024 * MiB, () => {
    looks++;
    return readThreadMemory();
  });
  const { allocated, heapUsed } = run(budget, 64 * MiB);
  const step = heapUsed / 16;
  // An eighth of the 1 MiB floor would be a look every 128 KiB: 512 looks.
  expect(heapUsed).toBeGreaterThan(4 * MiB);
  expect(looks).toBeLessThanOrEqual((2 * 64 * MiB) / step + allocated.length + 2);
});

test('without a collector exposed it does nothing', () => {
  const budget = new GarbageBudget(MiB);
  delete g.gc;
  for (let i = 0; i < 64; i++) budget.note(MiB);
  expect(g.gc).toBeUndefined();
});
