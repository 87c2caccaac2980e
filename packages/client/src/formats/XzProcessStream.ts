/**
 * The `xz` program (XZ Utils) as an xz decoder: one child process per stream, compressed bytes to
 * its stdin, output from its stdout into an {@link XzOutputSink}. It is liblzma itself, at the
 * speed of `xz -d`, on a core of its own, and nothing is compiled or downloaded at install: the
 * program is the one the system already has (Debian, Fedora, Arch and the Flatpak runtimes ship
 * it). Where it is missing, or is not XZ Utils' (BusyBox's `xz` applet), the WebAssembly decoder
 * runs instead (see xzDecoders.ts).
 *
 * The child gets a fixed environment for its options (XZ_DEFAULTS and XZ_OPT emptied: a user's
 * settings must not change decoding) and a decoder memory limit, so a hostile stream header cannot
 * make it allocate more than that. Output beyond `limit` kills it. A child outlives nothing: when
 * this process dies its stdin closes and xz exits.
 */
import { type ChildProcessByStdio, spawn } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { threadGarbage } from './garbageBudget.js';
import { type XzOutput, XzOutputSink, type XzStream, type XzStreamError } from './xzOutput.js';

/** Decoder memory limit: xz -9 needs 65 MiB; anything above is refused, not allocated. */
const MEMLIMIT = '256MiB';
const STDERR_KEEP = 2048;

export class XzProcessStream implements XzStream {
  readonly #child: ChildProcessByStdio<Writable, Readable, Readable>;
  readonly #sink: XzOutputSink;
  readonly #closed: Promise<void>;
  #error: XzStreamError | null = null;
  #exit: { code: number | null; signal: string | null } | null = null;
  #stderr = '';
  #destroyed = false;

  constructor(program: string, shared: ArrayBufferLike | null, limit: number) {
    this.#sink = new XzOutputSink(shared, limit);
    const env = { ...process.env, LC_ALL: 'C', XZ_DEFAULTS: '', XZ_OPT: '' };
    this.#child = spawn(program, ['--decompress', '--stdout', '--quiet', `--memlimit-decompress=${MEMLIMIT}`], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env,
    });
    const child = this.#child;
    child.stdout.on('data', (b: Buffer) => {
      if (this.#error !== null) return;
      if (!this.#sink.write(b)) this.#fail(this.#sink.tooLarge());
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (s: string) => {
      if (this.#stderr.length < STDERR_KEEP) this.#stderr += s.slice(0, STDERR_KEEP - this.#stderr.length);
    });
    // EPIPE when xz stops reading (it failed, or was killed): its exit status tells why.
    child.stdin.on('error', () => undefined);
    this.#closed = new Promise<void>((resolve) => {
      child.once('error', (err) => {
        this.#fail({ kind: 'xz', message: `cannot run ${program}: ${err.message}` });
        resolve();
      });
      child.once('close', (code, signal) => {
        this.#exit = { code, signal };
        resolve();
      });
    });
  }

  push(bytes: Uint8Array): Promise<void> | undefined {
    const stdin = this.#child.stdin;
    // xz already stopped (it failed on bad data, or was killed): the rest of the input is moot,
    // and finish() reports why.
    if (this.#error !== null || this.#destroyed || this.#exit !== null || stdin.destroyed) return undefined;
    // A copy: the caller may reuse its buffer once this returns, and a pipe write can be queued.
    // Garbage once written (see GarbageBudget).
    threadGarbage.note(bytes.length);
    if (stdin.write(Buffer.from(bytes))) return undefined;
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
    if (this.#error !== null) throw this.#error;
    const exit = this.#exit;
    if (exit === null || exit.code !== 0) {
      throw { kind: 'xz', message: this.#reason(exit) } satisfies XzStreamError;
    }
    return this.#sink.take();
  }

  destroy(): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    if (this.#exit === null) this.#child.kill('SIGKILL');
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
