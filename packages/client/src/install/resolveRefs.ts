/**
 * What flatpak would install for the refs a user names, from the remote's summary:
 *
 * - the refs themselves, with flatpak's partial names (`org.gnome.Maps`, `org.gnome.Maps//stable`,
 *   `org.gnome.Maps/x86_64/stable`, or a full `app/…` / `runtime/…`; the arch defaults to the
 *   remote's, an app is preferred over a runtime of the same name);
 * - an app's runtime (`[Application] runtime=`), unless installed;
 * - the related refs flatpak adds by default, for the app and its runtime: each
 *   `[Extension NAME]` group's `runtime/NAME/ARCH/BRANCH` (branch from `versions`, `version`,
 *   else the parent's), or with `subdirectories=true` the `NAME.*` refs the remote has;
 *   skipped with `no-autodownload` or `download-if` (conditions this library cannot evaluate)
 *   unless installed, `.Debug` only when installed; `.Locale` (or `locale-subset=true`)
 *   extensions restricted to the installation's languages (`/de` → pull `/files/de`), merged
 *   with the subpaths already deployed.
 */
import { FlathubFetchError } from '../errors/FlathubFetchError.js';
import { ErrorCodes } from '../errors/codes.js';
import { type KeyFile, parseKeyFile } from '../formats/KeyFile.js';
import type { RemoteRef } from '../remote/Remote.js';
import type { Installation } from './Installation.js';
import { type DeployedRef, readDeployed } from './installedRefs.js';

export interface InstallOp {
  /** `app/ID/ARCH/BRANCH` or `runtime/…`. */
  ref: string;
  /** The installation's remote it comes from. */
  remote: string;
  commit: string;
  why: 'requested' | 'runtime' | 'related' | 'update';
  /**
   * Deploy subpaths as flatpak records them (`/de`), or null for the whole tree; the pull
   * fetches `/metadata` and `/files/<subpath>` for them.
   */
  subpaths: string[] | null;
  /** Summary's download and installed sizes (whole ref), when it has them. */
  downloadSize: number | null;
  installedSize: number | null;
  eol: string | null;
  eolRebase: string | null;
  /** What is deployed now, when the ref is installed. */
  deployed: DeployedRef | null;
}

/** The ref a user's partial name means among `refs` (ERR_NOT_FOUND, or ERR_INVALID_ARGUMENT when ambiguous). */
export function matchRef(spec: string, refs: readonly RemoteRef[], arch: string, remoteName: string): RemoteRef {
  const parts = spec.split('/');
  let kinds = ['app', 'runtime'];
  if (parts[0] === 'app' || parts[0] === 'runtime') kinds = [parts.shift() as string];
  const [id, a, branch] = parts;
  if (id === undefined || id === '' || parts.length > 3) {
    throw new FlathubFetchError(
      ErrorCodes.INVALID_ARGUMENT,
      `"${spec}" is not a ref (ID, ID//BRANCH, ID/ARCH/BRANCH or app/ID/ARCH/BRANCH)`,
      {
        argument: 'ref',
        value: spec,
        reason: 'malformed',
      },
    );
  }
  const wantArch = a === undefined || a === '' ? arch : a;
  const found = refs.filter((r) => {
    const p = r.name.split('/');
    return (
      p.length === 4 &&
      kinds.includes(p[0] as string) &&
      p[1] === id &&
      p[2] === wantArch &&
      (branch === undefined || branch === '' || p[3] === branch)
    );
  });
  // flatpak asks when several match; an app wins over a runtime of the same ID.
  const apps = found.filter((r) => r.name.startsWith('app/'));
  const pick = apps.length > 0 ? apps : found;
  if (pick.length === 1) return pick[0] as RemoteRef;
  if (pick.length === 0) {
    throw new FlathubFetchError(ErrorCodes.NOT_FOUND, `nothing matches ${spec} (arch ${wantArch}) in remote ${remoteName}`, {
      what: 'ref',
      ref: spec,
    });
  }
  throw new FlathubFetchError(
    ErrorCodes.INVALID_ARGUMENT,
    `${spec} is ambiguous in remote ${remoteName}: ${pick.map((r) => r.name).join(', ')} (name the branch: ID//BRANCH)`,
    { argument: 'ref', value: spec, reason: 'ambiguous' },
  );
}

