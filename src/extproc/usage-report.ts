/** A response's usage through its pool's usage reporters (request-attribute-reporter), as ext_proc dynamic metadata. */
import type { UsageObject, UsageReporter } from '../epp/framework/plugin.js';
import type { Scheduler } from '../epp/framework/scheduler.js';
import type { Logger } from '../logger.js';
import type { Usage } from '../observability/request-record.js';

/** Reporters whose failure was logged (WeakSet: a reloaded config's instances go with it). */
const FAILED_REPORTERS = new WeakSet<UsageReporter>();

/** Namespace -> key -> value, or undefined without usage or without a value to report. */
export function reportedUsage(scheduler: Scheduler, u: Usage | undefined, log: Logger): Record<string, Record<string, number>> | undefined {
  if (u === undefined) return undefined;
  const usage: UsageObject = { prompt_tokens: u.promptTokens, completion_tokens: u.completionTokens, total_tokens: u.promptTokens + u.completionTokens };
  if (u.cachedTokens !== undefined) usage.prompt_tokens_details = { cached_tokens: u.cachedTokens };
  return scheduler.reportUsage(usage, (reporter, error) => {
    // Said once per reporter: an expression that fails on some usage fails on many.
    if (FAILED_REPORTERS.has(reporter)) return;
    FAILED_REPORTERS.add(reporter);
    log.warn('request-attribute-reporter failed on a response; nothing reported for it (said once per plugin)', { plugin: reporter.name, error: error instanceof Error ? error.message : String(error) });
  });
}
