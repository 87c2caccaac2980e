/** Documented exit codes of `flathub-fetch` (also in README and `--help`). */
export const ExitCode = {
  OK: 0,
  /** The operation failed (network, server, I/O). */
  FAILURE: 1,
  /** Bad command line. */
  USAGE: 2,
  /** Content failed verification (checksum, signature, format). */
  VERIFICATION: 3,
  /** Interrupted (SIGINT). */
  INTERRUPTED: 130,
} as const;
