/**
 * The `xz` program (XZ Utils) as an xz decoder: one child process per stream, compressed bytes to
 * its stdin, output into an {@link XzOutputSink}. It is liblzma itself, at the speed of `xz -d`,
 * on a core of its own, and nothing is compiled or downloaded at install: the program is the one
 * the system already has (Debian, Fedora, Arch and the Flatpak runtimes ship it). Where it is
 * missing, or is not XZ Utils' (BusyBox's `xz` applet), the WebAssembly decoder runs instead (see
 * xzDecoders.ts).
 *
 * The output goes to a temporary file (created and unlinked at once, in the OS temporary
 * directory: nothing is left behind, whatever happens), read into the sink in a few large reads
 * once xz has ended, or with `keepFile` handed to the caller, who reads it by range. Through a
 * pipe, the same bytes would arrive in tens of thousands of small
 * reads (xz writes 8 KiB at a time, a pipe holds 64 KiB), each a wake-up, a Buffer and a copy on
 * this thread: for a delta's hundreds of megabytes, seconds of CPU that the file does not cost.
 * Its size is polled while xz runs, so output past `limit` kills xz within one poll interval;
 * the file's size after the end is checked again before anything is read. Where no temporary
 * file can be made, the output is read from a pipe instead.
 *
 * The child gets a fixed environment for its options (XZ_DEFAULTS and XZ_OPT emptied: a user's
 * settings must not change decoding) and a decoder memory limit, so a hostile stream header cannot
 * make it allocate more than that. A child outlives nothing: when this process dies its stdin
 * closes and xz exits.
 */
