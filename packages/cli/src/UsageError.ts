/** A command-line mistake: printed with the command's usage line, exit code 2. */
export class UsageError extends Error {
  override get name(): string {
    return 'UsageError';
  }
}
