/** Remote repositories: config, summaries (classic, summary.idx, subsummaries, summary deltas), refs, deltas, superblocks. */
export { Remote, type RemoteOptions, type RemoteRef, type RemoteDelta, type RemoteSignature, type SummarySource } from './Remote.js';
export { hostArch } from './hostArch.js';
export { SubsummaryCache } from './SubsummaryCache.js';
