/**
 * The exporter's configuration: which probe modules exist, what each probes, and which targets
 * each may be pointed at. A JSON document (see README, "exporter"); every key is checked, an
 * unknown one is an error (a typo must not silently widen or disable a limit).
 */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { FlathubFetchError } from '../errors/FlathubFetchError.js';
import { ErrorCodes } from '../errors/codes.js';
import { invalidArgument as invalid } from '../errors/invalidArgument.js';
import { normalisePrefix, targetProblem } from './targets.js';

/** Probers this version implements (a module names one). */
export const PROBERS = ['mirror', 'pull', 'doctor'] as const;
export type ProberName = (typeof PROBERS)[number];

interface ModuleBase {
  name: string;
  /** Upper bound of one probe, seconds (Prometheus' scrape timeout lowers it). */
  timeout: number;
  /** Normalised URL prefixes a target must start with (or `*`). */
  targets: string[];
}

export interface MirrorModule extends ModuleBase {
  prober: 'mirror';
  primary: string;
  refs: string[];
  maxRefs: number;
  sample: number;
  /** Key material (armored or binary, read from `gpgKeyFiles`). */
  gpgKeys: Array<string | Uint8Array>;
  maxLag: number;
  connections: number;
}

export interface PullModule extends ModuleBase {
  prober: 'pull';
  ref: string;
  deltas: 'prefer' | 'never' | 'require';
  connections: number;
  /** Where the throwaway repositories go. */
  workDir: string | null;
}

export interface DoctorModule extends ModuleBase {
  prober: 'doctor';
  /** Objects sampled per probe (see diagnoseConnection). */
  objects: number;
  /** Ref whose delta part and objects are sampled (null: the first in the summary). */
  ref: string | null;
}

export type ExporterModule = MirrorModule | PullModule | DoctorModule;

export interface ExporterConfig {
  /** Probes running at once. */
  concurrency: number;
  /** Probes waiting for a slot; one more is answered 503. */
  queue: number;
  modules: Map<string, ExporterModule>;
}

type Json = Record<string, unknown>;

const MODULE_NAME = /^[A-Za-z0-9_.-]{1,64}$/;

