import type { ParseArgsConfig } from 'node:util';
import type { Output } from './output.js';

export interface ParsedArgs {
  values: Record<string, string | boolean | string[] | boolean[] | undefined>;
  positionals: string[];
}

/** One `flathub-fetch` subcommand. */
export interface Command {
  name: string;
  summary: string;
  usage: string;
  /** Full help text after the usage line: options, examples. */
  help: string;
  options: NonNullable<ParseArgsConfig['options']>;
  run(args: ParsedArgs, output: Output, signal: AbortSignal): Promise<number>;
}
