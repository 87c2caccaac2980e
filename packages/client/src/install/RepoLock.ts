/**
 * Holding libostree's repository lock (and flatpak's) while writing into an installation.
 *
 * libostree locks `REPO/.lock` with OFD `fcntl` locks (flock(2) only where OFD locks do not
 * exist): shared for pulls and transactions, exclusive for prune. flatpak adds its own
 * `INSTALLATION/repo-lock` (same kind of lock): shared while it pulls or deploys, exclusive
 * (non-blocking: it skips the prune when busy) before pruning. Node has no fcntl, and
 * flock(2) locks do not interact with fcntl ones on Linux, so a small child process takes
 * the locks: python3's `fcntl.lockf` (a POSIX record lock, which conflicts with OFD locks
 * both ways), or perl's `fcntl(F_SETLKW)` with a 64-bit Linux `struct flock`. It prints
 * `locked` once it holds every lock and keeps them until its stdin closes — when we release
 * them, or when our process dies (kill -9 included), so a lock never outlives its holder.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { FlathubFetchError } from '../errors/FlathubFetchError.js';
import { ErrorCodes } from '../errors/codes.js';

export type LockMode = 'shared' | 'exclusive';

export interface RepoLock {
  readonly files: readonly string[];
  readonly mode: LockMode;
  /** Which helper holds it. */
  readonly helper: 'python3' | 'perl';
  release(): Promise<void>;
}

const PYTHON = `
import fcntl, os, sys
mode = fcntl.LOCK_SH if sys.argv[1] == 'shared' else fcntl.LOCK_EX
fds = []
for p in sys.argv[2:]:
    fd = os.open(p, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    fcntl.lockf(fd, mode)
    fds.append(fd)
sys.stdout.write('locked\\n')
sys.stdout.flush()
sys.stdin.buffer.read()
`;
import { abortError, throwIfAborted } from '../errors/abortError.js';

// struct flock on 64-bit Linux: short l_type, short l_whence, (4 pad), off_t l_start, off_t l_len, pid_t l_pid, (4 pad).
const PERL = `
use strict; use Fcntl;
my $mode = shift @ARGV;
my @fhs;
for my $p (@ARGV) {
  sysopen(my $fh, $p, O_RDWR | O_CREAT, 0644) or die "open $p: $!\\n";
  my $fl = pack('s s x4 q q l x4', $mode eq 'shared' ? F_RDLCK : F_WRLCK, 0, 0, 0, 0);
  fcntl($fh, F_SETLKW, $fl) or die "lock $p: $!\\n";
  push @fhs, $fh;
}
$| = 1; print "locked\\n";
while (<STDIN>) {}
`;

function helpers(): Array<{ name: 'python3' | 'perl'; args: (mode: LockMode, files: readonly string[]) => string[] }> {
  const out: ReturnType<typeof helpers> = [{ name: 'python3', args: (m, f) => ['-c', PYTHON, m, ...f] }];
  if (process.platform === 'linux' && (process.arch === 'x64' || process.arch === 'arm64')) {
    out.push({ name: 'perl', args: (m, f) => ['-e', PERL, m, ...f] });
  }
  return out;
}

/**
 * Takes `mode` locks on every file of `files` (created when missing), in order, waiting while
 * another process holds a conflicting one. ERR_LOCK when no helper can run or a lock fails;
 * ERR_ABORTED when `signal` aborts while waiting.
 */
export async function lockFiles(
  files: readonly string[],
  mode: LockMode,
  options: { signal?: AbortSignal | undefined } = {},
): Promise<RepoLock> {
  const reasons: string[] = [];
  for (const h of helpers()) {
    throwIfAborted(options.signal, `waiting for the repository lock on ${files.join(', ')}`);
    const child = spawn(h.name, h.args(mode, files), { stdio: ['pipe', 'pipe', 'pipe'] });
    const outcome = await waitLocked(child, options.signal);
    if (outcome === 'locked') {
      let released: Promise<void> | null = null;
      return {
        files,
        mode,
        helper: h.name,
        release: () => {
          released ??= new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            child.once('exit', () => resolve());
            child.stdin?.end();
          });
          return released;
        },
      };
    }
    if (outcome === 'aborted') {
      throw abortError(`waiting for the repository lock on ${files.join(', ')}`, {}, options.signal);
    }
    if (outcome.missing) {
      reasons.push(`${h.name} not found`);
      continue;
    }
    throw new FlathubFetchError(ErrorCodes.LOCK, `cannot lock ${files.join(', ')}: ${outcome.message}`, {
      path: files[0],
      reason: outcome.message,
    });
  }
  throw new FlathubFetchError(
    ErrorCodes.LOCK,
    `cannot take libostree's repository lock on ${files.join(', ')}: needs python3 or perl (${reasons.join(', ')})`,
    { path: files[0], reason: reasons.join(', ') },
  );
}

function waitLocked(
  child: ChildProcess,
  signal: AbortSignal | undefined,
): Promise<'locked' | 'aborted' | { missing: boolean; message: string }> {
  return new Promise((resolve) => {
    let out = '';
    let err = '';
    const onAbort = () => {
      child.kill('SIGKILL');
      resolve('aborted');
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    child.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
      if (out.includes('locked\n')) {
        signal?.removeEventListener('abort', onAbort);
        resolve('locked');
      }
    });
    child.stderr?.on('data', (c: Buffer) => {
      err += c.toString();
    });
    child.once('error', (e: NodeJS.ErrnoException) => {
      signal?.removeEventListener('abort', onAbort);
      resolve({ missing: e.code === 'ENOENT', message: e.message });
    });
    child.once('exit', (code) => {
      signal?.removeEventListener('abort', onAbort);
      const last = err.trim().split('\n').at(-1) ?? '';
      resolve({ missing: false, message: last || `helper exited with ${code}` });
    });
  });
}

/** The locks flatpak and libostree take around a pull into an installation: `INSTALLATION/repo-lock` and `REPO/.lock`. */
export function installationLockFiles(installationPath: string, repoPath: string): string[] {
  return [`${installationPath}/repo-lock`, `${repoPath}/.lock`];
}
