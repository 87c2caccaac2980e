// decompressXz (packages/client/src/formats/xz.ts, @napi-rs/lzma) vs `xz -d` on the same input.
//
// Inputs: a 36 MiB deterministic "mixed" file (bench/lib/gen.mjs) compressed with
// `xz -6 -C crc64 -T1`, and real static-delta part payloads: the two parts of
// bench/make-big-repo.sh's scratch delta (made by `ostree static-delta generate`) and the
// largest part of the fixture `archive` repo. Target (issue): throughput ≥ 0.8× `xz -d`.
//
// For the record, the other Node xz decoders (lzma-native, xz-decompress) are measured when
// installable into bench/out/xz-alt (never into the workspace). BENCH_OFFLINE=1 skips the
// install attempt.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { mixed } from './lib/gen.mjs';
import {
  ensureBuilt,
  loadClient,
  measure,
  measureCmd,
  measureTask,
  OUT,
  ROOT,
  reps,
  row,
  runStandalone,
  throughput,
} from './lib/harness.mjs';

const XZ = join(OUT, 'xz');
const ALT = join(OUT, 'xz-alt');
const MIXED_SIZE = 36 * 1024 * 1024;

function mixedInput() {
  const raw = join(XZ, 'mixed.bin');
  const file = `${raw}.xz`;
  if (!existsSync(file)) {
    mkdirSync(XZ, { recursive: true });
    writeFileSync(raw, mixed(MIXED_SIZE));
    execFileSync('xz', ['-6', '-C', 'crc64', '-T1', '-k', '-f', raw]);
  }
  return { name: 'mixed 36 MiB (xz -6 -C crc64)', file, size: MIXED_SIZE };
}

/** Part file → its xz payload (the part minus its compression byte) as a .xz file. */
function partInput(name, partFile, what) {
  const file = join(XZ, `${name}.xz`);
  const bytes = readFileSync(partFile);
  if (bytes[0] !== 0x78) throw new Error(`${partFile} is not an xz part`);
  if (!existsSync(file) || statSync(file).size !== bytes.length - 1) writeFileSync(file, bytes.subarray(1));
  return { name: what, file, partFile };
}

function largestFixturePart() {
  const root = join(ROOT, 'test', 'fixtures', 'data', 'repos', 'archive', 'deltas');
  let best = null;
  const walk = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (/^\d+$/.test(e.name) && (best === null || statSync(p).size > statSync(best).size)) best = p;
    }
  };
  walk(root);
  return best;
}

function loadAlternatives() {
  const have = () => existsSync(join(ALT, 'node_modules', 'lzma-native')) && existsSync(join(ALT, 'node_modules', 'xz-decompress'));
  if (!have() && !process.env.BENCH_OFFLINE) {
    mkdirSync(ALT, { recursive: true });
    if (!existsSync(join(ALT, 'package.json'))) writeFileSync(join(ALT, 'package.json'), '{ "name": "xz-alt", "private": true }\n');
    console.error('xz bench: installing lzma-native and xz-decompress into bench/out/xz-alt (not the workspace)');
    spawnSync(
      'npm',
      ['install', '--prefix', ALT, '--workspaces=false', '--no-audit', '--no-fund', '--no-save', 'lzma-native', 'xz-decompress'],
      {
        cwd: ALT,
        stdio: ['ignore', 'ignore', 'inherit'],
        timeout: 120_000,
      },
    );
  }
  const req = createRequire(join(ALT, 'package.json'));
  const out = {};
  try {
    out.lzmaNative = req('lzma-native');
  } catch (err) {
    out.lzmaNativeError = err.message.split('\n')[0];
  }
  try {
    out.xzDecompress = req('xz-decompress');
  } catch (err) {
    out.xzDecompressError = err.message.split('\n')[0];
  }
  return out;
}

