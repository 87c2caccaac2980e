/**
 * Mutation fuzzing of every parser, seeded with the corpus kept in test/fuzz/corpus/<target>/
 * (real objects from the committed fixture repositories, made by ostree/flatpak; regenerate with
 * FUZZ_UPDATE_CORPUS=1). Each mutated input must either parse or raise a FlathubFetchError —
 * never another exception, never a hang (one execution over FUZZ_HANG_MS fails), never unbounded
 * memory (RSS over FUZZ_MAX_RSS_MB fails). Mutants that parse join the in-memory pool, so later
 * mutations reach deeper than the seeds.
 *
 * Budget: FUZZ_EXECUTIONS per parser (default 1500 here; FUZZ_ITERATIONS is an alias). The long
 * run is opt-in: `FUZZ_EXECUTIONS=1000000 FUZZ_REPORT=fuzz.json nice npx vitest run test/fuzz`.
 * Inputs that ever failed are kept in test/fuzz/regressions/ and replayed every run.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { appendFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, test } from 'vitest';
import {
  applySummaryDelta,
  bspatch,
  bswap32,
  decode,
  decodePartFile,
  decompressXz,
  encode,
  executeDeltaPart,
  FlathubFetchError,
  parseCommit,
  parseDeltaIndex,
  parseDeltaSuperblock,
  parseDetachedMetadata,
  parseDirMeta,
  parseDirTree,
  parseFilezHeader,
  parseKeyFile,
  parsePartPayload,
  parseSummary,
  parseSummaryIndex,
  readFilez,
  readVarint,
  xzUncompressedSize,
} from '../../packages/client/src/index.js';
import { fixtureSets } from '../support/fixtures.js';
import { mutate, rng } from './mutate.js';

const EXECUTIONS = Number(process.env.FUZZ_EXECUTIONS ?? process.env.FUZZ_ITERATIONS ?? 1500);
const SEED = Number(process.env.FUZZ_SEED ?? 20261127);
const HANG_MS = Number(process.env.FUZZ_HANG_MS ?? 2000);
const MAX_RSS = Number(process.env.FUZZ_MAX_RSS_MB ?? 1536) * 1024 * 1024;
const REPORT = process.env.FUZZ_REPORT;
const CORPUS = join(import.meta.dirname, 'corpus');
const REGRESSIONS = join(import.meta.dirname, 'regressions');
/** Mutants that parsed, kept in memory per target (bounded). */
const POOL_MAX = 64;

// The committed set: the corpus on disk was made from it, and contexts (old files, parts) must match.
const set = fixtureSets()[0];
if (set === undefined) throw new Error('no fixtures');
const archive = set.repoPath('archive');
const flatpak = set.repoPath('flatpak');
const manifest = set.manifest.repos;
const read = (...p: string[]) => new Uint8Array(readFileSync(join(...p)));

function firstObject(repo: string, ext: string): Uint8Array {
  for (const p of readdirSync(join(repo, 'objects')).sort()) {
    const f = readdirSync(join(repo, 'objects', p))
      .sort()
      .find((x) => x.endsWith(`.${ext}`));
    if (f !== undefined) return read(repo, 'objects', p, f);
  }
  throw new Error(`no .${ext} in ${repo}`);
}

const sources = new Map<string, Uint8Array>();
const readSource = (c: string): Uint8Array => {
  let s = sources.get(c);
  if (s === undefined) {
    s = readFilez(read(archive, 'objects', c.slice(0, 2), `${c.slice(2)}.filez`)).content;
    sources.set(c, s);
  }
  return s;
};

