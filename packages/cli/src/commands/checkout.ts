import { loadClient } from '../client.js';
import type { Command } from '../Command.js';
import { ExitCode } from '../exitCodes.js';
import { writeJson } from '../output.js';
import { UsageError } from '../UsageError.js';

export const checkoutCommand: Command = {
  name: 'checkout',
  summary: 'Materialise a commit of a local repository into a new directory (files, modes, symlinks).',
  usage: 'flathub-fetch checkout --repo DIR REF|COMMIT DEST [--json]',
  help: `REF is looked up in refs/heads/ and refs/remotes/*/ of the repository; a 64-hex commit is used as is.
DEST must not exist. Unsafe names and symlinks that would lead outside DEST are refused.

Options:
  --repo DIR   local repository (required)
  --json       print {repo, ref, commit, dest}

Example:
  flathub-fetch checkout --repo ./repo app/org.gnome.Maps/x86_64/stable ./maps
`,
  options: { repo: { type: 'string' } },
  async run(args, o, signal) {
    const repoPath = args.values.repo as string | undefined;
    if (repoPath === undefined) throw new UsageError('--repo DIR is required');
    const [ref, dest, extra] = args.positionals;
    if (ref === undefined || dest === undefined) throw new UsageError('expected REF and DEST');
    if (extra !== undefined) throw new UsageError(`unexpected argument "${extra}"`);
    const { LocalRepo } = await loadClient();
    const repo = await LocalRepo.open(repoPath);
    try {
      const commit = await repo.resolveRef(ref);
      await repo.checkout(commit, dest, { signal });
      if (args.values.json === true) writeJson(o, { repo: repoPath, ref, commit, dest });
      else o.out.write(`checked out ${commit} (${ref}) into ${dest}\n`);
      return ExitCode.OK;
    } finally {
      await repo.close();
    }
  },
};