export default async function bench() {
  const client = await loadClient();
  const big = ensureBuilt('make-big-repo.sh', join(OUT, 'big-repo'));
  const bigParts = Object.keys(big.deltaParts).sort();
  const inputs = [
    { ...mixedInput(), alternatives: true },
    { ...partInput('big-part0', join(OUT, 'big-repo', 'repo', bigParts[0]), 'delta part 0 of the generated repo'), alternatives: true },
    partInput('big-part1', join(OUT, 'big-repo', 'repo', bigParts[1]), 'delta part 1 of the generated repo'),
    partInput('fixture-part', largestFixturePart(), 'largest fixture delta part (archive repo)'),
  ];
  const alt = loadAlternatives();
  const rows = [];
  const input = {};
  for (const inp of inputs) {
    const data = new Uint8Array(readFileSync(inp.file));
    const out = client.decompressXz(data, 2 ** 32);
    const small = data.length < 1e6;
    const r = small ? { warmup: 20, reps: 31 } : { warmup: 1, reps: 5 };
    inp.compressed = data.length;
    inp.size = out.length;
    input[inp.name] = { file: inp.file.slice(ROOT.length + 1), compressed: data.length, uncompressed: out.length };
    const xzd = measureCmd('xz', ['-d', '-c', inp.file], reps(small ? { warmup: 3, reps: 11 } : { warmup: 1, reps: 5 }));
    const ref = { label: 'xz -d', median: xzd.median, min: xzd.min, rssKb: xzd.rssKb };
    const mbs = (ms) => `${throughput(out.length, ms).toFixed(0)} MB/s`;
    const ours = await measure(() => client.decompressXz(data, 2 ** 32), reps(r));
    rows.push(
      row(
        `${inp.name}: ${(data.length / 1e6).toFixed(2)} → ${(out.length / 1e6).toFixed(2)} MB`,
        { label: 'decompressXz', median: ours.median, min: ours.min },
        ref,
        `ours ${mbs(ours.median)}, xz -d ${mbs(xzd.median)} (whole process)${small ? '; tiny input: xz -d time is mostly process start' : ''}`,
        { text: '≥ 0.8× xz -d', met: xzd.median / ours.median >= 0.8 },
      ),
    );
    if (inp.alternatives) {
      const proc = measureTask('xz-ours', [inp.file], reps({ warmup: 0, reps: 3 }));
      rows.push(
        row(
          `${inp.name} — whole process`,
          { label: 'node task.mjs xz-ours', median: proc.median, min: proc.min, rssKb: proc.rssKb },
          ref,
          `start + read + decode + exit; cold decode alone ${proc.op.median.toFixed(0)} ms`,
        ),
      );
    }
    if (inp.alternatives && typeof client.decompressXzAsync === 'function') {
      const m = await measure(() => client.decompressXzAsync(data, 2 ** 32), reps({ warmup: 1, reps: 3 }));
      rows.push(
        row(
          `${inp.name} — decompressXzAsync`,
          { label: 'decompressXzAsync (libuv pool)', median: m.median, min: m.min },
          ref,
          mbs(m.median),
        ),
      );
    }
    if (inp.alternatives) {
      if (alt.lzmaNative) {
        const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
        const m = await measure(() => alt.lzmaNative.decompress(buf), reps({ warmup: 1, reps: 3 }));
        rows.push(
          row(
            `${inp.name} — lzma-native`,
            { label: 'lzma-native decompress', median: m.median, min: m.min },
            ref,
            `for the record; ${mbs(m.median)}`,
          ),
        );
      }
      if (alt.xzDecompress) {
        const { XzReadableStream } = alt.xzDecompress;
        const m = await measure(
          () => new Response(new XzReadableStream(new Blob([data]).stream())).arrayBuffer(),
          reps({ warmup: 1, reps: 3 }),
        );
        rows.push(
          row(
            `${inp.name} — xz-decompress`,
            { label: 'xz-decompress (WASM)', median: m.median, min: m.min },
            ref,
            `for the record; ${mbs(m.median)}`,
          ),
        );
      }
    }
  }

  // Pull-level view, for the record: both parts of the generated delta decoded at once on the
  // thread pool (2 cores) vs `xz -d` of one after the other. Not the target metric.
  if (typeof client.decompressXzAsync === 'function') {
    const p0 = new Uint8Array(readFileSync(inputs[1].file));
    const p1 = new Uint8Array(readFileSync(inputs[2].file));
    const both = await measure(
      () => Promise.all([client.decompressXzAsync(p0, 2 ** 32), client.decompressXzAsync(p1, 2 ** 32)]),
      reps({ warmup: 1, reps: 3 }),
    );
    const seq = measureCmd(
      'bash',
      ['-c', 'xz -d -c "$0" >/dev/null && xz -d -c "$1" >/dev/null', inputs[1].file, inputs[2].file],
      reps({ warmup: 1, reps: 3 }),
    );
    rows.push(
      row(
        'delta parts 0 + 1 at once (pull-level, for the record)',
        { label: 'Promise.all(decompressXzAsync ×2)', median: both.median, min: both.min },
        { label: 'xz -d part0; xz -d part1', median: seq.median, min: seq.min, rssKb: seq.rssKb },
        'two threads vs one xz process after the other',
      ),
    );
  }

  // The whole delta-part path on the biggest real part: decompress + GVariant decode, then
  // run every op with each produced object's checksum verified. Ours only: ostree has no
  // in-memory equivalent (`static-delta apply-offline` writes every object into a repo).
  const part = inputs[1];
  const partFile = new Uint8Array(readFileSync(part.partFile));
  const sbPath = join(part.partFile, '..', 'superblock');
  const sb = client.parseDeltaSuperblock(new Uint8Array(readFileSync(sbPath)));
  const header = sb.parts[0];
  const decode = await measure(() => client.decodePartFile(partFile, header.uncompressedSize), reps({ warmup: 1, reps: 3 }));
  const payload = client.decodePartFile(partFile, header.uncompressedSize);
  let produced = 0;
  const exec = await measure(
    () => {
      produced = 0;
      client.executeDeltaPart(
        header,
        payload,
        () => {
          produced++;
        },
        {
          readSource: () => {
            throw new Error('scratch delta has no read sources');
          },
        },
      );
    },
    reps({ warmup: 1, reps: 5 }),
  );
  rows.push(
    row(
      `delta part 0: decodePartFile (xz + GVariant)`,
      { label: 'decodePartFile', median: decode.median, min: decode.min },
      null,
      `${throughput(header.uncompressedSize, decode.median).toFixed(0)} MB/s of payload`,
    ),
    row(
      `delta part 0: executeDeltaPart, ${header.objects.length} objects verified`,
      { label: 'executeDeltaPart', median: exec.median, min: exec.min },
      null,
      `${produced} objects (sha256 of each); ${throughput(header.uncompressedSize, exec.median).toFixed(0)} MB/s`,
    ),
  );

  const notes = [];
  if (alt.lzmaNative)
    notes.push(`lzma-native bundles liblzma ${alt.lzmaNative.versionString?.() ?? '?'}; its decompress() runs on a worker thread`);
  if (alt.lzmaNativeError) notes.push(`lzma-native not measured: ${alt.lzmaNativeError}`);
  if (alt.xzDecompressError) notes.push(`xz-decompress not measured: ${alt.xzDecompressError}`);
  notes.push('@napi-rs/lzma decodes with lzma-rs (pure Rust), not liblzma');
  return { name: 'xz', title: 'decompressXz vs xz -d (speed ratio = our throughput / xz -d throughput)', input, rows, notes };
}

await runStandalone(import.meta.url, bench);
