export { Remote, type RemoteOptions, type RemoteRef, type RemoteDelta, type SummarySource } from './Remote.js';
export { hostArch } from './hostArch.js';
export {
  resolveRemoteUrl,
  looksLikeRemote,
  defaultFlatpakConfigFiles,
  FLATHUB_URL,
  type ResolvedRemote,
  type ResolveRemoteOptions,
} from './resolveRemoteUrl.js';
