export {
  resolveRemoteUrl,
  looksLikeRemote,
  defaultFlatpakConfigFiles,
  FLATHUB_URL,
  type ResolvedRemote,
  type ResolveRemoteOptions,
} from './resolveRemoteUrl.js';
export { pull, parsePullTarget, failedPullResult } from './pull.js';
export type { PullOptions, PullHttpOptions, DeltaPolicy } from '../pull/PullOptions.js';
export type { PullEvent, PullProgress } from '../pull/PullEvent.js';
export type { PullPlan, PlanAlternative, PullStrategy } from '../pull/PullPlan.js';
export type { FailedPullResult, PullResult } from '../pull/PullResult.js';
export { planRemotePull, type PlanRemotePullOptions, type RemotePlan, type ObjectPathEstimate } from './planRemotePull.js';
export { comparePulls, type ComparePullsOptions, type PullComparison, type CompareMode } from './comparePulls.js';
export { walkCommitMetadata, type CommitMetadataWalk } from './walkCommitMetadata.js';
export { verifyRemoteSignatures, type VerifyRemoteSignaturesOptions } from '../pull/verifyRemoteSignatures.js';
