/**
 * `installRefs()` and `updateInstallation()`: download what `flatpak install` / `flatpak update`
 * would, into the installation's own repository, so that `flatpak install --no-pull` /
 * `flatpak update --no-pull` (see `flatpakHandOver`) deploys it without a request of its own.
 */
import { FlathubFetchError } from '../errors/FlathubFetchError.js';
import { ErrorCodes } from '../errors/codes.js';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Remote } from '../remote/Remote.js';
import { type PlannedOp, priceOps, runTransaction, type TransactionOptions, type TransactionResult, trustedKeys } from './downloadOps.js';
import { findInstallation, type Installation, type InstallationRemote, installationRemote } from './Installation.js';
import { listDeployed } from './installedRefs.js';
import { type InstallOp, matchRef, relatedOf, resolveInstall } from './resolveRefs.js';
import { parseKeyFile } from '../formats/KeyFile.js';

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

async function openRemote(r: InstallationRemote, o: TransactionOptions & { arch?: string }): Promise<Remote> {
  const remote = await Remote.open(r.url, {
    ...(o.transport ? { transport: o.transport } : {}),
    ...(o.arch ? { arch: o.arch } : {}),
    ...(o.signal ? { signal: o.signal } : {}),
    ...(o.http ? { http: o.http } : {}),
  });
  if (r.collectionId !== null && remote.collectionId !== null && remote.collectionId !== r.collectionId) {
    await remote.close();
    throw new FlathubFetchError(
      ErrorCodes.FORMAT,
      `remote ${r.name} is configured with collection ID ${r.collectionId} but ${r.url} serves ${remote.collectionId}`,
      { what: `remote ${r.name}`, reason: 'collection ID mismatch', url: r.url },
    );
  }
  return remote;
}

/** Downloads `refs` with their runtime and related refs into the installation (see the module comment). */
export async function installRefs(options: InstallRefsOptions): Promise<TransactionResult> {
  if (options.refs.length === 0) throw invalid('refs', 'at least one ref is required');
  const inst = openInstallation(options.installation, options.env);
  const r = installationRemote(inst, options.remote);
  if (r.gpgVerify) trustedKeys(r);
  const remote = await openRemote(r, options);
  let planned: PlannedOp[];
  try {
    const ops = resolveInstall(inst, r.name, remote.refs(), remote.arch, options.refs);
    planned = await priceOps(inst, remote, ops, options.signal);
  } finally {
    await remote.close();
  }
  return runTransaction(inst, new Map([[r.name, r]]), planned, options);
}

/**
 * Downloads updates of the installed refs (or of `refs`): each ref whose origin remote serves
 * another commit than the one deployed, from its deployed commit by a from-revision delta where
 * the remote has one; `.Locale` extensions by subpath, for the subpaths deployed plus the
 * installation's languages; related refs that are new (a new extension) as install would.
 */
export async function updateInstallation(options: UpdateInstallationOptions = {}): Promise<TransactionResult> {
  const inst = openInstallation(options.installation, options.env);
  let deployed = listDeployed(inst.path);
  const byRemote = new Map<string, typeof deployed>();
  for (const d of deployed) byRemote.set(d.origin, [...(byRemote.get(d.origin) ?? []), d]);
  const remotes = new Map<string, InstallationRemote>();
  const planned: PlannedOp[] = [];
  const wanted = options.refs;
  const matched = new Set<string>();
  for (const [name, refs] of byRemote) {
    const cfg = inst.remotes.find((x) => x.name === name && !x.disabled);
    if (cfg === undefined) continue; // flatpak skips refs whose remote is gone or disabled
    remotes.set(name, cfg);
    if (cfg.gpgVerify) trustedKeys(cfg);
    const remote = await openRemote(cfg, options);
    const ops: InstallOp[] = [];
    try {
      const served = remote.refs();
      let mine = refs;
      if (wanted !== undefined) {
        const names = new Set<string>();
        for (const spec of wanted) {
          try {
            const m = matchRef(
              spec,
              refs.map((d) => served.find((s) => s.name === d.ref)).filter((x) => x !== undefined),
              remote.arch,
              name,
            );
            names.add(m.name);
            matched.add(spec);
          } catch {
            // Not installed from this remote.
          }
        }
        mine = refs.filter((d) => names.has(d.ref));
      }
      for (const d of mine) {
        const s = served.find((x) => x.name === d.ref);
        if (s === undefined) continue;
        const id = d.ref.split('/')[1] ?? '';
        let subpaths: string[] | null = d.subpaths.length > 0 ? d.subpaths : null;
        if (id.endsWith('.Locale') && subpaths !== null && inst.languages !== null) {
          subpaths = [...new Set([...subpaths, ...inst.languages.map((l) => `/${l}`)])].sort();
        }
        const changedSubpaths = (subpaths ?? []).join(';') !== d.subpaths.join(';');
        if (s.commit !== d.commit || changedSubpaths) {
          ops.push({
            ref: d.ref,
            remote: name,
            commit: s.commit,
            why: 'update',
            subpaths,
            downloadSize: s.downloadSize,
            installedSize: s.installedSize,
            eol: s.eol,
            eolRebase: s.eolRebase,
            deployed: d,
          });
        }
        // New related refs of an updated app or runtime (an extension added since).
        if (s.commit !== d.commit && s.metadata !== null) {
          for (const rel of relatedOf(inst, d.ref, parseKeyFile(s.metadata, d.ref), served)) {
            if (rel.ref.name === d.ref || deployed.some((x) => x.ref === rel.ref.name)) continue;
            ops.push({
              ref: rel.ref.name,
              remote: name,
              commit: rel.ref.commit,
              why: 'related',
              subpaths: rel.subpaths,
              downloadSize: rel.ref.downloadSize,
              installedSize: rel.ref.installedSize,
              eol: rel.ref.eol,
              eolRebase: rel.ref.eolRebase,
              deployed: null,
            });
            deployed = [
              ...deployed,
              { ref: rel.ref.name, origin: name, commit: '', subpaths: [], installedSize: 0, eol: null, eolRebase: null },
            ];
          }
        }
      }
      planned.push(...(await priceOps(inst, remote, ops, options.signal)));
    } finally {
      await remote.close();
    }
  }
  const unknown = (wanted ?? []).filter((w) => !matched.has(w));
  if (unknown.length > 0) {
    throw new FlathubFetchError(ErrorCodes.NOT_FOUND, `not installed in the ${inst.id} installation: ${unknown.join(', ')}`, {
      what: 'installed ref',
      ref: unknown.join(' '),
    });
  }
  return runTransaction(inst, remotes, planned, options);
}

function invalid(argument: string, reason: string): FlathubFetchError {
  return new FlathubFetchError(ErrorCodes.INVALID_ARGUMENT, `${argument}: ${reason}`, { argument, reason });
}
