import { loadClient } from '../client.js';
import type { Command } from '../Command.js';
import { ExitCode } from '../exitCodes.js';
import { integerOption } from '../integerOption.js';
import { writeJson } from '../output.js';
import { UsageError } from '../UsageError.js';
import {
  confirm,
  handOver,
  installationArg,
  progressLine,
  renderEol,
  renderPlan,
  TRANSACTION_HELP,
  TRANSACTION_OPTIONS,
  transactionJson,
} from '../flatpakTransaction.js';

export const installCommand: Command = {
  name: 'install',
  summary: 'Install apps and runtimes into a flatpak installation: we download, flatpak deploys.',
  usage:
    'flathub-fetch install [--user | --system | --installation NAME] [--assumeyes|-y] [--download-only] [--arch ARCH] [--connections N] [REMOTE] REF... [--json]',
  help: `Downloads what \`flatpak install\` would — the refs, the runtime an app needs, and the related
refs flatpak adds (a .Locale extension only for the installation's languages: \`flatpak config
--set languages\`, else your locale) — into the installation's own repository, then runs
\`flatpak install --no-pull\` so flatpak deploys it, runs its triggers and exports without making
a single request. Static deltas are used properly, requests run in parallel and resume after an
interruption (Ctrl-C or kill -9: rerun, verified objects are not fetched again); the list with
exact download sizes (deltas) and installed sizes is shown before anything is downloaded.

Remotes, their URL, GPG keys and collection IDs are the installation's (flatpak remote-add).
Writes hold libostree's repository lock (and flatpak's), so a concurrent flatpak uninstall or
prune waits rather than deleting objects this download relies on.

REF is as for flatpak: org.gnome.Maps, org.gnome.Maps//stable, org.gnome.Maps/x86_64/stable or
app/org.gnome.Maps/x86_64/stable. REMOTE may be omitted when the installation has one remote.
The installation defaults to the one the remote is configured in (system first), as flatpak's.

Options:
${TRANSACTION_HELP}  --json               the transaction as JSON on stdout (flatpak's output is then not shown)

flatpak's exit code is passed through; its errors are printed as it prints them.

Examples:
  flathub-fetch install --user flathub org.gnome.Maps
  flathub-fetch install -y --download-only flathub org.gnome.Maps//stable
`,
  options: { ...TRANSACTION_OPTIONS },
  async run(args, o, signal) {
    const c = await loadClient();
    const json = args.values.json === true;
    if (args.positionals.length === 0) throw new UsageError('name at least one ref to install');
    let installation = installationArg(args);
    let [remote, ...refs] = args.positionals as [string, ...string[]];
    // REMOTE is optional when the chosen (or default) installation has exactly one remote.
    const all = c.listInstallations();
    const candidates = installation === undefined ? all : [c.findInstallation({ installation })];
    const hasRemote = candidates.filter((i) => i.remotes.some((r) => r.name === remote && !r.disabled));
    if (hasRemote.length === 0) {
      const only = candidates.flatMap((i) => i.remotes.filter((r) => !r.disabled).map((r) => ({ i, r })));
      if (only.length !== 1) {
        throw new UsageError(
          `"${remote}" is not a configured remote${only.length > 1 ? `; name one of: ${[...new Set(only.map((x) => x.r.name))].join(', ')}` : ' (flatpak remote-add first)'}`,
        );
      }
      refs = [remote, ...refs];
      remote = only[0]?.r.name as string;
      installation ??= only[0]?.i.id;
    } else {
      // flatpak's default: the system installation when the remote is there, else where it is.
      installation ??= (hasRemote.find((i) => i.id === 'default') ?? hasRemote[0])?.id;
    }
    if (refs.length === 0) throw new UsageError('name at least one ref to install');
    const progress = progressLine(o);
    const connections = integerOption(args, 'connections', 1);
    const result = await c.installRefs({
      remote,
      refs,
      ...(installation !== undefined ? { installation } : {}),
      ...(typeof args.values.arch === 'string' ? { arch: args.values.arch } : {}),
      ...(connections !== undefined ? { http: { connections } } : {}),
      confirm: async (ops) => {
        if (ops.length === 0) return false;
        if (!json) {
          const inst = c.findInstallation(installation !== undefined ? { installation } : {});
          renderPlan(o, inst, ops, 'Installing');
          renderEol(o, ops);
        }
        return confirm(o, args.values.assumeyes === true);
      },
      signal,
      onEvent: progress.onEvent,
    });
    progress.clear();
    if (result.ops.length === 0) {
      if (json) writeJson(o, transactionJson(result, []));
      else o.err.write(`Nothing to do: ${refs.join(', ')} already installed\n`);
      return ExitCode.OK;
    }
    if (result.cancelled) {
      if (json) writeJson(o, transactionJson(result, []));
      else o.err.write('Cancelled: nothing was downloaded\n');
      return ExitCode.FAILURE;
    }
    if (args.values['download-only'] === true) {
      if (json) writeJson(o, transactionJson(result, []));
      else o.err.write(`Downloaded into ${result.installation.repoPath}; deploy with: flatpak install --no-pull ...\n`);
      return ExitCode.OK;
    }
    const h = await handOver(c, 'install', result, o, json, signal);
    if (json) writeJson(o, transactionJson(result, h.runs));
    return h.exitCode;
  },
};
