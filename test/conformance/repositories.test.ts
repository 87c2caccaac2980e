/**
 * Conformance against repositories made by the real ostree and flatpak tools: every object
 * decodes and hashes to its name; refs, trees and superblocks equal what the tools report;
 * every static delta executes op by op into verified objects; Flatpak indexed summaries and
 * summary deltas reproduce the subsummaries.
 */
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, test } from 'vitest';
import {
  applySummaryDelta,
  type Checksum,
  decodePartFile,
  deltaPartReadSources,
  executeDeltaPart,
  filezChecksum,
  partWindows,
  listTree,
  LocalRepo,
  ObjectType,
  parseCommit,
  parseDeltaIndex,
  parseDeltaSuperblock,
  parseDetachedMetadata,
  parseDirMeta,
  parseDirTree,
  parseSummary,
  parseSummaryIndex,
  readFilez,
  sha256Hex,
  superblockCommitMeta,
  verifyPartFile,
  deltaIndexPath,
  type DeltaOutput,
} from '../../packages/client/src/index.js';
import { fixtureSets } from '../support/fixtures.js';

const S_IFMT = 0o170000;

/** Hex of a GLib-printed bytestring (`b'…'` without the quotes): C escapes, then the implicit final NUL. */
function glibBytestringHex(text: string): string {
  const simple: Record<string, number> = { n: 10, t: 9, r: 13, a: 7, b: 8, f: 12, v: 11 };
  const out: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (c !== '\\') {
      out.push(c.charCodeAt(0));
      continue;
    }
    const oct = /^[0-7]{1,3}/.exec(text.slice(i + 1))?.[0];
    if (oct !== undefined) {
      out.push(Number.parseInt(oct, 8));
      i += oct.length;
    } else {
      const next = text[i + 1] as string;
      out.push(simple[next] ?? next.charCodeAt(0));
      i += 1;
    }
  }
  out.push(0);
  return Buffer.from(out).toString('hex');
}

