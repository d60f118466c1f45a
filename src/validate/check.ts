/** The contract every validate check implements, so the registry can list them and docs can name their codes. */
import type { Finding } from './finding.js';
import type { ValidationContext } from './validation-context.js';

/**
 * One check over the whole configuration. `run` reads the context and never changes it; it returns findings
 * whose codes are all in `codes`, in any order (the runner sorts them).
 */
export interface Check {
  /** Names the check in tests and docs: `route-backends`. */
  readonly name: string;
  /** Every code this check may report. */
  readonly codes: readonly string[];
  /**
   * Snapshot warnings (src/config/snapshot.ts) this check reports in its own, structured words: the
   * pass-through of the remaining snapshot warnings leaves these out, so nothing is reported twice.
   */
  readonly supersedes?: readonly RegExp[];
  run(ctx: ValidationContext): Finding[];
}
