export { RepoServer, type RepoServerOptions, type RepoServerLogEntry } from './RepoServer.js';
