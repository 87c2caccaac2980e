/**
 * `installRefs()` and `updateInstallation()`: download what `flatpak install` / `flatpak update`
 * would, into the installation's own repository, so that `flatpak install --no-pull` /
 * `flatpak update --no-pull` (see `flatpakHandOver`) deploys it without a request of its own.
 */
import { FlathubFetchError } from '../errors/FlathubFetchError.js';
import { ErrorCodes } from '../errors/codes.js';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Remote, RemoteRef } from '../remote/Remote.js';
import { openSharedRemote, type SharedRemote } from '../api/pull.js';
import { type PlannedOp, priceOps, runTransaction, type TransactionOptions, type TransactionResult, trustedKeys } from './downloadOps.js';
import { findInstallation, type Installation, type InstallationRemote, installationRemote } from './Installation.js';
import { type DeployedRef, listDeployed } from './installedRefs.js';
import { type InstallOp, installOp, matchRef, relatedOf, resolveInstall } from './resolveRefs.js';
import { parseKeyFile } from '../formats/KeyFile.js';
import { invalidArgument } from '../errors/invalidArgument.js';

export interface InstallRefsOptions extends TransactionOptions {
  /** The installation's remote to install from. */
  remote: string;
  /** Refs as flatpak takes them: `ID`, `ID//BRANCH`, `ID/ARCH/BRANCH`, `app/…`, `runtime/…`. */
  refs: string[];
  /** `user`, `system` or a named installation. @default 'user' (as root: 'system') */
  installation?: string;
  /** Architecture of partial names. @default this machine's */
  arch?: string;
  /** Environment for FLATPAK_USER_DIR, FLATPAK_SYSTEM_DIR, FLATPAK_CONFIG_DIR, XDG and locale variables. @default process.env */
  env?: NodeJS.ProcessEnv;
}

export interface UpdateInstallationOptions extends TransactionOptions {
  /** Only these installed refs (partial names as for install). @default every installed ref */
  refs?: string[];
  installation?: string;
  arch?: string;
  env?: NodeJS.ProcessEnv;
}

function openInstallation(installation: string | undefined, env: NodeJS.ProcessEnv | undefined): Installation {
  const inst = findInstallation({ ...(installation !== undefined ? { installation } : {}), ...(env !== undefined ? { env } : {}) });
  if (!existsSync(join(inst.repoPath, 'config'))) {
    throw new FlathubFetchError(
      ErrorCodes.NOT_FOUND,
      `the ${inst.id} installation has no repository yet (${inst.repoPath}): add a remote with flatpak remote-add first`,
      {
        what: 'installation repository',
        path: inst.repoPath,
      },
    );
  }
  return inst;
}

/** The installation's remote opened once for the whole transaction (pricing and every pull). */
async function openRemote(inst: Installation, r: InstallationRemote, o: TransactionOptions & { arch?: string }): Promise<SharedRemote> {
  const shared = await openSharedRemote({
    url: r.url,
    ref: '-',
    repo: inst.repoPath,
    ...(o.transport ? { transport: o.transport } : {}),
    ...(o.arch ? { arch: o.arch } : {}),
    ...(o.http ? { http: o.http } : {}),
    signal: o.signal,
  });
  const remote = shared.remote;
  if (r.collectionId !== null && remote.collectionId !== null && remote.collectionId !== r.collectionId) {
    await remote.close();
    throw new FlathubFetchError(
      ErrorCodes.FORMAT,
      `remote ${r.name} is configured with collection ID ${r.collectionId} but ${r.url} serves ${remote.collectionId}`,
      { what: `remote ${r.name}`, reason: 'collection ID mismatch', url: r.url },
    );
  }
  return shared;
}

/** Downloads `refs` with their runtime and related refs into the installation (see the module comment). */
export async function installRefs(options: InstallRefsOptions): Promise<TransactionResult> {
  if (options.refs.length === 0) throw invalidArgument('refs', options.refs, 'at least one ref is required');
  const inst = openInstallation(options.installation, options.env);
  const r = installationRemote(inst, options.remote);
  if (r.gpgVerify) trustedKeys(r);
  const shared = await openRemote(inst, r, options);
  try {
    const ops = resolveInstall(inst, r.name, shared.remote.refs(), shared.remote.arch, options.refs);
    const planned = await priceOps(inst, shared.remote, ops, { signal: options.signal });
    return await runTransaction(inst, new Map([[r.name, { config: r, shared }]]), planned, options);
  } finally {
    await shared.remote.close();
  }
}

