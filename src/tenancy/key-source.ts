/** Where the keys in force come from: a watched file, or labelled Secrets with --kube. Either keeps its last good set on a bad edit. */
import type { KeySet } from './key-set.js';

export interface KeySource {
  /** The keys in force now; swapped whole on a good reload. */
  readonly keys: KeySet;
  /** Why the last reload was rejected while the previous keys stay in force; undefined when the last one applied. */
  readonly problem: string | undefined;
  close(): void;
}
