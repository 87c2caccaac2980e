/**
 * AdaptivePipelining's rules: probation, kept-alive and pipelinable responses only, a cool-down
 * after a slow first byte or a failure (doubling while strikes follow), then probation again, per
 * origin; and PipelinedConnection's depth: never 1 while more than one request is on the
 * connection, capped behind a large body.
 */
import type { Client } from 'undici';
import { expect, test } from 'vitest';
import { AdaptivePipelining, COOL_MS, MAX_COOL_MS, PROBATION, SLOW_MS } from '../src/http/AdaptivePipelining.js';
import { LARGE_BODY, type PipelineMember } from '../src/http/PipelinedConnection.js';

// Stand-ins for undici clients: the connections only read `stats.running`, set `pipelining` and
// listen for 'disconnect'.
const fakeClient = () => ({ pipelining: 99, stats: { running: 0 }, on: () => {} }) as unknown as Client & { stats: { running: number } };
const A = 'http://a.example';
const B = 'http://b.example';

test('an origin pipelines after PROBATION prompt, kept-alive, pipelinable responses; its connections follow', () => {
  const p = new AdaptivePipelining(8);
  const c1 = p.connection(A, fakeClient());
  p.addClient(A, c1);
  expect(c1.client.pipelining).toBe(1);
  expect(p.mayPipeline(A, true)).toBe(false);
  // Not pipelinable, or the connection closes: no credit.
  p.responded(A, false, 5, true, 0);
  p.responded(A, true, 5, false, 0);
  for (let i = 0; i < PROBATION - 1; i++) p.responded(A, true, 5, true, 0);
  expect(p.depth(A)).toBe(1);
  p.responded(A, true, 5, true, 0);
  expect(p.depth(A)).toBe(8);
  expect(c1.client.pipelining).toBe(8);
  expect(p.mayPipeline(A, true)).toBe(true);
  expect(p.mayPipeline(A, false)).toBe(false);
  // A connection opened later starts at the origin's depth; other origins are unaffected.
  const c2 = p.connection(A, fakeClient());
  p.addClient(A, c2);
  expect(c2.client.pipelining).toBe(8);
  expect(p.depth(B)).toBe(1);
});

test('a first byte slower than SLOW_MS, or a failure, pauses it for a cool-down, doubled by a strike soon after; then probation again', () => {
  let now = 0;
  const p = new AdaptivePipelining(8, COOL_MS, () => now);
  const c = p.connection(A, fakeClient());
  p.addClient(A, c);
  for (let i = 0; i < PROBATION; i++) p.responded(A, true, 5, true, now);
  expect(c.client.pipelining).toBe(8);
  p.responded(A, false, SLOW_MS + 1, true, now);
  expect(p.depth(A)).toBe(1);
  expect(c.client.pipelining).toBe(1);
  // During the cool-down nothing earns credit, and further strikes change nothing.
  for (let i = 0; i < PROBATION * 4; i++) p.responded(A, true, 5, true, now);
  p.failed(A, 'ECONNRESET');
  now += COOL_MS - 1;
  expect(p.depth(A)).toBe(1);
  now += 1;
  expect(p.depth(A)).toBe(1); // probation
  // Responses to requests written before the probation began earn nothing.
  for (let i = 0; i < PROBATION; i++) p.responded(A, true, 5, true, now - 1);
  expect(p.depth(A)).toBe(1);
  for (let i = 0; i < PROBATION; i++) p.responded(A, true, 5, true, now);
  expect(p.depth(A)).toBe(8);
  // A strike soon after: twice as long; doubling up to MAX_COOL_MS.
  let expected = COOL_MS;
  for (let round = 0; round < 8; round++) {
    expected = Math.min(MAX_COOL_MS, expected * 2);
    p.failed(A, 'ECONNRESET');
    now += expected - 1;
    expect(p.depth(A), `round ${round}`).toBe(1);
    now += 1;
    for (let i = 0; i < PROBATION; i++) p.responded(A, true, 5, true, now);
    expect(p.depth(A), `round ${round}`).toBe(8);
  }
  // Long after the last cool-down: back to COOL_MS.
  now += 60_000;
  p.failed(A, 'ECONNRESET');
  now += COOL_MS;
  for (let i = 0; i < PROBATION; i++) p.responded(A, true, 5, true, now);
  expect(p.depth(A)).toBe(8);

  // An HTTP/2 connection of the origin is left alone once removed.
  const q = new AdaptivePipelining(4);
  for (let i = 0; i < PROBATION; i++) q.responded(B, true, 5, true, 0);
  const h2 = q.connection(B, fakeClient());
  q.addClient(B, h2);
  q.removeClient(B, h2);
  h2.h2 = true;
  h2.client.pipelining = 100;
  q.failed(B, 'ECONNRESET');
  expect(q.depth(B)).toBe(1);
  expect(h2.client.pipelining).toBe(100);
});

test('a connection goes to depth 1 only with at most one request on it; a large body caps it until it ends', async () => {
  const p = new AdaptivePipelining(16);
  const client = fakeClient();
  const c = p.connection(A, client);
  p.addClient(A, c);
  for (let i = 0; i < PROBATION; i++) p.responded(A, true, 5, true, 0);
  expect(client.pipelining).toBe(16);
  const members: PipelineMember[] = Array.from({ length: 5 }, () => ({ requeue: () => {} }));
  for (const m of members) {
    c.started(m, false);
    client.stats.running++;
  }
  p.failed(A, 'ECONNRESET');
  expect(client.pipelining).toBe(2);
  for (const m of members.slice(0, 4)) {
    c.ended(m);
    client.stats.running--;
    await Promise.resolve();
  }
  expect(client.pipelining).toBe(1);

  // A response declaring LARGE_BODY bytes caps its connection at what is on it, until it ends.
  const q = new AdaptivePipelining(16);
  const client2 = fakeClient();
  const d = q.connection(B, client2);
  q.addClient(B, d);
  for (let i = 0; i < PROBATION; i++) q.responded(B, true, 5, true, 0);
  const [big, small] = [{ requeue: () => {} }, { requeue: () => {} }];
  d.started(big, false);
  d.started(small, false);
  client2.stats.running = 2;
  d.headed(big, 0, LARGE_BODY - 1, true);
  expect(client2.pipelining).toBe(16);
  d.headed(big, 0, LARGE_BODY, true);
  expect(client2.pipelining).toBe(2);
  d.ended(big);
  client2.stats.running = 1;
  await Promise.resolve();
  expect(client2.pipelining).toBe(16);
});