const bsdiffDelta = manifest.archive?.deltas.find((d) => d.has_bsdiff_ops);
if (bsdiffDelta === undefined) throw new Error('fixture archive has no bsdiff delta');
const sbBytes = read(archive, bsdiffDelta.superblock);
const sb = parseDeltaSuperblock(sbBytes);
const part0 = sb.parts[0];
if (part0 === undefined) throw new Error('no part');
const partFile = read(archive, bsdiffDelta.path, '0');
const payload = await decodePartFile(partFile, part0.uncompressedSize);
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
function findPatch(): { patch: Uint8Array; old: Uint8Array; size: number } {
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
      source = readSource(Buffer.from(payload.data.subarray(off, off + 32)).toString('hex'));
    } else if (op === 'c') {
      obj++;
    } else if (op === 'B') {
      const off = arg();
      const len = arg();
      if (source === null) throw new Error('B without source');
      return { patch: payload.data.subarray(off, off + len), old: source, size };
    }
  }
  throw new Error('no B op in the part');
}
const patch = findPatch();
const text = new TextDecoder();

interface Target {
  /** Real inputs from the fixtures (written to the corpus with FUZZ_UPDATE_CORPUS=1). */
  seeds: () => Uint8Array[];
  run: (input: Uint8Array) => unknown;
}

const targets: Record<string, Target> = {
  'gvariant a{sv}': { seeds: () => [read(archive, 'summary')], run: (b) => decode('(a(s(taya{sv}))a{sv})', b) },
  summary: { seeds: () => [read(archive, 'summary'), read(flatpak, 'summary')], run: (b) => parseSummary(b) },
  'summary.idx': { seeds: () => [read(flatpak, 'summary.idx')], run: (b) => parseSummaryIndex(b) },
  subsummary: { seeds: () => [oldSub], run: (b) => parseSummary(b) },
  'summary delta': { seeds: () => [sdelta], run: (b) => applySummaryDelta(oldSub, b, 16 * 1024 * 1024) },
  'summary.sig': { seeds: () => [read(flatpak, 'summary.sig')], run: (b) => parseDetachedMetadata(b) },
  commit: { seeds: () => [firstObject(archive, 'commit')], run: (b) => parseCommit(b) },
  dirtree: { seeds: () => [firstObject(archive, 'dirtree')], run: (b) => parseDirTree(b) },
  dirmeta: { seeds: () => [firstObject(archive, 'dirmeta')], run: (b) => parseDirMeta(b) },
  'filez header': { seeds: () => [firstObject(archive, 'filez')], run: (b) => parseFilezHeader(b) },
  'filez (deflate)': { seeds: () => [firstObject(archive, 'filez')], run: (b) => readFilez(b, 'filez', { maxSize: 1 << 24 }) },
  superblock: { seeds: () => [sbBytes], run: (b) => parseDeltaSuperblock(b) },
  'delta index': { seeds: () => [read(archive, manifest.archive?.delta_indexes[0] ?? 'missing')], run: (b) => parseDeltaIndex(b) },
  'part file (xz program)': { seeds: () => [partFile], run: (b) => decodePartFile(b, part0.uncompressedSize, 'part', { xzDecoder: 'xz' }) },
  'part file (xz, WebAssembly)': {
    seeds: () => [partFile],
    run: (b) => decodePartFile(b, part0.uncompressedSize, 'part', { xzDecoder: 'wasm' }),
  },
  'xz index': { seeds: () => [partFile.subarray(1)], run: (b) => xzUncompressedSize(b) },
  'xz decompress': { seeds: () => [partFile.subarray(1)], run: (b) => decompressXz(b, 1 << 22) },
  'part payload': { seeds: () => [payloadBytes], run: (b) => parsePartPayload(b) },
  'op stream': {
    seeds: () => [payload.ops],
    run: (ops) => executeDeltaPart(part0, { ...payload, ops }, () => {}, { readSource, maxObjectSize: 1 << 24 }),
  },
  bspatch: { seeds: () => [patch.patch], run: (p) => bspatch(patch.old, p, patch.size) },
  keyfile: {
    seeds: () => [read(archive, 'config'), read(flatpak, 'config')],
    run: (b) => parseKeyFile(text.decode(b), 'config'),
  },
};

const keyOf = (name: string) => name.replace(/[^a-z0-9]+/gi, '_');

