export { LocalRepo, type RepoMode } from './LocalRepo.js';
export { listTree, type TreeEntry } from './listTree.js';
