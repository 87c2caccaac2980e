/**
 * What one server publishes at the top of the repository, fetched raw and parsed: `summary`,
 * `summary.sig`, `summary.idx`, `summary.idx.sig`, Flatpak's `summaries/<sha256(idx)>.idx.sig`
 * and the selected subsummaries; the refs and summary-listed deltas they advertise.
 */
import { gunzipSync } from 'node:zlib';
import { type Checksum, sha256Hex } from '../formats/checksum.js';
import { subsummaryPath } from '../formats/paths.js';
import { parseSummary, type Summary } from '../formats/Summary.js';
import { parseSummaryIndex, type SummaryIndex } from '../formats/SummaryIndex.js';
import { describeExchange, type Exchange, outcome } from './Exchange.js';
import type { MirrorSession } from './MirrorSession.js';

export const TOP_FILES = ['summary', 'summary.sig', 'summary.idx', 'summary.idx.sig'] as const;
export type TopFile = (typeof TOP_FILES)[number];

export interface SubsummaryView {
  key: string;
  checksum: Checksum;
  path: string;
  exchange: Exchange;
  /** Null when unavailable or unusable (`problem` says why). */
  summary: Summary | null;
  problem: string | null;
}

export interface RepoView {
  files: Map<TopFile, Exchange>;
  summary: Summary | null;
  index: SummaryIndex | null;
  /** `summaries/<sha256(summary.idx)>.idx.sig` (what flatpak 1.9.3+ fetches), when the index exists. */
  indexSig: Exchange | null;
  subsummaries: SubsummaryView[];
  /** Ref → commit, from the subsummaries with an index, else from the summary. */
  refs: Map<string, Checksum>;
  /** Deltas the summary (or the subsummaries) list: name → superblock digest. */
  summaryDeltas: Map<string, Checksum>;
  /** `ostree.summary.last-modified` (of the index, else the summary), seconds. */
  lastModified: number | null;
  /** Files that answered but could not be parsed: file → reason. */
  unparsable: Map<string, string>;
}

export interface LoadViewOptions {
  files: readonly TopFile[];
  /** Subsummary keys to read; null for every one of the index. */
  arches: readonly string[] | null;
  maxBytes: number;
}

export async function loadRepoView(session: MirrorSession, o: LoadViewOptions): Promise<RepoView> {
  const fetched = await Promise.all(o.files.map((f) => session.get(f, f, o.maxBytes)));
  const files = new Map<TopFile, Exchange>(o.files.map((f, i) => [f, fetched[i] as Exchange]));
  const unparsable = new Map<string, string>();
  const parse = <T>(file: string, e: Exchange | undefined, fn: (b: Uint8Array) => T): T | null => {
    if (e === undefined || outcome(e) !== 'ok' || e.body === null) return null;
    try {
      return fn(e.body);
    } catch (err) {
      unparsable.set(file, (err as Error).message);
      return null;
    }
  };
  const summary = parse('summary', files.get('summary'), (b) => parseSummary(b, session.resolve('summary')));
  const idxExchange = files.get('summary.idx');
  const index = parse('summary.idx', idxExchange, (b) => parseSummaryIndex(b, session.resolve('summary.idx')));
  let indexSig: Exchange | null = null;
  const subsummaries: SubsummaryView[] = [];
  if (index !== null && idxExchange?.body) {
    const entries = index.subsummaries.filter((s) => o.arches === null || o.arches.includes(s.key));
    const sigPath = `summaries/${sha256Hex(idxExchange.body)}.idx.sig`;
    const [sig, ...subs] = await Promise.all([
      session.get(sigPath, 'idx-sig', o.maxBytes),
      ...entries.map((s) => session.get(subsummaryPath(s.checksum), 'subsummary', o.maxBytes)),
    ]);
    indexSig = sig as Exchange;
    entries.forEach((s, i) => {
      const e = subs[i] as Exchange;
      const path = subsummaryPath(s.checksum);
      let parsed: Summary | null = null;
      let problem: string | null = null;
      if (outcome(e) !== 'ok' || e.body === null) problem = describeExchange(e);
      else {
        try {
          const bytes = gunzipSync(e.body, { maxOutputLength: o.maxBytes });
          const actual = sha256Hex(bytes);
          if (actual !== s.checksum) problem = `uncompressed SHA-256 ${actual}`;
          else parsed = parseSummary(bytes, session.resolve(path));
        } catch (err) {
          problem = (err as Error).message;
        }
      }
      subsummaries.push({ key: s.key, checksum: s.checksum, path, exchange: e, summary: parsed, problem });
    });
  }
  const refs = new Map<string, Checksum>();
  const summaryDeltas = new Map<string, Checksum>();
  const sources = index !== null ? subsummaries.map((s) => s.summary) : [summary];
  for (const s of sources) {
    if (s === null) continue;
    for (const r of s.refs) refs.set(r.name, r.commit);
    for (const list of s.collections.values()) for (const r of list) refs.set(r.name, r.commit);
    for (const [name, digest] of s.deltas) summaryDeltas.set(name, digest);
  }
  if (index !== null && summary !== null) for (const [name, digest] of summary.deltas) summaryDeltas.set(name, digest);
  const lm = index?.lastModified ?? summary?.lastModified ?? null;
  return {
    files,
    summary,
    index,
    indexSig,
    subsummaries,
    refs,
    summaryDeltas,
    lastModified: lm === null ? null : Number(lm),
    unparsable,
  };
}
