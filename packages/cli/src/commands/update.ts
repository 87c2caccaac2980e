import { loadClient } from '../client.js';
import type { Command } from '../Command.js';
import { ExitCode } from '../exitCodes.js';
import { integerOption } from '../integerOption.js';
import { writeJson } from '../output.js';
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

export const updateCommand: Command = {
  name: 'update',
  summary: 'Update a flatpak installation: we download (from-revision deltas), flatpak deploys.',
  usage:
    'flathub-fetch update [--user | --system | --installation NAME] [--assumeyes|-y] [--download-only] [--arch ARCH] [--connections N] [REF...] [--json]',
  help: `Downloads the updates of every installed ref (or of the REFs named) into the installation's
repository — each through a static delta from its deployed commit where the remote has one,
.Locale extensions for their deployed languages plus the configured ones, new related refs as
install would — then runs \`flatpak update --no-pull\` so flatpak deploys them without a request
of its own. End-of-life notices are printed as flatpak prints them. Without --user, --system or
--installation, every installation with something installed is updated, as flatpak does.

Options:
${TRANSACTION_HELP}  --json               the transactions as JSON on stdout (flatpak's output is then not shown)

Examples:
  flathub-fetch update --user -y
  flathub-fetch update --system org.gnome.Maps
`,
  options: { ...TRANSACTION_OPTIONS },
  async run(args, o, signal) {
    const c = await loadClient();
    const json = args.values.json === true;
    const chosen = installationArg(args);
    const targets =
      chosen !== undefined
        ? [chosen]
        : c
            .listInstallations()
            .filter((i) => c.listDeployed(i.path).length > 0)
            .map((i) => i.id);
    const connections = integerOption(args, 'connections', 1);
    const refs = args.positionals.length > 0 ? args.positionals : undefined;
    const docs: unknown[] = [];
    let exitCode: number = ExitCode.OK;
    for (const installation of targets) {
      const progress = progressLine(o);
      const result = await c.updateInstallation({
        installation,
        ...(refs !== undefined ? { refs } : {}),
        ...(typeof args.values.arch === 'string' ? { arch: args.values.arch } : {}),
        ...(connections !== undefined ? { http: { connections } } : {}),
        confirm: async (ops) => {
          if (ops.length === 0) return false;
          if (!json) {
            renderPlan(o, c.findInstallation({ installation }), ops, 'Updating');
            renderEol(o, ops);
          }
          return confirm(o, args.values.assumeyes === true);
        },
        signal,
        onEvent: progress.onEvent,
      });
      progress.clear();
      if (result.ops.length === 0) {
        if (!json) o.err.write(`Nothing to update in the ${result.installation.displayName.toLowerCase()}\n`);
        docs.push(transactionJson(result, []));
        continue;
      }
      if (result.cancelled) {
        docs.push(transactionJson(result, []));
        if (!json) o.err.write('Cancelled: nothing was downloaded\n');
        exitCode = ExitCode.FAILURE;
        continue;
      }
      if (args.values['download-only'] === true) {
        docs.push(transactionJson(result, []));
        continue;
      }
      const h = await handOver(c, 'update', result, o, json, signal);
      docs.push(transactionJson(result, h.runs));
      if (h.exitCode !== 0) {
        exitCode = h.exitCode;
        break;
      }
    }
    if (json) writeJson(o, docs);
    return exitCode;
  },
};
