/** `precise-prefix.ts --time-scale`: an EPP config whose precise-prefix time constants are scaled with the engines. */
import { readFile } from 'node:fs/promises';
import { parse, stringify } from 'yaml';
import { DEFAULT_SILENCE_TIMEOUT_MS, DEFAULT_SPECULATIVE_TTL_MS } from '../../../src/kvevents/kv-events-settings.js';

/**
 * An EPP config with its time constants times `--time-scale`: the precise producer's `speculativeTTL` (llm-d's
 * default, 2 s), which must outlast the prefill before a pick's KV events arrive, and infergate's
 * `kvEventsConfig.silenceTimeout` (5 s), which must outlast the longest a busy pod stores no block. The file must
 * set neither.
 */
export async function scaledEppConfig(file: URL, timeScale: number): Promise<string> {
  const name = file.pathname.split('/').pop();
  const doc = parse(await readFile(file, 'utf8')) as { plugins?: { type?: string; parameters?: Record<string, unknown> }[] };
  for (const plugin of doc.plugins ?? []) {
    if (plugin.type !== 'precise-prefix-cache-producer') continue;
    plugin.parameters ??= {};
    if (plugin.parameters.speculativeTTL !== undefined) throw new Error(`${name} sets speculativeTTL: --time-scale only scales the default`);
    plugin.parameters.speculativeTTL = `${DEFAULT_SPECULATIVE_TTL_MS * timeScale}ms`;
    // A pod that stores no block for this long while requests wait for it is judged silent: its queue waits and
    // prefill steps are k times longer too.
    const events = (plugin.parameters.kvEventsConfig ??= {}) as Record<string, unknown>;
    if (events.silenceTimeout !== undefined) throw new Error(`${name} sets kvEventsConfig.silenceTimeout: --time-scale only scales the default`);
    events.silenceTimeout = `${DEFAULT_SILENCE_TIMEOUT_MS * timeScale}ms`;
  }
  return stringify(doc);
}
