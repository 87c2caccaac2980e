export { RepoServer, type RepoServerOptions, type RepoServerLogEntry } from './RepoServer.js';
export {
  randomFaults,
  scriptedFaults,
  seededRandom,
  withOutages,
  type Fault,
  type FaultContext,
  type FaultPolicy,
  type Outage,
  type OutageState,
} from './Fault.js';
export { LinkEmulator, type LinkEmulatorOptions, type LinkEmulatorStats } from './LinkEmulator.js';