for (const set of fixtureSets()) {
  describe(`${set.name} fixtures (ostree ${set.manifest.tools.ostree})`, () => {
    for (const [name, repo] of Object.entries(set.manifest.repos)) {
      const dir = set.repoPath(name);
      describe(name, () => {
        test('every loose object decodes and hashes to its name', () => {
          const counts: Record<string, number> = {};
          for (const prefix of readdirSync(join(dir, 'objects'))) {
            for (const file of readdirSync(join(dir, 'objects', prefix))) {
              const [rest, ext] = file.split('.') as [string, string];
              const checksum = prefix + rest;
              const bytes = new Uint8Array(readFileSync(join(dir, 'objects', prefix, file)));
              counts[ext] = (counts[ext] ?? 0) + 1;
              switch (ext) {
                case 'commit':
                  parseCommit(bytes, checksum);
                  expect(sha256Hex(bytes)).toBe(checksum);
                  break;
                case 'dirtree':
                  parseDirTree(bytes, checksum);
                  expect(sha256Hex(bytes)).toBe(checksum);
                  break;
                case 'dirmeta':
                  expect(parseDirMeta(bytes, checksum).mode & S_IFMT).toBe(0o040000);
                  expect(sha256Hex(bytes)).toBe(checksum);
                  break;
                case 'filez':
                  expect(filezChecksum(bytes, checksum)).toBe(checksum);
                  break;
                case 'commitmeta':
                  expect(parseDetachedMetadata(bytes, checksum).metadata.length).toBeGreaterThan(0);
                  break;
                default:
                  throw new Error(`unexpected object file ${file}`);
              }
            }
          }
          expect(counts.commit).toBe(Object.keys(repo.commits).length);
          expect(counts.dirtree ?? 0).toBeGreaterThan(0);
          expect(counts.filez ?? 0).toBeGreaterThan(0);
        });

        test('refs equal ostree refs / rev-parse', async () => {
          const golden = new Map(
            set
              .golden(name, 'rev-parse.txt')
              .trim()
              .split('\n')
              .map((l) => l.split('\t') as [string, string]),
          );
          expect(Object.fromEntries(golden)).toEqual(repo.heads);
          const local = await LocalRepo.open(dir);
          const refs = await local.listRefs();
          for (const [ref, commit] of golden) expect(refs.get(ref)).toBe(commit);
          if (repo.summary) {
            const summary = parseSummary(new Uint8Array(readFileSync(join(dir, 'summary'))));
            const fromSummary = new Map(summary.refs.map((r) => [r.name, r.commit]));
            // Flatpak's compat summary leaves some refs (appstream2/verified-*) to the subsummaries.
            for (const [ref, commit] of fromSummary) expect(golden.get(ref), ref).toBe(commit);
            if (!repo.summary_idx) expect(summary.refs.length).toBe(golden.size);
            expect(summary.deltas.size > 0).toBe(repo.summary_lists_deltas);
            for (const d of repo.deltas)
              if (repo.summary_lists_deltas && !repo.summary_idx) expect(summary.deltas.has(d.name), d.name).toBe(true);
          } else {
            expect(existsSync(join(dir, 'summary'))).toBe(false);
          }
        });

        if (repo.summary) {
          test('the summary equals ostree summary --view: refs, versions, timestamps, mode, last-modified, deltas', () => {
            const view = set.golden(name, 'summary-view.txt');
            const summary = parseSummary(new Uint8Array(readFileSync(join(dir, 'summary'))));
            const iso = (t: bigint | null) => (t === null ? null : new Date(Number(t) * 1000).toISOString().replace('.000Z', '+00'));
            const blocks = [
              ...view.matchAll(
                /^\* (\S+)\n {4}Latest Commit \([^)]*\):\n {6}([0-9a-f]{64})\n(?: {4}Version \(ostree\.commit\.version\): (.*)\n)?(?: {4}Timestamp \(ostree\.commit\.timestamp\): (.*)\n)?/gm,
              ),
            ];
            expect(blocks.length).toBe(summary.refs.length);
            for (const [, ref, commit, version, ts] of blocks) {
              const r = summary.refs.find((x) => x.name === ref);
              expect(r?.commit, ref).toBe(commit);
              expect(r?.version ?? undefined, ref).toBe(version);
              expect(iso(r?.timestamp ?? null) ?? undefined, ref).toBe(ts);
            }
            const mode = /^Repository Mode \(ostree\.summary\.mode\): (.*)$/m.exec(view)?.[1];
            expect(summary.mode ?? undefined).toBe(mode);
            const lastModified = /^Last-Modified \(ostree\.summary\.last-modified\): (.*)$/m.exec(view)?.[1];
            expect(iso(summary.lastModified) ?? undefined).toBe(lastModified);
            const deltaLine = /^Static Deltas \(ostree\.static-deltas\): \{(.*)\}$/m.exec(view)?.[1];
            // GLib prints an `ay` as `[byte 0x.., …]`, or as a bytestring when its only NUL is the
            // last byte (a digest ending in 0x00: 1 in 256): `b'…'`, or `b"…"` when the bytes hold a
            // single quote (0x27).
            const deltas = new Map(
              [...(deltaLine ?? '').matchAll(/'([0-9a-f-]+)': <(?:\[byte ([^\]]*)\]|b'((?:[^'\\]|\\.)*)'|b"((?:[^"\\]|\\.)*)")>/g)].map(
                ([, n, bytes, single, double]) => [
                  n as string,
                  bytes !== undefined
                    ? bytes
                        .split(', ')
                        .map((b) => b.replace('0x', ''))
                        .join('')
                    : glibBytestringHex((single ?? double) as string),
                ],
              ),
            );
            expect(new Map(summary.deltas)).toEqual(deltas);
          });
        }

        test('commits and full tree walks equal ostree ls -R', async () => {
          const local = await LocalRepo.open(dir);
          for (const [checksum, info] of Object.entries(repo.commits)) {
            const commit = await local.readCommit(checksum);
            expect(commit.rootTree).toBe(info.root_dirtree);
            expect(commit.rootMeta).toBe(info.root_dirmeta);
            const golden = set.golden(name, `ls/${checksum}.txt`).trim().split('\n');
            const ours: string[] = [];
            for await (const e of listTree(local, checksum)) {
              const perm = (e.mode & 0o7777).toString(8).padStart(5, '0');
              const xattrs = e.xattrs.length === 0 ? '{ @a(ayay) [] }' : `{ ${e.xattrs.length} xattrs }`;
              if (e.kind === 'dir') ours.push(`d${perm} ${e.uid} ${e.gid} 0 ${e.tree} ${e.meta} ${xattrs} ${e.path}`);
              else if (e.kind === 'symlink') ours.push(`l${perm} ${e.uid} ${e.gid} 0 ${e.checksum} ${xattrs} ${e.path} -> ${e.target}`);
              else ours.push(`-${perm} ${e.uid} ${e.gid} ${e.size} ${e.checksum} ${xattrs} ${e.path}`);
            }
            expect(ours).toEqual(golden.map((l) => l.replace(/ +/g, ' ')));
          }
        });

        test('superblocks equal ostree static-delta show', () => {
          for (const d of repo.deltas) {
            const bytes = new Uint8Array(readFileSync(join(dir, d.superblock)));
            const sb = parseDeltaSuperblock(bytes, d.superblock);
            expect(sb.to).toBe(d.to);
            expect(sb.from).toBe(d.from);
            expect(sha256Hex(sb.commitBytes)).toBe(d.to);
            expect(sb.parts.length).toBe(d.parts);
            // `ostree static-delta show` stops after the first part of an inline delta (it then fails
            // to open part file 0): compare what it printed.
            const ours = sb.parts.map((p) => ({ nobjects: p.objects.length, size: p.size, usize: p.uncompressedSize }));
            expect(d.ostree_show_ok ? ours : ours.slice(0, d.parts_meta.length)).toEqual(
              d.parts_meta.map((p) => ({ nobjects: p.nobjects, size: p.size, usize: p.usize })),
            );
            expect(sb.fallbacks.map((f) => f.checksum).sort()).toEqual([...d.fallback_checksums].sort());
            expect(sb.endianness).toBe(d.swapped_endianness ? 'big' : 'little');
            expect(sb.inlineParts.size).toBe(d.inline ? d.parts : 0);
            expect(superblockCommitMeta(sb) !== null).toBe(d.embeds_commitmeta);
          }
        });

        test('every static delta executes op by op into verified objects', async () => {
          const local = await LocalRepo.open(dir);
          for (const d of repo.deltas) {
            const sb = parseDeltaSuperblock(new Uint8Array(readFileSync(join(dir, d.superblock))), d.superblock);
            const ops: Record<string, number> = { S: 0, o: 0, w: 0, r: 0, R: 0, c: 0, B: 0 };
            const produced: DeltaOutput[] = [];
            for (const part of sb.parts) {
              const file = sb.inlineParts.get(part.index) ?? new Uint8Array(readFileSync(join(dir, d.path, String(part.index))));
              verifyPartFile(file, part);
              const payload = await decodePartFile(file, part.uncompressedSize, `${d.name} part ${part.index}`);
              const readSource = (c: Checksum) => readFilez(new Uint8Array(readFileSync(local.objectFile(ObjectType.FILE, c)))).content;
              const whole: DeltaOutput[] = [];
              const counts = executeDeltaPart(part, payload, (o) => whole.push(o), { readSource });
              for (const [k, v] of Object.entries(counts)) ops[k] = (ops[k] ?? 0) + v;
              produced.push(...whole);
              // Run a window at a time (as a pull does), each window given only its bytes of the
              // data blob, it produces the same objects and reads the same sources.
              const sources = deltaPartReadSources(part, payload);
              for (const maxBytes of [1, 4096, 256 * 1024, 2 ** 40]) {
                const windows = partWindows(part, payload.ops, payload.data.length, maxBytes);
                expect(windows[0]?.pc).toBe(0);
                expect(windows.at(-1)?.opsEnd).toBe(payload.ops.length);
                if (maxBytes === 2 ** 40) expect(windows.length).toBe(1);
                const got: DeltaOutput[] = [];
                const read = new Set<string>();
                for (const [i, window] of windows.entries()) {
                  if (i > 0) expect(window.pc).toBe(windows[i - 1]?.opsEnd);
                  if (i > 0) expect(window.fromObject).toBe(windows[i - 1]?.toObject);
                  const data = new Uint8Array(payload.data.subarray(window.dataStart, window.dataEnd));
                  const windowed = { window, dataLength: payload.data.length };
                  for (const c of deltaPartReadSources(part, { ops: payload.ops, data }, undefined, windowed)) read.add(c);
                  executeDeltaPart(part, { ...payload, data }, (o) => got.push(o), { readSource }, windowed);
                }
                expect([...read].sort()).toEqual([...sources].sort());
                expect(got.map((o) => o.checksum)).toEqual(whole.map((o) => o.checksum));
                for (const [i, o] of got.entries()) {
                  const w = whole[i] as DeltaOutput;
                  const bytes = (x: DeltaOutput) => (x.kind === 'metadata' ? x.bytes : x.content);
                  expect(Buffer.compare(bytes(o), bytes(w)), o.checksum).toBe(0);
                }
                // Every object with content reads the data blob (its bytes, a patch or a source's
                // checksum), so with a 1-byte bound no two of them share a window.
                const reading = whole.filter((o) => (o.kind === 'metadata' ? o.bytes : o.content).length > 0).length;
                if (maxBytes === 1) expect(windows.length).toBeGreaterThanOrEqual(reading);
              }
            }
            // Every object the delta produces equals (by checksum) the repository's object.
            expect(produced.length).toBe(sb.parts.reduce((n, p) => n + p.objects.length, 0));
            for (const o of produced) {
              const onDisk = new Uint8Array(readFileSync(local.objectFile(o.type, o.checksum)));
              if (o.kind === 'metadata') expect(sha256Hex(onDisk)).toBe(o.checksum);
              else expect(Buffer.compare(readFilez(onDisk).content, o.content), o.checksum).toBe(0);
            }
            if (d.ops !== undefined) {
              expect(ops).toEqual({
                S: d.ops.openspliceclose,
                o: d.ops.open,
                w: d.ops.write,
                r: d.ops.setread,
                R: d.ops.unsetread,
                c: d.ops.close,
                B: d.ops.bspatch,
              });
            }
            if (d.has_bsdiff_ops) expect(ops.B, d.name).toBeGreaterThan(0);
            if (d.has_rollsum_ops) expect(ops.r, d.name).toBeGreaterThan(0);
          }
        });

        if (repo.delta_indexes.length > 0) {
          test('delta indexes list the deltas that end at their commit', () => {
            for (const d of repo.deltas.filter((x) => x.indexed)) {
              const index = parseDeltaIndex(new Uint8Array(readFileSync(join(dir, deltaIndexPath(d.to)))));
              const digest = index.get(d.name);
              expect(digest, d.name).toBe(sha256Hex(new Uint8Array(readFileSync(join(dir, d.superblock)))));
            }
          });
        }

        if (repo.summary_idx) {
          test('Flatpak summary.idx subsummaries resolve the same commits as ostree rev-parse', () => {
            const index = parseSummaryIndex(new Uint8Array(readFileSync(join(dir, 'summary.idx'))));
            const allRefs = new Map(Object.entries(repo.heads));
            expect(index.subsummaries.map((s) => s.key).sort()).toEqual(Object.keys(repo.subsummaries ?? {}).sort());
            for (const entry of index.subsummaries) {
              const bytes = gunzipSync(readFileSync(join(dir, 'summaries', `${entry.checksum}.gz`)));
              expect(sha256Hex(bytes)).toBe(entry.checksum);
              const sub = parseSummary(new Uint8Array(bytes));
              expect(sub.refs.length).toBeGreaterThan(0);
              for (const r of sub.refs) {
                expect(allRefs.get(r.name), r.name).toBe(r.commit);
                expect(r.name.includes(entry.arch) || r.name.startsWith('appstream')).toBe(true);
              }
              expect(sub.refs.some((r) => r.flatpak !== null)).toBe(true);
            }
          });

          test('summary deltas turn an older subsummary into the current one', () => {
            const deltas = repo.summary_deltas ?? [];
            expect(deltas.length).toBeGreaterThan(0);
            for (const f of deltas) {
              const [from, to] = f.replace('.delta', '').split('-') as [string, string];
              const old = gunzipSync(readFileSync(join(dir, 'summaries', `${from}.gz`)));
              const delta = gunzipSync(readFileSync(join(dir, 'summaries', f)));
              const out = applySummaryDelta(new Uint8Array(old), new Uint8Array(delta));
              expect(sha256Hex(out)).toBe(to);
            }
          });
        }
      });
    }
  });
}
