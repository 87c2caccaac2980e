/**
 * Mutation fuzzing of every parser, seeded with real objects from the fixture repositories.
 * Each mutated input must either parse or raise a FlathubFetchError — never another exception,
 * never a hang. Budget: FUZZ_ITERATIONS per parser (default 1500 here; long runs are opt-in,
 * e.g. FUZZ_ITERATIONS=1000000 npm run fuzz). Inputs that ever failed are kept in
 * test/fuzz/regressions/ and replayed every run.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, test } from 'vitest';
import {
  applySummaryDelta,
  bspatch,
  bswap32,
  encode,
  decode,
  decodePartFile,
  executeDeltaPart,
  FlathubFetchError,
  parseCommit,
  parseDeltaIndex,
  parseDeltaSuperblock,
  parseDetachedMetadata,
  parseDirMeta,
  parseDirTree,
  parseFilezHeader,
  parsePartPayload,
  parseSummary,
  parseSummaryIndex,
  readFilez,
  readVarint,
  xzUncompressedSize,
} from '../../packages/client/src/index.js';
import { fixtureSets } from '../support/fixtures.js';
import { mutate, rng } from './mutate.js';

const ITERATIONS = Number(process.env.FUZZ_ITERATIONS ?? 1500);
const SEED = Number(process.env.FUZZ_SEED ?? 20261127);
const REGRESSIONS = join(import.meta.dirname, 'regressions');

const set = fixtureSets().at(-1);
if (set === undefined) throw new Error('no fixtures');
const archive = set.repoPath('archive');
const flatpak = set.repoPath('flatpak');
const manifest = set.manifest.repos;

function firstObject(repo: string, ext: string): Uint8Array {
  for (const p of readdirSync(join(repo, 'objects'))) {
    const f = readdirSync(join(repo, 'objects', p)).find((x) => x.endsWith(`.${ext}`));
    if (f !== undefined) return new Uint8Array(readFileSync(join(repo, 'objects', p, f)));
  }
  throw new Error(`no .${ext} in ${repo}`);
}

const bsdiffDelta = manifest.archive?.deltas.find((d) => d.has_bsdiff_ops);
if (bsdiffDelta === undefined) throw new Error('fixture archive has no bsdiff delta');
const sbBytes = new Uint8Array(readFileSync(join(archive, bsdiffDelta.superblock)));
const sb = parseDeltaSuperblock(sbBytes);
const part0 = sb.parts[0];
if (part0 === undefined) throw new Error('no part');
const partFile = new Uint8Array(readFileSync(join(archive, bsdiffDelta.path, '0')));
const payload = decodePartFile(partFile, part0.uncompressedSize);
// The uncompressed payload, re-encoded by the codec (the same normal form as in the part).
const payloadBytes = encode('(a(uuu)aa(ayay)ayay)', [
  payload.modes.map((m) => [bswap32(m.uid), bswap32(m.gid), bswap32(m.mode)] as [number, number, number]),
  payload.xattrs,
  payload.data,
  payload.ops,
]);
const summaryDeltaName = manifest.flatpak?.summary_deltas?.[0];
if (summaryDeltaName === undefined) throw new Error('no summary delta');
const [sdFrom] = summaryDeltaName.split('-') as [string];
const oldSub = new Uint8Array(gunzipSync(readFileSync(join(flatpak, 'summaries', `${sdFrom}.gz`))));
const sdelta = new Uint8Array(gunzipSync(readFileSync(join(flatpak, 'summaries', summaryDeltaName))));

/** The first bsdiff patch of the part, with its old content and new size (walks the op stream). */
let patchCache: { patch: Uint8Array; old: Uint8Array; size: number } | null = null;
function firstPatch(): { patch: Uint8Array; old: Uint8Array; size: number } {
  if (patchCache !== null) return patchCache;
  const ops = payload.ops;
  let pc = 0;
  let obj = 0;
  let size = 0;
  let source: Uint8Array | null = null;
  const arg = () => {
    const r = readVarint(ops, pc);
    if (r === null) throw new Error('bad op stream');
    pc = r.next;
    return r.value;
  };
  while (pc < ops.length) {
    const op = String.fromCharCode(ops[pc++] as number);
    if (op === 'S') {
      const n = part0?.objects[obj]?.type === 1 ? 4 : 2;
      for (let i = 0; i < n; i++) arg();
      obj++;
    } else if (op === 'o') {
      arg();
      arg();
      size = arg();
    } else if (op === 'w') {
      arg();
      arg();
    } else if (op === 'r') {
      const off = arg();
      const c = Buffer.from(payload.data.subarray(off, off + 32)).toString('hex');
      source = readFilez(new Uint8Array(readFileSync(join(archive, 'objects', c.slice(0, 2), `${c.slice(2)}.filez`)))).content;
    } else if (op === 'c') {
      obj++;
    } else if (op === 'B') {
      const off = arg();
      const len = arg();
      if (source === null) throw new Error('B without source');
      patchCache = { patch: payload.data.subarray(off, off + len), old: source, size };
      return patchCache;
    }
  }
  throw new Error('no B op in the part');
}

