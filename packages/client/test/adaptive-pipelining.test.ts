/** AdaptivePipelining's rules: probation, kept-alive and pipelinable responses only, off for good after a slow first byte or a failure, per origin. */
import type { Client } from 'undici';
import { expect, test } from 'vitest';
import { AdaptivePipelining, PROBATION, SLOW_MS } from '../src/http/AdaptivePipelining.js';

// Stand-ins for undici clients: AdaptivePipelining only sets their `pipelining` depth.
const fakeClient = () => ({ pipelining: 99 }) as unknown as Client;
const A = 'http://a.example';
const B = 'http://b.example';

test('an origin pipelines after PROBATION prompt, kept-alive, pipelinable responses; its connections follow', () => {
  const p = new AdaptivePipelining(8);
  const c1 = fakeClient();
  p.addClient(A, c1);
  expect(c1.pipelining).toBe(1);
  expect(p.mayPipeline(A, true)).toBe(false);
  // Not pipelinable, or the connection closes: no credit.
  p.responded(A, false, 5, true);
  p.responded(A, true, 5, false);
  for (let i = 0; i < PROBATION - 1; i++) p.responded(A, true, 5, true);
  expect(p.depth(A)).toBe(1);
  p.responded(A, true, 5, true);
  expect(p.depth(A)).toBe(8);
  expect(c1.pipelining).toBe(8);
  expect(p.mayPipeline(A, true)).toBe(true);
  expect(p.mayPipeline(A, false)).toBe(false);
  // A connection opened later starts at the origin's depth; other origins are unaffected.
  const c2 = fakeClient();
  p.addClient(A, c2);
  expect(c2.pipelining).toBe(8);
  expect(p.depth(B)).toBe(1);
});

test('a first byte slower than SLOW_MS, or a failure, turns it off for good', () => {
  const p = new AdaptivePipelining(8);
  const c = fakeClient();
  p.addClient(A, c);
  for (let i = 0; i < PROBATION; i++) p.responded(A, true, 5, true);
  expect(c.pipelining).toBe(8);
  p.responded(A, false, SLOW_MS + 1, true);
  expect(p.depth(A)).toBe(1);
  expect(c.pipelining).toBe(1);
  for (let i = 0; i < PROBATION * 4; i++) p.responded(A, true, 5, true);
  expect(p.depth(A)).toBe(1);

  const q = new AdaptivePipelining(4);
  for (let i = 0; i < PROBATION; i++) q.responded(B, true, 5, true);
  expect(q.depth(B)).toBe(4);
  q.failed(B);
  expect(q.depth(B)).toBe(1);
  for (let i = 0; i < PROBATION; i++) q.responded(B, true, 5, true);
  expect(q.depth(B)).toBe(1);
  // An HTTP/2 connection of the origin is left alone once removed.
  const h2 = fakeClient();
  q.addClient(B, h2);
  q.removeClient(B, h2);
  h2.pipelining = 100;
  q.failed(B);
  expect(h2.pipelining).toBe(100);
});
