export { LocalRepo, type RepoMode } from './LocalRepo.js';
export type { BeginTransactionOptions, CommitTransactionOptions, RepoTransaction } from './RepoTransaction.js';
export type { ContentObject, MetadataObject } from './ObjectWriter.js';
export { defaultContentWorkers, type FsyncPolicy, type LocalRepoOptions, resolveLocalRepoOptions } from './LocalRepoOptions.js';
export { type CreateRepoOptions, type RemoteConfig, REPO_DIRS, repoConfigText } from './createRepoLayout.js';
export { type CheckoutOptions, type CheckoutProgress, type CheckoutResult, MAX_CHECKOUT_DEPTH } from './checkoutCommit.js';
export type {
  CorruptObject,
  ObjectRef,
  VerifyCommitOptions,
  VerifyCommitProgress,
  VerifyCommitResult,
} from './verifyCommit.js';
export { assertRefName, type RefLocation, refPath } from './refPath.js';
export { listTree, type TreeEntry } from './listTree.js';
