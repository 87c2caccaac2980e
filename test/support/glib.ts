/**
 * GLib as a test oracle: spawns `test/tools/glib_variant.py` under the system Python (which
 * has python3-gi) and talks JSON lines to it. One helper process per test file serves every
 * request; requests are pipelined, so thousands of cases cost little more than GLib's own time.
 *
 * Availability: `glibStatus()` probes `/usr/bin/python3` once (synchronously, so suites can be
 * skipped at collection time). `describeWithGlib()` runs a suite when GLib is there; when it is
 * not, the suite fails loudly under `CI=true` and is otherwise skipped with the reason in its
 * name, so a missing oracle is never a silent pass.
 *
 * Values cross the pipe in a type-directed JSON form (see the helper's docstring):
 * `toGlibJson`/`fromGlibJson` convert between it and the codec's JS values.
 */
import { type ChildProcessWithoutNullStreams, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'vitest';
import { type GVariantType, parseType } from '../../packages/client/src/gvariant/GVariantType.js';
import { Variant } from '../../packages/client/src/gvariant/Variant.js';

/** The interpreter with python3-gi (an absolute path). The pyenv `python3` first on PATH has no gi. */
export const PYTHON = process.env.GLIB_PYTHON ?? '/usr/bin/python3';
export const HELPER = fileURLToPath(new URL('../tools/glib_variant.py', import.meta.url));

export interface GlibStatus {
  readonly available: boolean;
  /** CI=true: a missing GLib is a test failure, not a skip. */
  readonly required: boolean;
  /** Why GLib is unavailable ('' when available). */
  readonly reason: string;
  /** GLib version, e.g. "2.74.4", when available. */
  readonly version: string;
}

let status: GlibStatus | undefined;

/** Probes once whether `PYTHON` can import GLib through gi. */
export function glibStatus(): GlibStatus {
  if (status !== undefined) return status;
  const required = process.env.CI === 'true';
  let reason = '';
  let version = '';
  if (!existsSync(PYTHON)) reason = `${PYTHON} not found`;
  else if (!existsSync(HELPER)) reason = `${HELPER} not found`;
  else {
    const probe = spawnSync(
      PYTHON,
      [
        '-c',
        "import gi; gi.require_version('GLib', '2.0'); from gi.repository import GLib; print('%d.%d.%d' % (GLib.MAJOR_VERSION, GLib.MINOR_VERSION, GLib.MICRO_VERSION))",
      ],
      { encoding: 'utf8', timeout: 20_000 },
    );
    if (probe.error !== undefined) reason = `cannot run ${PYTHON}: ${probe.error.message}`;
    else if (probe.status !== 0) reason = `${PYTHON} cannot import GLib via gi (install python3-gi): ${lastLine(probe.stderr)}`;
    else version = probe.stdout.trim();
  }
  status = { available: reason === '', required, reason, version };
  return status;
}

/** True when the GLib oracle can run here. */
export function hasGlib(): boolean {
  return glibStatus().available;
}

/**
 * `describe` for suites that need GLib. Without GLib: under CI=true one failing test says why;
 * otherwise the suite is skipped and the reason is in its name.
 */
export function describeWithGlib(name: string, fn: () => void): void {
  const st = glibStatus();
  if (st.available) {
    describe(`${name} [GLib ${st.version}]`, fn);
  } else if (st.required) {
    describe(name, () => {
      test('GLib oracle is required when CI=true', () => {
        throw new Error(`GLib oracle unavailable: ${st.reason}. Install python3-gi for ${PYTHON} (or set GLIB_PYTHON).`);
      });
    });
  } else {
    describe.skip(`${name} [skipped: needs python3-gi (GLib): ${st.reason}]`, fn);
  }
}

function lastLine(s: string): string {
  const lines = s.trim().split('\n');
  return lines[lines.length - 1] ?? '';
}

// -- the JSON value form ------------------------------------------------------------------

/** A value in the helper's JSON form. */
export type GJson = null | boolean | number | string | GJson[] | { type: string; value: GJson };

/** Converts a codec JS value of GVariant type `type` to the helper's JSON form. */
export function toGlibJson(type: string | GVariantType, value: unknown): GJson {
  return toJson(typeof type === 'string' ? parseType(type) : type, value, false);
}

function toJson(t: GVariantType, v: unknown, canon: boolean): GJson {
  // In canonical mode also check the JS shape, so a value of the wrong JS type never compares equal.
  if (canon) checkShape(t, v);
  switch (t.kind) {
    case 'basic':
      switch (t.char) {
        case 'b':
          return v as boolean;
        case 'x':
        case 't':
          return String(v as bigint | number);
        case 'd':
          return canon && Number.isNaN(v) ? 'nan' : doubleHex(v as number);
        default:
          return v as number | string;
      }
    case 'variant': {
      const vv = v as Variant;
      return { type: vv.type, value: toJson(parseType(vv.type), vv.value, canon) };
    }
    case 'array':
      if (t.element.kind === 'basic' && t.element.char === 'y') return hex(v as Uint8Array);
      return (v as unknown[]).map((x) => toJson(t.element, x, canon));
    case 'maybe':
      if (v === null || v === undefined) return null;
      return [toJson(t.element, t.element.kind === 'maybe' ? (v as unknown[])[0] : v, canon)];
    case 'tuple':
    case 'dict-entry':
      return t.members.map((m, i) => toJson(m, (v as unknown[])[i], canon));
  }
}

function checkShape(t: GVariantType, v: unknown): void {
  let ok: boolean;
  switch (t.kind) {
    case 'basic':
      ok =
        t.char === 'b'
          ? typeof v === 'boolean'
          : t.char === 'x' || t.char === 't'
            ? typeof v === 'bigint'
            : t.char === 's' || t.char === 'o' || t.char === 'g'
              ? typeof v === 'string'
              : typeof v === 'number';
      break;
    case 'variant':
      ok = v instanceof Variant;
      break;
    case 'array':
      ok = t.element.kind === 'basic' && t.element.char === 'y' ? v instanceof Uint8Array : Array.isArray(v);
      break;
    case 'maybe':
      ok = v === null || t.element.kind !== 'maybe' || (Array.isArray(v) && v.length === 1);
      break;
    default:
      ok = Array.isArray(v) && v.length === t.members.length;
  }
  if (!ok) throw new Error(`value of JS type ${describeJs(v)} does not have the shape of GVariant "${t.text}"`);
}

function describeJs(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return `array(${v.length})`;
  if (typeof v === 'object') return (v as object).constructor?.name ?? 'object';
  return typeof v;
}

/** Converts the helper's JSON form back to the codec's JS value (for comparisons). */
export function fromGlibJson(type: string | GVariantType, json: GJson): unknown {
  return fromJson(typeof type === 'string' ? parseType(type) : type, json);
}

function fromJson(t: GVariantType, j: GJson): unknown {
  switch (t.kind) {
    case 'basic':
      switch (t.char) {
        case 'x':
        case 't':
          return BigInt(j as string);
        case 'd':
          return hexDouble(j as string);
        default:
          return j;
      }
    case 'variant': {
      const o = j as { type: string; value: GJson };
      return new Variant(o.type, fromJson(parseType(o.type), o.value));
    }
    case 'array':
      if (t.element.kind === 'basic' && t.element.char === 'y') return unhex(j as string);
      return (j as GJson[]).map((x) => fromJson(t.element, x));
    case 'maybe': {
      if (j === null) return null;
      const inner = fromJson(t.element, (j as GJson[])[0] as GJson);
      return t.element.kind === 'maybe' ? [inner] : inner;
    }
    case 'tuple':
    case 'dict-entry':
      return t.members.map((m, i) => fromJson(m, (j as GJson[])[i] as GJson));
  }
}

/**
 * A canonical string for comparing two values of one type: the JSON form, with every NaN
 * written as "nan" (GLib keeps NaN payloads; a JS number cannot).
 */
export function canonical(type: string | GVariantType, value: unknown): string {
  return JSON.stringify(toJson(typeof type === 'string' ? parseType(type) : type, value, true));
}

/** `canonical` of a value in the helper's JSON form. */
export function canonicalJson(type: string | GVariantType, json: GJson): string {
  return canonical(type, fromGlibJson(type, json));
}

const f64 = new DataView(new ArrayBuffer(8));

export function doubleHex(d: number): string {
  f64.setFloat64(0, d, false);
  return hex(new Uint8Array(f64.buffer));
}

export function hexDouble(h: string): number {
  new Uint8Array(f64.buffer).set(unhex(h));
  return f64.getFloat64(0, false);
}

export function hex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

export function unhex(h: string): Uint8Array {
  const b = Buffer.from(h, 'hex');
  if (b.length * 2 !== h.length) throw new Error(`bad hex string of ${h.length} characters`);
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

// -- the helper process -------------------------------------------------------------------

export interface EncodeResult {
  /** GLib's serialisation (normal form), hex. */
  hex: string;
  /** g_variant_byteswap() of it, when asked for. */
  swapped?: string;
}

export interface DecodeResult {
  /** g_variant_is_normal_form(). */
  normal: boolean;
  /** What GLib's getters return (defaults where the data is not normal); null when not `readable`. */
  value: GJson;
  /** g_variant_get_normal_form(), hex; null when not `readable` and not normal. */
  normalHex: string | null;
  /**
   * False for types nested deeper than 128 (possible only at top level): GLib aborts when it
   * reads such untrusted data, so the helper answers `normal` only.
   */
  readable: boolean;
}

interface Pending {
  resolve: (v: Record<string, unknown>) => void;
  reject: (e: Error) => void;
  op: string;
}

/** One running helper process. Start with `GlibOracle.start()`; `close()` when done. */
export class GlibOracle {
  private readonly proc: ChildProcessWithoutNullStreams;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private buffered = '';
  private stderrTail = '';
  private dead: Error | undefined;

  private constructor() {
    this.proc = spawn(PYTHON, ['-u', HELPER], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.proc.stdout.setEncoding('utf8');
    this.proc.stdout.on('data', (chunk: string) => this.onData(chunk));
    // Always drain stderr (GLib criticals go there) so the helper never blocks on a full pipe.
    this.proc.stderr.setEncoding('utf8');
    this.proc.stderr.on('data', (chunk: string) => {
      this.stderrTail = (this.stderrTail + chunk).slice(-4000);
    });
    this.proc.on('error', (e) => this.fail(new Error(`GLib helper: ${e.message}`)));
    this.proc.on('exit', (code, signal) =>
      this.fail(new Error(`GLib helper exited (code ${code}, signal ${signal}); stderr: ${this.stderrTail}`)),
    );
    this.proc.stdin.on('error', (e) => this.fail(new Error(`GLib helper stdin: ${e.message}`)));
  }

  static async start(): Promise<GlibOracle> {
    const o = new GlibOracle();
    await o.request({ op: 'hello' });
    return o;
  }

  /** Sends one raw request; resolves with the answer, rejects if the helper reports an error. */
  request(req: Record<string, unknown>): Promise<Record<string, unknown>> {
    if (this.dead !== undefined) return Promise.reject(this.dead);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, op: String(req.op) });
      this.proc.stdin.write(`${JSON.stringify({ ...req, id })}\n`);
    });
  }

  /** GLib builds `value` (a codec JS value) with its constructors and serialises it. */
  async encode(type: string, value: unknown, options?: { byteswap?: boolean }): Promise<EncodeResult> {
    return (await this.request({
      op: 'encode',
      type,
      value: toGlibJson(type, value),
      byteswap: options?.byteswap ?? false,
    })) as unknown as EncodeResult;
  }

  /** `encode` with the value already in JSON form. */
  async encodeJson(type: string, value: GJson, options?: { byteswap?: boolean }): Promise<EncodeResult> {
    return (await this.request({ op: 'encode', type, value, byteswap: options?.byteswap ?? false })) as unknown as EncodeResult;
  }

  /** GLib reads `bytes` as an untrusted serialised `type`. */
  async decode(type: string, bytes: Uint8Array): Promise<DecodeResult> {
    return (await this.request({ op: 'decode', type, hex: hex(bytes) })) as unknown as DecodeResult;
  }

  /** g_variant_byteswap() of `bytes` read as `type`. */
  async byteswap(type: string, bytes: Uint8Array): Promise<Uint8Array> {
    return unhex(((await this.request({ op: 'byteswap', type, hex: hex(bytes) })) as { hex: string }).hex);
  }

  /** Whether GLib accepts `type` as a type string, and whether it is definite. */
  async typeInfo(type: string): Promise<{ valid: boolean; definite: boolean }> {
    return (await this.request({ op: 'type', type })) as unknown as { valid: boolean; definite: boolean };
  }

  /** Ends the helper (closing stdin lets it exit cleanly). */
  async close(): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.proc.once('exit', () => resolve()));
    this.proc.stdin.end();
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }

  private onData(chunk: string): void {
    this.buffered += chunk;
    let nl = this.buffered.indexOf('\n');
    while (nl !== -1) {
      const line = this.buffered.slice(0, nl);
      this.buffered = this.buffered.slice(nl + 1);
      nl = this.buffered.indexOf('\n');
      if (line.trim() === '') continue;
      let msg: Record<string, unknown>;
      try {
        msg = JSON.parse(line) as Record<string, unknown>;
      } catch {
        this.fail(new Error(`GLib helper wrote a line that is not JSON: ${line.slice(0, 200)}`));
        return;
      }
      const id = msg.id as number;
      const p = this.pending.get(id);
      if (p === undefined) continue;
      this.pending.delete(id);
      if (typeof msg.error === 'string') p.reject(new Error(`GLib helper ${p.op}: ${msg.error}`));
      else p.resolve(msg);
    }
  }

  private fail(e: Error): void {
    if (this.dead === undefined) this.dead = e;
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }
}
