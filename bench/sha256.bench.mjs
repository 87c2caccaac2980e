// sha256Hex (node:crypto, OpenSSL) vs `sha256sum` on a 256 MiB file (bench/out/sha256/big.bin).
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { random } from './lib/gen.mjs';
import { loadClient, measure, measureCmd, measureTask, OUT, reps, row, runOnce, runStandalone, throughput } from './lib/harness.mjs';

const SIZE = 256 * 1024 * 1024;

function input() {
  const dir = join(OUT, 'sha256');
  const file = join(dir, 'big.bin');
  if (!existsSync(file) || statSync(file).size !== SIZE) {
    mkdirSync(dir, { recursive: true });
    const block = random(16 * 1024 * 1024, 256);
    const all = Buffer.allocUnsafe(SIZE);
    for (let i = 0; i < SIZE / block.length; i++) {
      block.writeUInt32LE(i, 0); // every block distinct
      block.copy(all, i * block.length);
    }
    writeFileSync(file, all);
  }
  return file;
}

export default async function bench() {
  const client = await loadClient();
  const file = input();
  const bytes = readFileSync(file);
  const expected = runOnce('sha256sum', [file], { capture: true }).stdout.toString().slice(0, 64);
  if (client.sha256Hex(bytes) !== expected) throw new Error('sha256Hex disagrees with sha256sum');

  const ref = measureCmd('sha256sum', [file], reps({ warmup: 1, reps: 5 }));
  const refCol = { label: 'sha256sum FILE', median: ref.median, min: ref.min, rssKb: ref.rssKb };
  const mem = await measure(() => client.sha256Hex(bytes), reps({ warmup: 1, reps: 5 }));
  const readHash = await measure(() => client.sha256Hex(readFileSync(file)), reps({ warmup: 1, reps: 5 }));
  const proc = measureTask('sha256', [file], reps({ warmup: 0, reps: 3 }));
  let openssl = null;
  try {
    openssl = measureCmd('openssl', ['dgst', '-sha256', file], reps({ warmup: 1, reps: 5 }));
  } catch {}
  const mbs = (ms) => `${throughput(SIZE, ms).toFixed(0)} MB/s`;
  return {
    name: 'sha256',
    title: 'sha256Hex vs sha256sum, 256 MiB',
    input: { file: 'bench/out/sha256/big.bin', bytes: SIZE },
    rows: [
      row(
        'hash a buffer already in memory',
        { label: 'sha256Hex(buf)', median: mem.median, min: mem.min },
        refCol,
        `ours ${mbs(mem.median)}, sha256sum ${mbs(ref.median)}`,
      ),
      row(
        'read file + hash (in-process)',
        { label: 'sha256Hex(readFileSync)', median: readHash.median, min: readHash.min },
        refCol,
        `ours ${mbs(readHash.median)}`,
      ),
      row(
        'whole process',
        { label: 'node task.mjs sha256', median: proc.median, min: proc.min, rssKb: proc.rssKb },
        refCol,
        'reads the whole file into memory first (RSS); sha256sum streams',
      ),
      ...(openssl
        ? [
            row(
              'other reference: OpenSSL CLI',
              { label: 'sha256Hex(buf)', median: mem.median, min: mem.min },
              { label: 'openssl dgst -sha256 FILE', median: openssl.median, min: openssl.min, rssKb: openssl.rssKb },
              `openssl ${mbs(openssl.median)} (same SHA-NI code as node:crypto)`,
            ),
          ]
        : []),
    ],
    notes: [
      'coreutils sha256sum (Debian 12, 9.1) uses its portable C implementation, not the CPU SHA extensions that OpenSSL and so node:crypto use',
    ],
  };
}

await runStandalone(import.meta.url, bench);