const targets: Record<string, { seed: Uint8Array; run: (input: Uint8Array) => void }> = {
  'gvariant a{sv}': { seed: new Uint8Array(readFileSync(join(archive, 'summary'))), run: (b) => decode('(a(s(taya{sv}))a{sv})', b) },
  summary: { seed: new Uint8Array(readFileSync(join(archive, 'summary'))), run: (b) => parseSummary(b) },
  'summary.idx': { seed: new Uint8Array(readFileSync(join(flatpak, 'summary.idx'))), run: (b) => parseSummaryIndex(b) },
  subsummary: { seed: oldSub, run: (b) => parseSummary(b) },
  'summary delta': { seed: sdelta, run: (b) => applySummaryDelta(oldSub, b, 16 * 1024 * 1024) },
  'summary.sig': { seed: new Uint8Array(readFileSync(join(flatpak, 'summary.sig'))), run: (b) => parseDetachedMetadata(b) },
  commit: { seed: firstObject(archive, 'commit'), run: (b) => parseCommit(b) },
  dirtree: { seed: firstObject(archive, 'dirtree'), run: (b) => parseDirTree(b) },
  dirmeta: { seed: firstObject(archive, 'dirmeta'), run: (b) => parseDirMeta(b) },
  'filez header': { seed: firstObject(archive, 'filez'), run: (b) => parseFilezHeader(b) },
  filez: { seed: firstObject(archive, 'filez'), run: (b) => readFilez(b, 'filez', { maxSize: 1 << 24 }) },
  superblock: { seed: sbBytes, run: (b) => parseDeltaSuperblock(b) },
  'delta index': {
    seed: new Uint8Array(readFileSync(join(archive, manifest.archive?.delta_indexes[0] ?? 'missing'))),
    run: (b) => parseDeltaIndex(b),
  },
  'part file (xz)': { seed: partFile, run: (b) => decodePartFile(b, part0.uncompressedSize) },
  'xz index': { seed: partFile.subarray(1), run: (b) => xzUncompressedSize(b) },
  'part payload': { seed: payloadBytes, run: (b) => parsePartPayload(b) },
  'op stream': {
    seed: payload.ops,
    run: (ops) =>
      executeDeltaPart(part0, { ...payload, ops }, () => {}, {
        readSource: (c) => readFilez(new Uint8Array(readFileSync(join(archive, 'objects', c.slice(0, 2), `${c.slice(2)}.filez`)))).content,
        maxObjectSize: 1 << 24,
      }),
  },
  bspatch: {
    seed: firstPatch().patch,
    run: (p) => bspatch(firstPatch().old, p, firstPatch().size),
  },
};

function check(name: string, run: (b: Uint8Array) => void, input: Uint8Array): void {
  try {
    run(input);
  } catch (err) {
    if (err instanceof FlathubFetchError) return;
    mkdirSync(REGRESSIONS, { recursive: true });
    const file = join(REGRESSIONS, `${name.replace(/[^a-z0-9]+/gi, '_')}-${Date.now()}.bin`);
    writeFileSync(file, input);
    throw new Error(`${name}: untyped ${(err as Error)?.name}: ${(err as Error)?.message} (input saved to ${file})`);
  }
}

describe(`parser fuzzing (${ITERATIONS} mutations each, seed ${SEED})`, () => {
  for (const [name, { seed, run }] of Object.entries(targets)) {
    test(name, () => {
      run(seed); // the unmutated real input parses
      const rand = rng(SEED ^ (name.length * 7919));
      for (let i = 0; i < ITERATIONS; i++) check(name, run, mutate(seed, rand));
      const key = name.replace(/[^a-z0-9]+/gi, '_');
      if (existsSync(REGRESSIONS)) {
        for (const f of readdirSync(REGRESSIONS).filter((x) => x.startsWith(`${key}-`)))
          check(name, run, new Uint8Array(readFileSync(join(REGRESSIONS, f))));
      }
      expect(true).toBe(true);
    });
  }
});
