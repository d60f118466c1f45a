/** Prefix-cache counters read from simulated replicas' /metrics, to tell how many prompt tokens a run found cached. */

export interface PrefixCounters {
  /** Prompt tokens looked up in the prefix cache (`vllm:prefix_cache_queries_total`). */
  queries: number;
  /** Of those, tokens found cached (`vllm:prefix_cache_hits_total`). */
  hits: number;
}

/** The sum of every series of metric `name` in a Prometheus text exposition. */
export function sumSeries(text: string, name: string): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    // `name{...} v` or `name v`; `name_created` and longer names do not match.
    if (rest[0] !== '{' && rest[0] !== ' ') continue;
    const v = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (Number.isFinite(v)) sum += v;
  }
  return sum;
}

/** The counters summed over every replica. */
export async function readPrefixCounters(origins: readonly string[]): Promise<PrefixCounters> {
  const texts = await Promise.all(origins.map(async (o) => (await fetch(`${o}/metrics`)).text()));
  return {
    queries: texts.reduce((s, t) => s + sumSeries(t, 'vllm:prefix_cache_queries_total'), 0),
    hits: texts.reduce((s, t) => s + sumSeries(t, 'vllm:prefix_cache_hits_total'), 0),
  };
}

/** Share of prompt tokens served from the prefix cache between two readings, in [0, 1]; NaN without queries. */
export function hitRate(before: PrefixCounters, after: PrefixCounters): number {
  const q = after.queries - before.queries;
  return q > 0 ? (after.hits - before.hits) / q : NaN;
}
