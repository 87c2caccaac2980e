/**
 * ContentWorkerPool: lazy spawning up to its size, results equal to the inline computation,
 * typed failure replies, close() failing queued jobs, reuse after close().
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { deflateRawSync } from 'node:zlib';
import { expect, test } from 'vitest';
import { ContentWorkerPool } from '../src/repo/ContentWorkerPool.js';

const header = new Uint8Array([0, 0, 0, 4, 0, 0, 0, 0, 1, 2, 3, 4]);
const content = (i: number) => new Uint8Array(Buffer.alloc(50_000 + i, `chunk ${i} `));

test('jobs run on up to `size` threads and equal the inline results', async () => {
  const pool = new ContentWorkerPool(2);
  expect(pool.threads).toBe(0);
  try {
    const inputs = Array.from({ length: 12 }, (_, i) => content(i));
    const replies = await Promise.all(
      inputs.map((c) => pool.run({ op: 'encode', header, content: c, expected: null, compress: true, level: 6 })),
    );
    expect(pool.threads).toBe(2);
    replies.forEach((r, i) => {
      const c = inputs[i] as Uint8Array;
      expect(r.ok).toBe(true);
      if (!r.ok) return;
      expect(r.checksum).toBe(createHash('sha256').update(header).update(c).digest('hex'));
      expect(Buffer.from(r.data as Uint8Array).equals(deflateRawSync(c, { level: 6 }))).toBe(true);
    });
    const z = deflateRawSync(inputs[0] as Uint8Array);
    const back = await pool.run({ op: 'inflate', header, payload: z, size: 50_000, keep: true });
    expect(back.ok && Buffer.from(back.data as Uint8Array).equals(inputs[0] as Uint8Array)).toBe(true);
    expect(await pool.run({ op: 'inflate', header, payload: z, size: 100, keep: false })).toMatchObject({ ok: false, kind: 'too-large' });
    expect(await pool.run({ op: 'inflate', header, payload: z, size: 60_000, keep: false })).toMatchObject({ ok: false, kind: 'short' });
    expect(await pool.run({ op: 'inflate', header, payload: new Uint8Array([0xff, 1, 2]), size: 10, keep: false })).toMatchObject({
      ok: false,
      kind: 'zlib',
    });
  } finally {
    await pool.close();
  }
  expect(pool.threads).toBe(0);
});

test('close() fails queued jobs with ERR_ABORTED; the pool respawns when used again', async () => {
  const pool = new ContentWorkerPool(1);
  const jobs = Array.from({ length: 6 }, (_, i) =>
    pool.run({ op: 'encode', header, content: content(i * 1000), expected: null, compress: true, level: 9 }),
  );
  const all = Promise.allSettled(jobs);
  await pool.close();
  const settled = await all;
  expect(settled.some((s) => s.status === 'rejected')).toBe(true);
  for (const s of settled) if (s.status === 'rejected') expect(s.reason).toMatchObject({ code: 'ERR_ABORTED' });
  const again = await pool.run({ op: 'encode', header, content: content(1), expected: null, compress: false, level: 6 });
  expect(again).toMatchObject({ ok: true, data: null });
  expect(pool.threads).toBe(1);
  await pool.close();
});

test('warm() starts every worker up front; a warmed, idle pool does not keep a process alive', async () => {
  const pool = new ContentWorkerPool(2);
  pool.warm();
  expect(pool.threads).toBe(2);
  pool.warm();
  expect(pool.threads).toBe(2);
  const r = await pool.run({ op: 'encode', header, content: content(3), expected: null, compress: false, level: 1 });
  expect(r).toMatchObject({ ok: true });
  await pool.close();
  expect(pool.threads).toBe(0);
  // A process that warms a pool and never closes it still exits on its own.
  const src = `import { ContentWorkerPool } from ${JSON.stringify(new URL('../dist/repo/ContentWorkerPool.js', import.meta.url).href)};
new ContentWorkerPool(2).warm(); setTimeout(() => process.stdout.write('done'), 50);`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', src], { encoding: 'utf8', timeout: 10_000 });
  expect(out).toBe('done');
});

test('workers run in a process started with a V8 flag and --input-type=module (neither is passed on to them)', () => {
  const src = `import { ContentWorkerPool } from ${JSON.stringify(new URL('../dist/repo/ContentWorkerPool.js', import.meta.url).href)};
const pool = new ContentWorkerPool(1);
const r = await pool.run({ op: 'encode', header: new Uint8Array(8), content: new Uint8Array(100000), expected: null, compress: true, level: 1 });
await pool.close();
process.stdout.write(r.ok && r.data !== null ? 'encoded' : JSON.stringify(r));`;
  const out = execFileSync(process.execPath, ['--max-old-space-size=1024', '--input-type=module', '-e', src], {
    encoding: 'utf8',
    timeout: 20_000,
  });
  expect(out).toBe('encoded');
});