/** The corpus of a target: files in test/fuzz/corpus/<key>/ (written from the seeds with FUZZ_UPDATE_CORPUS=1). */
function corpus(name: string, t: Target): Uint8Array[] {
  const dir = join(CORPUS, keyOf(name));
  if (process.env.FUZZ_UPDATE_CORPUS === '1') {
    mkdirSync(dir, { recursive: true });
    for (const [i, s] of t.seeds().entries()) writeFileSync(join(dir, `seed-${i}.bin`), s);
  }
  if (!existsSync(dir)) throw new Error(`fuzz corpus missing: ${dir} (FUZZ_UPDATE_CORPUS=1 writes it)`);
  return readdirSync(dir)
    .sort()
    .map((f) => read(dir, f));
}

/** Runs one input; resolves whether it parsed. Anything but a FlathubFetchError is a crash. */
async function check(name: string, run: (b: Uint8Array) => unknown, input: Uint8Array): Promise<boolean> {
  const started = performance.now();
  let ok: boolean;
  try {
    const r = run(input);
    if (r instanceof Promise) await r;
    ok = true;
  } catch (err) {
    if (!(err instanceof FlathubFetchError)) {
      throw new Error(`${name}: untyped ${(err as Error)?.name}: ${(err as Error)?.message} (input saved to ${save(name, input)})`);
    }
    ok = false;
  }
  const ms = performance.now() - started;
  if (ms > HANG_MS) throw new Error(`${name}: one execution took ${Math.round(ms)} ms (input saved to ${save(name, input)})`);
  return ok;
}

function save(name: string, input: Uint8Array): string {
  mkdirSync(REGRESSIONS, { recursive: true });
  const file = join(REGRESSIONS, `${keyOf(name)}-${Date.now()}.bin`);
  writeFileSync(file, input);
  return file;
}

describe(`parser fuzzing (${EXECUTIONS} executions each, seed ${SEED})`, () => {
  for (const [name, t] of Object.entries(targets)) {
    // ~1 ms per execution is the slowest target here; allow 10x that plus a minute.
    test(name, { timeout: 60_000 + EXECUTIONS * 10 }, async () => {
      const seeds = corpus(name, t);
      for (const s of seeds) expect(await check(name, t.run, s), `${name}: a corpus input parses`).toBe(true);
      const pool = [...seeds];
      const rand = rng(SEED ^ (name.length * 7919));
      const started = performance.now();
      let parsed = 0;
      let maxRss = process.memoryUsage.rss();
      for (let i = 0; i < EXECUTIONS; i++) {
        const input = mutate(pool[Math.floor(rand() * pool.length)] as Uint8Array, rand);
        if (await check(name, t.run, input)) {
          parsed++;
          if (pool.length < POOL_MAX) pool.push(input);
          else if (rand() < 0.01) pool[seeds.length + Math.floor(rand() * (POOL_MAX - seeds.length))] = input;
        }
        if ((i & 255) === 0) {
          // Let the event loop turn: libraries release native buffers on process.nextTick.
          await new Promise((r) => setImmediate(r));
          const rss = process.memoryUsage.rss();
          maxRss = Math.max(maxRss, rss);
          if (rss > MAX_RSS) throw new Error(`${name}: RSS ${rss} bytes after ${i} executions`);
        }
      }
      const key = keyOf(name);
      let replayed = 0;
      if (existsSync(REGRESSIONS)) {
        for (const f of readdirSync(REGRESSIONS).filter((x) => x.startsWith(`${key}-`))) {
          await check(name, t.run, read(REGRESSIONS, f));
          replayed++;
        }
      }
      const ms = performance.now() - started;
      if (REPORT !== undefined) {
        const line = {
          target: name,
          executions: EXECUTIONS,
          parsed,
          ms: Math.round(ms),
          crashes: 0,
          replayed,
          maxRssMB: Math.round(maxRss / 2 ** 20),
        };
        await appendFile(REPORT, `${JSON.stringify(line)}\n`);
      }
      // Mutation reaches both outcomes: some inputs are rejected (with a typed error).
      expect(parsed).toBeLessThan(EXECUTIONS);
    });
  }
});
