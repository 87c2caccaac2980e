/**
 * The stall window (HttpClient `stallTimeout`): what counts as progress and what does not.
 */
import { describe, expect, it } from 'vitest';
import { ErrorCodes } from '../src/errors/codes.js';
import { HttpClient } from '../src/http/HttpClient.js';
import { RetryBudget } from '../src/http/RetryBudget.js';
import { rejection, scriptedHttp } from './support/scriptedHttp.js';

const { serve } = scriptedHttp();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('HttpClient stall window', () => {
  it('does not count time with no request pending', async () => {
    const { base } = await serve((_req, res, n) => (n === 1 || n === 2 ? res.writeHead(503).end() : res.end('ok')));
    // A window long enough for two 503s and their 50–60 ms backoffs on a loaded machine.
    const http = new HttpClient(base, { retry: { retries: Number.POSITIVE_INFINITY, minDelay: 50, maxDelay: 60 }, stallTimeout: 1500 });
    try {
      await http.get('a', { purpose: 'other', maxBytes: 10 });
      await sleep(2000); // idle, longer than the window
      expect(new TextDecoder().decode(await http.get('b', { purpose: 'other', maxBytes: 10 }))).toBe('ok');
    } finally {
      await http.close();
    }
  });

  it('counts body bytes arriving as progress: a transfer slower than the window completes', async () => {
    const { base } = await serve((_req, res) => {
      res.writeHead(200, { 'content-length': '8' });
      let i = 0;
      const t = setInterval(() => {
        res.write('x');
        if (++i === 8) {
          clearInterval(t);
          res.end();
        }
      }, 100);
    });
    const http = new HttpClient(base, { stallTimeout: 300 });
    try {
      expect((await http.get('slow', { purpose: 'other', maxBytes: 10 })).length).toBe(8);
    } finally {
      await http.close();
    }
  });

  it('does not count bytes an earlier attempt had already delivered', async () => {
    // Every attempt sends the same first 4 bytes, then resets: no new bytes, so it stalls.
    const { base } = await serve((_req, res) => {
      res.writeHead(200, { 'content-length': '100' });
      res.write('abcd');
      setTimeout(() => res.destroy(), 20);
    });
    const http = new HttpClient(base, { retry: { retries: Number.POSITIVE_INFINITY, minDelay: 20, maxDelay: 30 }, stallTimeout: 400 });
    try {
      const err = await rejection(http.get('x', { purpose: 'other', maxBytes: 1000 }));
      expect(err.code).toBe(ErrorCodes.STALLED);
    } finally {
      await http.close();
    }
  });
});

describe('RetryBudget', () => {
  it('earns `ratio` per success and `perSecond` with time, up to `reserve`; an empty budget makes retries wait their turn', () => {
    let now = 0;
    const b = new RetryBudget({ ratio: 0.5, perSecond: 2, reserve: 3 }, () => now);
    expect([b.withdraw(), b.withdraw(), b.withdraw()]).toEqual([0, 0, 0]);
    expect(b.withdraw()).toBe(500); // 1 short at 2/s
    expect(b.withdraw()).toBe(1000); // queued behind the previous one
    b.deposit(); // a success: 0.5
    expect(b.balance).toBe(-1.5);
    now = 1000; // +2
    expect(b.balance).toBe(0.5);
    now = 10_000;
    expect(b.balance).toBe(3); // capped at the reserve
    for (let i = 0; i < 10; i++) b.deposit();
    expect(b.balance).toBe(3);
  });
});
