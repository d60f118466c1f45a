/**
 * What a gateway's kept scheduling decisions (`GET /debug/scheduling`) say about prefix affinity: how many pods held
 * each request's prefix by the prefix scorer's own score, and how often the pick went elsewhere. For
 * `precise-prefix.ts --decisions-out`.
 */
import { runTag } from './run-tag.js';

/** The parts of a `GET /debug/scheduling` decision this reads. */
export interface KeptDecision {
  /** ISO time of the decision. */
  time: string;
  picked: string | null;
  profiles: { scored: string[]; scorers: { type: string; scores: number[] }[] }[];
}

export interface PrefixHolders {
  /** Decisions read (the warm-up's left out). */
  decisions: number;
  /** No pod scored above the threshold: the prefix was new, or evicted everywhere. */
  noHolder: number;
  oneHolder: number;
  /** Two or more pods held it: the group lives on several pods. */
  severalHolders: number;
  /** Some pod held it and the pick went to one that did not: the load scorers outweighed affinity. */
  awayFromHolder: number;
}

/** A pod "holds" a prefix when the prefix scorer gave it more than this (a whole system prompt scores 0.83-1.0 here). */
export const HOLDER_SCORE = 0.3;

/**
 * Counts over `newestFirst` (as `GET /debug/scheduling` lists them) after leaving out the oldest `skipOldest` (the
 * warm-up). Decisions without a pick or without a `prefix-cache-scorer` in their first profile are not counted.
 */
export function prefixHolders(newestFirst: readonly KeptDecision[], skipOldest: number): PrefixHolders {
  const out: PrefixHolders = { decisions: 0, noHolder: 0, oneHolder: 0, severalHolders: 0, awayFromHolder: 0 };
  const measured = newestFirst.slice(0, Math.max(0, newestFirst.length - skipOldest));
  for (const d of measured) {
    const profile = d.profiles[0];
    const scores = profile?.scorers.find((s) => s.type === 'prefix-cache-scorer')?.scores;
    if (!profile || !scores || d.picked === null) continue;
    out.decisions++;
    const holders = scores.filter((v) => v > HOLDER_SCORE).length;
    if (holders === 0) out.noHolder++;
    else if (holders === 1) out.oneHolder++;
    else out.severalHolders++;
    const picked = profile.scored.indexOf(d.picked);
    if (holders > 0 && picked >= 0 && !((scores[picked] ?? 0) > HOLDER_SCORE)) out.awayFromHolder++;
  }
  return out;
}

/** A markdown table of each run's counts (runs without counts are left out); '' when none has them. */
export function prefixHoldersTable(runs: readonly { label: string; holders?: PrefixHolders | undefined }[]): string {
  const rows = runs.flatMap((r) => {
    const h = r.holders;
    return h ? [`| ${r.label} | ${h.decisions} | ${h.oneHolder} | ${h.severalHolders} | ${h.noHolder} | ${h.awayFromHolder} |`] : [];
  });
  if (rows.length === 0) return '';
  return ['| run | decisions | one pod held the prefix | 2+ pods held it | none held it | picked away from every holder |', '|---|---:|---:|---:|---:|---:|', ...rows].join('\n');
}

/** `--decisions-out DIR`'s part of a report: the runs' counts under a heading, as lines; none when no run has them. */
export function prefixHoldersSection(runs: readonly { label: string; repeat?: number; holders?: PrefixHolders | undefined }[], dir: string | undefined): string[] {
  const table = prefixHoldersTable(runs.map((r) => ({ label: `${r.label}${runTag(r)}`, holders: r.holders })));
  if (table === '') return [];
  return [`Measured decisions by how many pods the prefix scorer gave more than ${HOLDER_SCORE} (--decisions-out ${dir}):`, '', table, ''];
}
