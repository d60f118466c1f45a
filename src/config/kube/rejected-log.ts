/** What the log says as objects are set aside as invalid, fixed, or deleted while set aside. */
import type { Logger } from '../../logger.js';

/**
 * Logs objects newly set aside (or set aside for new problems), and those of `before` that are not any more:
 * fixed when still watched (`present` holds the ids of every object watched), gone when deleted.
 */
export function logRejectedChanges(log: Logger, before: ReadonlyMap<string, readonly string[]>, now: ReadonlyMap<string, readonly string[]>, present: ReadonlySet<string>): void {
  for (const [id, problems] of now) {
    const was = before.get(id);
    if (was && was.join('\n') === problems.join('\n')) continue;
    log.warn(`ignoring ${id.replace('/', ' ')} until it is fixed:\n  - ${problems.join('\n  - ')}`);
  }
  for (const id of before.keys()) {
    if (now.has(id)) continue;
    // A deleted object is not "valid again": that would have the user look for it in use.
    log.info(present.has(id) ? `${id.replace('/', ' ')} is valid again` : `${id.replace('/', ' ')}, which was ignored as invalid, is gone`);
  }
}
