export {
  listInstallations,
  findInstallation,
  installationRemote,
  localeLanguages,
  userInstallationPath,
  systemInstallationPath,
  type Installation,
  type InstallationRemote,
  type InstallationSelector,
} from './Installation.js';
export { readDeployed, listDeployed, type DeployedRef } from './installedRefs.js';
export { lockFiles, installationLockFiles, type RepoLock, type LockMode } from './RepoLock.js';
export { matchRef, pullSubpaths, type InstallOp } from './resolveRefs.js';
export type { PlannedOp, InstallEvent, TransactionProgress, TransactionOptions, TransactionResult } from './downloadOps.js';
export { installRefs, updateInstallation, type InstallRefsOptions, type UpdateInstallationOptions } from './installRefs.js';
export { handOverCommands, installationFlag, runFlatpak, type FlatpakRun, type RunFlatpakOptions } from './flatpakHandOver.js';
