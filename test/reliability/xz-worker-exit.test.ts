/**
 * A process that exits (process.exit, or an uncaught exception) while a large delta part is being
 * xz-decoded exits with its own code, with either backend: the WebAssembly decoder's worker thread
 * (Node.js terminates worker threads at exit) and the `xz` child process (whose stdin then closes).
 * The part is a real `xz` stream of a 24 MB payload, and the exit lands at several points of the
 * decoding. Also run under node flags that worker threads must not inherit.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gv, PART_PAYLOAD_TYPE } from '@flathub-fetch/client';
import { seededRandom } from '@flathub-fetch/client/testing';
import { afterAll, expect, test } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'ffetch-xz-exit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const dist = new URL('../../packages/client/dist/index.js', import.meta.url).href;

function makePart(): { file: string; header: string } {
  const rand = seededRandom(24);
  const data = new Uint8Array(24_000_000);
  for (let i = 0; i < data.length; i++) data[i] = i % 8192 < 6144 ? (i * 13) & 0xff : Math.floor(rand() * 256);
  const payload = gv(PART_PAYLOAD_TYPE).encode([[], [], data, new Uint8Array([0x01, 0x02])]);
  const file = Buffer.concat([Buffer.from([0x78]), execFileSync('xz', ['-c', '-0'], { input: payload, maxBuffer: 1 << 27 })]);
  const path = join(dir, 'part');
  writeFileSync(path, file);
  const header = {
    index: 0,
    checksum: createHash('sha256').update(file).digest('hex'),
    size: file.length,
    uncompressedSize: payload.length,
    objects: [],
  };
  return { file: path, header: JSON.stringify(header) };
}

const part = makePart();

// Feeds the whole part to the backend XZ names, then exits `delay` ms after the last byte went
// in, while it is still decoding (HOW=none: lets it finish).
const child = `
import { readFileSync } from 'node:fs';
const { DeltaPartDecoder } = await import(process.env.DIST);
const file = readFileSync(process.env.PART);
const dec = new DeltaPartDecoder(JSON.parse(process.env.HEADER), 'part', { xzDecoder: process.env.XZ });
for (let i = 0; i < file.length; i += 65536) await dec.push(file.subarray(i, i + 65536));
dec.verify();
const finished = dec.finish().then(() => process.stdout.write('finished '));
if (process.env.HOW !== 'none') setTimeout(() => {
  process.stdout.write('exiting ');
  if (process.env.HOW === 'throw') throw new Error('uncaught on purpose');
  process.exit(7);
}, Number(process.env.DELAY));
await finished;
`;

// Under a V8 flag and --input-type=module, which worker threads must not inherit (the first is
// refused in a worker's execArgv).
const NODE_ARGS = ['--max-old-space-size=1024', '--input-type=module', '-e', child];

function run(how: string, delay: number, xz: string) {
  return spawnSync(process.execPath, NODE_ARGS, {
    env: { ...process.env, DIST: dist, PART: part.file, HEADER: part.header, HOW: how, DELAY: String(delay), XZ: xz },
    encoding: 'utf8',
    timeout: 60_000,
    cwd: fileURLToPath(new URL('.', import.meta.url)),
  });
}

const BACKENDS = ['wasm', 'xz'] as const;

test.each(BACKENDS)('the part decodes (%s) in a process started with node flags', (xz) => {
  const r = run('none', 0, xz);
  expect(r.stderr).toBe('');
  expect(r.stdout).toBe('finished ');
  expect(r.status).toBe(0);
});

test.each(
  BACKENDS.flatMap((xz) => [
    ['process.exit(7)', xz, 'exit', 7],
    ['an uncaught exception', xz, 'throw', 1],
  ]),
)('exiting with %s in the middle of a decode (%s) exits with its code, not an abort', (_name, xz, how, code) => {
  for (const delay of [0, 5, 20, 60]) {
    const r = run(how as string, delay, xz as string);
    const what = `${xz}, delay ${delay} ms: status ${r.status}, signal ${r.signal}, stdout ${r.stdout}, stderr ${r.stderr.slice(0, 300)}`;
    expect(r.stderr, what).not.toContain('FATAL ERROR');
    expect(r.signal, what).toBeNull();
    expect(r.status, what).toBe(code as number);
    // The exit came first (the decode was still running), at least for the earliest exit (the
    // `xz` program decodes while the bytes stream in, so it can finish within a few ms of the last).
    if (delay === 0) expect(r.stdout, what).toBe('exiting ');
  }
});
