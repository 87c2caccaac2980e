import type { Checksum } from '../formats/checksum.js';
import type { GpgKeyring } from '../trust/GpgKeyring.js';
import type { ResolvedMirrorCheckOptions } from './MirrorCheckOptions.js';
import type { PrimaryReference, Server } from './PrimaryReference.js';

/** What every check of one server gets. */
export interface MirrorContext {
  o: ResolvedMirrorCheckOptions;
  primary: PrimaryReference;
  /** The server under check (the primary itself for its own reference checks). */
  server: Server;
  keyring: GpgKeyring | null;
  /** Selected ref → the commit the server advertises for it (the primary's when the server advertises none). */
  heads: Map<string, Checksum>;
}
