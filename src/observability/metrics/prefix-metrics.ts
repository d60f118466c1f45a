/**
 * The approximate prefix index's families (llm-d's `llm_d_epp_prefix_indexer_*` by plugin, GIE's unlabelled
 * `inference_extension_prefix_indexer_*`): its size at scrape time, and each pick's hit ratio and hit bytes.
 * Every pool has its own scorer instances; instances of one name add up into one series.
 */
import type { Registry } from 'prom-client';
import type { PoolSchedulers } from '../../epp/pool-schedulers.js';
import { PrefixCacheScorer } from '../../epp/plugins/prefix-cache-scorer.js';
import * as B from './buckets.js';
import { CollectedFamily } from './collected-family.js';
import { alpha, register } from './family.js';
import { DerivedHistogramFamily } from './derived-family.js';
import { HistogramFamily, type HistogramSeries } from './histogram-family.js';
import { LLMD } from './request-families.js';

const GIE = 'inference_extension_';
const P = ['plugin_name', 'plugin_type'];
const deprecated = (use: string, help: string): string => alpha(`[Deprecated: Use ${LLMD}${use}] ${help}`);

export class PrefixMetrics {
  readonly size: CollectedFamily;
  readonly gieSize: CollectedFamily;
  readonly hitRatio = new HistogramFamily({ name: `${LLMD}prefix_indexer_hit_ratio`, help: alpha('Ratio of prefix length matched to total prefix length in the cache lookup.'), labelNames: P, buckets: B.HIT_RATIO });
  readonly gieHitRatio = new DerivedHistogramFamily(this.hitRatio, { name: `${GIE}prefix_indexer_hit_ratio`, help: deprecated('prefix_indexer_hit_ratio', 'Ratio of prefix length matched to total prefix length in the cache lookup.'), labelNames: [], labels: () => [] });
  readonly hitBytes = new HistogramFamily({ name: `${LLMD}prefix_indexer_hit_bytes`, help: alpha('Length of the prefix match in number of bytes in the cache lookup.'), labelNames: P, buckets: B.HIT_BYTES });
  readonly gieHitBytes = new DerivedHistogramFamily(this.hitBytes, { name: `${GIE}prefix_indexer_hit_bytes`, help: deprecated('prefix_indexer_hit_bytes', 'Length of the prefix match in number of bytes in the cache lookup.'), labelNames: [], labels: () => [] });
  #schedulers: PoolSchedulers | undefined;
  readonly #byScorer = new WeakMap<PrefixCacheScorer, [HistogramSeries, HistogramSeries]>();

  constructor() {
    const sizes = (): Map<string, { name: string; type: string; entries: number }> => {
      const out = new Map<string, { name: string; type: string; entries: number }>();
      for (const ps of this.#schedulers?.all() ?? []) {
        for (const p of ps.scheduler.config.plugins.values()) {
          // The precise index is shared by instances of equal settings: each plugin reports it once, not per pool.
          const precise = (p as { indexSize?: unknown }).indexSize;
          if (!(p instanceof PrefixCacheScorer) && typeof precise !== 'number') continue;
          const key = `${p.name}\u0000${p.type}`;
          const e = out.get(key) ?? { name: p.name, type: p.type, entries: 0 };
          if (p instanceof PrefixCacheScorer) e.entries += p.index.entries;
          else e.entries = Math.max(e.entries, precise as number);
          out.set(key, e);
        }
      }
      return out;
    };
    this.size = new CollectedFamily({
      type: 'gauge',
      name: `${LLMD}prefix_indexer_size`,
      help: alpha('Size of the prefix indexer.'),
      labelNames: P,
      collect: (emit) => {
        for (const e of sizes().values()) emit(e.entries, e.name, e.type);
      },
    });
    this.gieSize = new CollectedFamily({
      type: 'gauge',
      name: `${GIE}prefix_indexer_size`,
      help: deprecated('prefix_indexer_size', 'Size of the prefix indexer.'),
      collect: (emit) => {
        let n = 0;
        for (const e of sizes().values()) n += e.entries;
        emit(n);
      },
    });
  }

  /** Reads index sizes from these schedulers, and reports each pick's match of their prefix-cache scorers. */
  watch(schedulers: PoolSchedulers): void {
    this.#schedulers = schedulers;
  }

  /** A PrefixMatchObserver: blocks of the prompt the picked endpoint held, of how many, bytes per block. */
  readonly observeMatch = (scorer: PrefixCacheScorer, matched: number, total: number, blockBytes: number): void => {
    let s = this.#byScorer.get(scorer);
    if (!s) this.#byScorer.set(scorer, (s = [this.hitRatio.series(scorer.name, scorer.type), this.hitBytes.series(scorer.name, scorer.type)]));
    s[1].observe(matched * blockBytes);
    if (total > 0) s[0].observe(matched / total);
  };

  register(registry: Registry): void {
    for (const f of [this.size, this.gieSize, this.hitRatio, this.gieHitRatio, this.hitBytes, this.gieHitBytes]) register(registry, f);
  }
}