/** The operation bringing `r` (as the remote serves it) into an installation where `deployed` is what is there now. */
export function installOp(
  r: RemoteRef,
  remote: string,
  why: InstallOp['why'],
  subpaths: string[] | null,
  deployed: DeployedRef | null,
): InstallOp {
  return {
    ref: r.name,
    remote,
    commit: r.commit,
    why,
    subpaths,
    downloadSize: r.downloadSize,
    installedSize: r.installedSize,
    eol: r.eol,
    eolRebase: r.eolRebase,
    deployed,
  };
}

function metadataOf(r: RemoteRef): KeyFile | null {
  if (r.metadata === null) return null;
  try {
    return parseKeyFile(r.metadata, `metadata of ${r.name}`);
  } catch {
    return null;
  }
}

/**
 * The operations for installing `specs` from `remote` (the remote's refs as read from its
 * summary): requested refs not yet installed, their runtimes, related refs, each once.
 */
export function resolveInstall(
  inst: Installation,
  remote: string,
  refs: readonly RemoteRef[],
  arch: string,
  specs: readonly string[],
): InstallOp[] {
  const ops = new Map<string, InstallOp>();
  const byName = new Map(refs.map((r) => [r.name, r]));
  const add = (r: RemoteRef, why: InstallOp['why'], subpaths: string[] | null) => {
    if (ops.has(r.name)) return;
    const o = installOp(r, remote, why, subpaths, readDeployed(inst.path, r.name));
    ops.set(r.name, o);
    const md = metadataOf(r);
    if (md === null) return;
    const runtime = md.get('Application')?.get('runtime');
    if (runtime !== undefined) {
      const rt = byName.get(`runtime/${runtime}`);
      if (rt !== undefined && readDeployed(inst.path, rt.name) === null) add(rt, 'runtime', null);
    }
    for (const rel of relatedOf(inst, r.name, md, refs)) add(rel.ref, 'related', rel.subpaths);
  };
  for (const spec of specs) add(matchRef(spec, refs, arch, remote), 'requested', null);
  // Installed refs are flatpak's to report ("already installed"); current related refs need nothing.
  return [...ops.values()].filter((o) => o.deployed === null || (o.why === 'related' && o.deployed.commit !== o.commit));
}

/** The related refs flatpak would download along with `parent` (see the module comment). */
export function relatedOf(
  inst: Installation,
  parent: string,
  md: KeyFile,
  refs: readonly RemoteRef[],
): Array<{ ref: RemoteRef; subpaths: string[] | null }> {
  const [, , arch, parentBranch] = parent.split('/');
  const out: Array<{ ref: RemoteRef; subpaths: string[] | null }> = [];
  for (const [group, keys] of md) {
    if (!group.startsWith('Extension ')) continue;
    const name = group.slice('Extension '.length).split('@')[0] as string;
    if (name === '') continue;
    const versions = keys.get('versions');
    const branches = versions !== undefined ? versions.split(';').filter((v) => v !== '') : [keys.get('version') ?? parentBranch];
    const truthy = (k: string) => keys.get(k) === 'true';
    for (const branch of branches) {
      const exact = refs.find((r) => r.name === `runtime/${name}/${arch}/${branch}`);
      const matches = exact
        ? [exact]
        : truthy('subdirectories')
          ? refs.filter((r) => {
              const p = r.name.split('/');
              return p[0] === 'runtime' && (p[1] ?? '').startsWith(`${name}.`) && p[2] === arch && p[3] === branch;
            })
          : [];
      for (const r of matches) {
        const id = r.name.split('/')[1] as string;
        const deployed = readDeployed(inst.path, r.name);
        let download = (!truthy('no-autodownload') && keys.get('download-if') === undefined) || deployed !== null;
        if (id.endsWith('.Debug') && deployed === null) download = false;
        if (!download) continue;
        let subpaths: string[] | null = null;
        if (id.endsWith('.Locale') || truthy('locale-subset')) {
          const langs = inst.languages?.map((l) => `/${l}`) ?? null;
          // A full deployment stays full; otherwise the union of what is deployed and the languages.
          if (langs !== null && !(deployed !== null && deployed.subpaths.length === 0)) {
            subpaths = [...new Set([...(deployed?.subpaths ?? []), ...langs])].sort();
          }
        }
        out.push({ ref: r, subpaths });
      }
    }
  }
  return out;
}

/** `pull()` subpaths for deploy subpaths: `/metadata` and `/files/<subpath>` (as flatpak pulls them). */
export function pullSubpaths(subpaths: readonly string[] | null): string[] | undefined {
  if (subpaths === null || subpaths.length === 0) return undefined;
  return ['/metadata', ...subpaths.map((s) => `/files${s}`)];
}
