export { RepoServer, type RepoServerOptions, type RepoServerLogEntry } from './RepoServer.js';
export { randomFaults, scriptedFaults, seededRandom, type Fault, type FaultContext, type FaultPolicy } from './Fault.js';
export { LinkEmulator, type LinkEmulatorOptions, type LinkEmulatorStats } from './LinkEmulator.js';