/**
 * Downloads updates of the installed refs (or of `refs`): each ref whose origin remote serves
 * another commit than the one deployed, from its deployed commit by a from-revision delta where
 * the remote has one; `.Locale` extensions by subpath, for the subpaths deployed plus the
 * installation's languages; related refs that are new (a new extension) as install would.
 */
export async function updateInstallation(options: UpdateInstallationOptions = {}): Promise<TransactionResult> {
  const inst = openInstallation(options.installation, options.env);
  const deployed = listDeployed(inst.path);
  const byRemote = new Map<string, DeployedRef[]>();
  for (const d of deployed) byRemote.set(d.origin, [...(byRemote.get(d.origin) ?? []), d]);
  const remotes = new Map<string, { config: InstallationRemote; shared: SharedRemote }>();
  const matched = new Set<string>();
  try {
    const planned: PlannedOp[] = [];
    for (const [name, refs] of byRemote) {
      const cfg = inst.remotes.find((x) => x.name === name && !x.disabled);
      if (cfg === undefined) continue; // flatpak skips refs whose remote is gone or disabled
      if (cfg.gpgVerify) trustedKeys(cfg);
      const shared = await openRemote(inst, cfg, options);
      remotes.set(name, { config: cfg, shared });
      const ops = updateOps(inst, name, refs, deployed, shared.remote, options.refs, matched);
      planned.push(...(await priceOps(inst, shared.remote, ops, { signal: options.signal })));
    }
    const unknown = (options.refs ?? []).filter((w) => !matched.has(w));
    if (unknown.length > 0) {
      throw new FlathubFetchError(ErrorCodes.NOT_FOUND, `not installed in the ${inst.id} installation: ${unknown.join(', ')}`, {
        what: 'installed ref',
        ref: unknown.join(' '),
      });
    }
    return await runTransaction(inst, remotes, planned, options);
  } finally {
    for (const { shared } of remotes.values()) await shared.remote.close();
  }
}

/** The update operations for the refs deployed from one remote (`wanted`: only these; each spec matched is added to `matched`). */
function updateOps(
  inst: Installation,
  name: string,
  refs: readonly DeployedRef[],
  deployed: DeployedRef[],
  remote: Remote,
  wanted: readonly string[] | undefined,
  matched: Set<string>,
): InstallOp[] {
  const served = remote.refs();
  const ops: InstallOp[] = [];
  let mine = refs;
  if (wanted !== undefined) {
    const names = new Set<string>();
    const candidates = refs.map((d) => served.find((s) => s.name === d.ref)).filter((x) => x !== undefined);
    for (const spec of wanted) {
      try {
        names.add(matchRef(spec, candidates, remote.arch, name).name);
        matched.add(spec);
      } catch {
        // Not installed from this remote.
      }
    }
    mine = refs.filter((d) => names.has(d.ref));
  }
  const known = new Set(deployed.map((d) => d.ref));
  const op = (r: RemoteRef, why: InstallOp['why'], subpaths: string[] | null, d: DeployedRef | null) =>
    installOp(r, name, why, subpaths, d);
  for (const d of mine) {
    const s = served.find((x) => x.name === d.ref);
    if (s === undefined) continue;
    const id = d.ref.split('/')[1] ?? '';
    let subpaths: string[] | null = d.subpaths.length > 0 ? d.subpaths : null;
    // As flatpak update: a Locale's deployed subpaths merged with the configured languages.
    if (id.endsWith('.Locale') && subpaths !== null && inst.languages !== null) {
      subpaths = [...new Set([...subpaths, ...inst.languages.map((l) => `/${l}`)])].sort();
    }
    const changedSubpaths = (subpaths ?? []).join(';') !== d.subpaths.join(';');
    if (s.commit !== d.commit || changedSubpaths) ops.push(op(s, 'update', subpaths, d));
    // New related refs of an updated app or runtime (an extension added since).
    if (s.commit !== d.commit && s.metadata !== null) {
      for (const rel of relatedOf(inst, d.ref, parseKeyFile(s.metadata, d.ref), served)) {
        if (known.has(rel.ref.name)) continue;
        known.add(rel.ref.name);
        ops.push(op(rel.ref, 'related', rel.subpaths, null));
      }
    }
  }
  return ops;
}
