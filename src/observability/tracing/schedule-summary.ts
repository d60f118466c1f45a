/**
 * The scheduling span's attributes: what each profile was given, what its filters left, the pick, and for
 * each scorer its weight, the pick's raw score and the best raw score among the candidates scored.
 */
import type { Attributes } from '@opentelemetry/api';
import type { CycleTrace } from '../../epp/framework/run-cycle.js';

const PREFIX = 'infergate.scheduling';

/**
 * With one profile (llm-d's default), keys are `infergate.scheduling.*` and `infergate.scheduling.profile`
 * names it; with several (prefill/decode), each profile's keys sit under `infergate.scheduling.<profile>.*`.
 * Keys name plugins by their configured name, so they are as bounded as the EndpointPickerConfig.
 */
export function scheduleSummary(traces: readonly CycleTrace[]): Attributes {
  const out: Attributes = {};
  if (traces.length === 0) return out;
  const one = traces.length === 1;
  if (one) out[`${PREFIX}.profile`] = traces[0]!.profile;
  for (const t of traces) summarizeProfile(t, one ? PREFIX : `${PREFIX}.${t.profile}`, out);
  return out;
}

function summarizeProfile(t: CycleTrace, prefix: string, out: Attributes): void {
  out[`${prefix}.candidates`] = t.candidates.length;
  out[`${prefix}.filtered_out`] = t.candidates.length - t.scored.length;
  if (t.emptiedBy !== undefined) out[`${prefix}.emptied_by`] = t.emptiedBy;
  const at = t.picked === undefined ? -1 : t.scored.indexOf(t.picked);
  if (t.picked !== undefined) out[`${prefix}.picked`] = t.picked;
  if (at >= 0 && t.totals[at] !== undefined) out[`${prefix}.total`] = round(t.totals[at]);
  for (const s of t.scorers) {
    const key = scorerKeys(prefix, s.name);
    out[key.weight] = s.weight;
    if (at >= 0 && s.scores[at] !== undefined) out[key.score] = round(s.scores[at]);
    if (s.scores.length > 0) {
      let max = -Infinity;
      for (const v of s.scores) if (v > max) max = v;
      out[key.max] = round(max);
    }
  }
}

interface ScorerKeys {
  weight: string;
  score: string;
  max: string;
}

/** Attribute keys per profile and scorer, built once: the same few plugins score every request. */
const KEYS = new Map<string, ScorerKeys>();
/** Configurations name few plugins; a bound keeps a stream of renamed ones from growing the cache forever. */
const MAX_KEYS = 1000;

function scorerKeys(prefix: string, name: string): ScorerKeys {
  const id = `${prefix}\0${name}`;
  let k = KEYS.get(id);
  if (!k) {
    if (KEYS.size >= MAX_KEYS) KEYS.clear();
    const base = `${prefix}.scorer.${name}`;
    k = { weight: `${base}.weight`, score: `${base}.score`, max: `${base}.max` };
    KEYS.set(id, k);
  }
  return k;
}

/** Scores are in [0,1] (totals a few units): four decimals read well and keep the export small. */
function round(v: number): number {
  return Math.round(v * 10_000) / 10_000;
}
