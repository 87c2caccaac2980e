export { RepoServer, type RepoServerOptions, type RepoServerLogEntry } from './RepoServer.js';
export { randomFaults, seededRandom, type Fault, type FaultContext, type FaultPolicy } from './Fault.js';
export { LinkEmulator, type LinkEmulatorOptions, type LinkEmulatorStats } from './LinkEmulator.js';