import { type ChildProcessByStdio, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, fstat, fstatSync, openSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { readAt } from './readAt.js';
import { type XzOutput, XzOutputSink, type XzStream, type XzStreamError } from './xzOutput.js';

/** Decoder memory limit: xz -9 needs 65 MiB; anything above is refused, not allocated. */
const MEMLIMIT = '256MiB';
const STDERR_KEEP = 2048;
/** How often the output file's size is checked against the limit while xz runs, ms. */
const SIZE_POLL_MS = 50;

/** An unlinked temporary file open for reading and writing, or null where none can be made. */
function anonymousFile(): number | null {
  const path = join(tmpdir(), `flathub-fetch-xz-${process.pid}-${randomBytes(6).toString('hex')}`);
  let fd: number;
  try {
    fd = openSync(path, 'wx+', 0o600);
  } catch {
    return null;
  }
  try {
    unlinkSync(path);
  } catch {
    closeSync(fd);
    return null;
  }
  return fd;
}

export class XzProcessStream implements XzStream {
  readonly #child: ChildProcessByStdio<Writable, Readable | null, Readable>;
  readonly #sink: XzOutputSink;
  readonly #limit: number;
  /** The output file (see above), until it is read and closed; null when the output is piped. */
  #fd: number | null;
  #poll: ReturnType<typeof setInterval> | undefined;
  readonly #closed: Promise<void>;
  #error: XzStreamError | null = null;
  #exit: { code: number | null; signal: string | null } | null = null;
  #stderr = '';
  #destroyed = false;
  /** finish() is reading the output file. */
  #collecting = false;

  readonly #keepFile: boolean;

  /** `keepFile`: finish() hands the output file over (XzOutput.file) instead of reading it. */
  constructor(program: string, shared: ArrayBufferLike | null, limit: number, keepFile = false) {
    this.#sink = new XzOutputSink(shared, limit);
    this.#limit = limit;
    this.#keepFile = keepFile;
    this.#fd = anonymousFile();
    const env = { ...process.env, LC_ALL: 'C', XZ_DEFAULTS: '', XZ_OPT: '' };
    this.#child = spawn(program, ['--decompress', '--stdout', '--quiet', `--memlimit-decompress=${MEMLIMIT}`], {
      stdio: ['pipe', this.#fd ?? 'pipe', 'pipe'],
      env,
    }) as ChildProcessByStdio<Writable, Readable | null, Readable>;
    const child = this.#child;
    if (this.#fd !== null) {
      const fd = this.#fd;
      this.#poll = setInterval(() => {
        fstat(fd, (err, st) => {
          if (err === null && st.size > limit && this.#fd === fd) this.#fail({ ...this.#sink.tooLarge(), size: st.size });
        });
      }, SIZE_POLL_MS);
      this.#poll.unref();
    } else {
      child.stdout?.on('data', (b: Buffer) => {
        if (this.#error !== null) return;
        if (!this.#sink.write(b)) this.#fail(this.#sink.tooLarge());
      });
    }
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (s: string) => {
      if (this.#stderr.length < STDERR_KEEP) this.#stderr += s.slice(0, STDERR_KEEP - this.#stderr.length);
    });
    // EPIPE when xz stops reading (it failed, or was killed): its exit status tells why.
    child.stdin.on('error', () => undefined);
    this.#closed = new Promise<void>((resolve) => {
      child.once('error', (err) => {
        this.#fail({ kind: 'xz', message: `cannot run ${program}: ${err.message}` });
        this.#closeFile();
        resolve();
      });
      child.once('close', (code, signal) => {
        this.#exit = { code, signal };
        // The output stays in its file until finish() reads it (or destroy() drops it).
        clearInterval(this.#poll);
        resolve();
      });
    });
  }

  push(bytes: Uint8Array): Promise<void> | undefined {
    const stdin = this.#child.stdin;
    // xz already stopped (it failed on bad data, or was killed): the rest of the input is moot,
    // and finish() reports why.
    if (this.#error !== null || this.#destroyed || this.#exit !== null || stdin.destroyed) return undefined;
    // A view, not a copy (a pipe write can be queued: the caller must not change the bytes).
    if (stdin.write(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength))) return undefined;
    return new Promise<void>((resolve) => {
      const done = () => {
        stdin.off('drain', done);
        stdin.off('close', done);
        this.#child.off('close', done);
        resolve();
      };
      stdin.on('drain', done);
      stdin.on('close', done);
      this.#child.on('close', done);
      // It may have stopped between the write and here: 'close' would not come again.
      if (this.#exit !== null || stdin.destroyed) done();
    });
  }

  async finish(): Promise<XzOutput> {
    if (this.#destroyed) throw { kind: 'xz', message: 'stream destroyed' } satisfies XzStreamError;
    if (this.#error === null) this.#child.stdin.end();
    await this.#closed;
    const exit = this.#exit;
    if (this.#error !== null || exit === null || exit.code !== 0) this.#closeFile();
    if (this.#error !== null) throw this.#error;
    if (exit === null || exit.code !== 0) {
      throw { kind: 'xz', message: this.#reason(exit) } satisfies XzStreamError;
    }
    if (this.#keepFile && this.#fd !== null) return this.#handOver(this.#fd);
    this.#collecting = true;
    try {
      await this.#collect();
    } finally {
      this.#collecting = false;
      this.#closeFile();
    }
    if (this.#destroyed) throw { kind: 'xz', message: 'stream destroyed' } satisfies XzStreamError;
    if (this.#error !== null) throw this.#error;
    return this.#sink.take();
  }

  destroy(): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    if (this.#exit === null) this.#child.kill('SIGKILL');
    // A read in flight closes the file when it ends (its descriptor must not be reused under it).
    if (!this.#collecting) this.#closeFile();
  }

  /**
   * After a clean exit, in finish(): the output file into the sink (its size checked against the
   * limit first). Not at the exit itself: the caller decides when the output becomes memory.
   */
  async #collect(): Promise<void> {
    const fd = this.#fd;
    if (fd === null || this.#error !== null || this.#destroyed || this.#exit?.code !== 0) return;
    try {
      const size = fstatSync(fd).size;
      if (size > this.#limit) {
        this.#fail({ ...this.#sink.tooLarge(), size });
        return;
      }
      await this.#sink.fill(size, (into, position) => readAt(fd, into, position));
    } catch (err) {
      this.#fail({ kind: 'xz', message: `reading the output: ${(err as Error).message}` });
    }
  }

  /** The output file, size-checked, for the caller to read and close (see keepFile). */
  #handOver(fd: number): XzOutput {
    let size: number;
    try {
      size = fstatSync(fd).size;
    } catch (err) {
      this.#closeFile();
      throw { kind: 'xz', message: `reading the output: ${(err as Error).message}` } satisfies XzStreamError;
    }
    if (size > this.#limit) {
      this.#closeFile();
      throw { ...this.#sink.tooLarge(), size } satisfies XzStreamError;
    }
    this.#fd = null;
    return { outSize: size, inShared: 0, overflow: [], file: fd };
  }

  #closeFile(): void {
    clearInterval(this.#poll);
    if (this.#fd === null) return;
    const fd = this.#fd;
    this.#fd = null;
    try {
      closeSync(fd);
    } catch {
      // already closed
    }
  }

  #fail(err: XzStreamError): void {
    if (this.#error !== null) return;
    this.#error = err;
    if (this.#exit === null) this.#child.kill('SIGKILL');
  }

  /** xz's own message ("(stdin): Unexpected end of input" → "unexpected end of input"). */
  #reason(exit: { code: number | null; signal: string | null } | null): string {
    const line = this.#stderr
      .split('\n')
      .map((l) => l.replace(/^[^:]*xz: (\(stdin\): )?/, '').trim())
      .find((l) => l !== '');
    if (line !== undefined) return line.charAt(0).toLowerCase() + line.slice(1);
    if (exit?.signal) return `xz was killed by ${exit.signal}`;
    return `xz exited with status ${exit?.code ?? 'unknown'}`;
  }
}