/** Reads and checks a configuration file; `gpgKeyFiles` are read relative to its directory. */
export async function loadExporterConfig(path: string): Promise<ExporterConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new FlathubFetchError(
      ErrorCodes.FS,
      `exporter config ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      {
        op: 'read',
        path,
        errno: (err as NodeJS.ErrnoException).code,
      },
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw invalid('config', path, `not JSON: ${(err as Error).message}`);
  }
  const base = dirname(resolve(path));
  return parseExporterConfig(json, async (file) => readFile(resolve(base, file)));
}

/** Checks a parsed configuration; `readKey` loads a `gpgKeyFiles` entry. */
export async function parseExporterConfig(json: unknown, readKey: (file: string) => Promise<Uint8Array>): Promise<ExporterConfig> {
  const top = object(json, 'config');
  only(top, 'config', ['concurrency', 'queue', 'modules']);
  const mods = object(top.modules, 'config.modules');
  const modules = new Map<string, ExporterModule>();
  for (const [name, raw] of Object.entries(mods)) {
    if (!MODULE_NAME.test(name)) throw invalid(`config.modules`, name, 'a module name is 1–64 of A-Z a-z 0-9 _ . -');
    modules.set(name, await parseModule(name, raw, readKey));
  }
  if (modules.size === 0) throw invalid('config.modules', mods, 'at least one module');
  return {
    concurrency: int(top.concurrency, 'config.concurrency', 2, 1, 64),
    queue: int(top.queue, 'config.queue', 8, 0, 1024),
    modules,
  };
}

async function parseModule(name: string, raw: unknown, readKey: (file: string) => Promise<Uint8Array>): Promise<ExporterModule> {
  const at = `config.modules.${name}`;
  const m = object(raw, at);
  const prober = m.prober;
  if (!PROBERS.includes(prober as ProberName)) throw invalid(`${at}.prober`, prober, `expected one of ${PROBERS.join(', ')}`);
  const targets = m.targets;
  if (!Array.isArray(targets) || targets.length === 0)
    throw invalid(`${at}.targets`, targets, 'a non-empty list of URL prefixes (or "*" for any URL)');
  const common = {
    name,
    timeout: num(m.timeout, `${at}.timeout`, 60, 1, 3600),
    targets: targets.map((t, i) => normalisePrefix(t, `${at}.targets[${i}]`)),
  };
  if (prober === 'mirror') {
    only(m, at, ['prober', 'timeout', 'targets', 'primary', 'refs', 'maxRefs', 'sample', 'gpgKeyFiles', 'maxLag', 'connections']);
    const primary = m.primary;
    if (typeof primary !== 'string' || targetProblem(primary) !== null) throw invalid(`${at}.primary`, primary, 'an http(s) URL');
    const files = strings(m.gpgKeyFiles, `${at}.gpgKeyFiles`, []);
    const gpgKeys: Uint8Array[] = [];
    for (const f of files) {
      try {
        gpgKeys.push(await readKey(f));
      } catch (err) {
        throw invalid(`${at}.gpgKeyFiles`, f, `cannot read it: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      }
    }
    return {
      ...common,
      prober,
      primary,
      refs: strings(m.refs, `${at}.refs`, ['*']),
      maxRefs: int(m.maxRefs, `${at}.maxRefs`, 3, 1, 1000),
      sample: int(m.sample, `${at}.sample`, 20, 0, 10_000),
      gpgKeys,
      maxLag: int(m.maxLag, `${at}.maxLag`, 0, 0, 365 * 86400),
      connections: int(m.connections, `${at}.connections`, 4, 1, 64),
    };
  }
  if (prober === 'doctor') {
    only(m, at, ['prober', 'timeout', 'targets', 'objects', 'ref']);
    if (m.ref !== undefined && (typeof m.ref !== 'string' || m.ref === '')) throw invalid(`${at}.ref`, m.ref, 'a ref');
    return { ...common, prober, objects: int(m.objects, `${at}.objects`, 4, 0, 100), ref: (m.ref as string | undefined) ?? null };
  }
  only(m, at, ['prober', 'timeout', 'targets', 'ref', 'deltas', 'connections', 'workDir']);
  if (typeof m.ref !== 'string' || m.ref === '') throw invalid(`${at}.ref`, m.ref, 'the ref (or REF@COMMIT) each probe pulls');
  const deltas = m.deltas ?? 'prefer';
  if (deltas !== 'prefer' && deltas !== 'never' && deltas !== 'require') throw invalid(`${at}.deltas`, deltas, 'prefer, never or require');
  if (m.workDir !== undefined && typeof m.workDir !== 'string') throw invalid(`${at}.workDir`, m.workDir, 'a directory');
  return {
    ...common,
    prober: 'pull',
    ref: m.ref,
    deltas,
    connections: int(m.connections, `${at}.connections`, 4, 1, 64),
    workDir: (m.workDir as string | undefined) ?? null,
  };
}

function object(v: unknown, at: string): Json {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw invalid(at, v, 'expected an object');
  return v as Json;
}

function only(o: Json, at: string, keys: readonly string[]): void {
  for (const k of Object.keys(o)) if (!keys.includes(k)) throw invalid(`${at}.${k}`, o[k], `unknown key (known: ${keys.join(', ')})`);
}

function num(v: unknown, at: string, d: number, min: number, max: number): number {
  const x = v ?? d;
  if (typeof x !== 'number' || !Number.isFinite(x) || x < min || x > max) throw invalid(at, v, `expected a number from ${min} to ${max}`);
  return x;
}

function int(v: unknown, at: string, d: number, min: number, max: number): number {
  const x = num(v, at, d, min, max);
  if (!Number.isInteger(x)) throw invalid(at, v, `expected an integer from ${min} to ${max}`);
  return x;
}

function strings(v: unknown, at: string, d: string[]): string[] {
  if (v === undefined) return d;
  if (!Array.isArray(v) || v.some((s) => typeof s !== 'string' || s === '')) throw invalid(at, v, 'expected a list of strings');
  return v as string[];
}
