/**
 * What checkout and verification read from a repository: verified objects by checksum, and
 * whether a commit is partial. `LocalRepo` implements it; taking this interface instead of the
 * class keeps those walks free of the repository's write paths (and of an import cycle).
 */
import type { Checksum } from '../formats/checksum.js';
import type { Commit } from '../formats/Commit.js';
import type { DirMeta } from '../formats/DirMeta.js';
import type { DirTree } from '../formats/DirTree.js';
import type { FileInfo } from '../formats/FileHeader.js';
import type { ObjectType } from '../formats/ObjectType.js';

export interface ObjectSource {
  readCommit(checksum: Checksum): Promise<Commit>;
  readDirTree(checksum: Checksum): Promise<DirTree>;
  readDirMeta(checksum: Checksum): Promise<DirMeta>;
  /** A content object's file info and content, verified against its checksum. */
  readContent(checksum: Checksum): Promise<{ info: FileInfo; content: Uint8Array }>;
  /** Verifies a content object without returning its content (its file info). */
  verifyContent(checksum: Checksum): Promise<FileInfo>;
  /** The object's bytes as stored, or null when absent. */
  readObjectBytes(type: ObjectType, checksum: Checksum): Promise<Uint8Array | null>;
  /** Whether the commit is marked partial (an interrupted or subpath pull). */
  isPartial(commit: Checksum): Promise<boolean>;
}
