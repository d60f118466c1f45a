/**
 * `precise-prefix.ts --decisions-out`: each gateway replica's kept scheduling decisions (`GET /debug/scheduling`)
 * saved after a run, and what they say about prefix affinity (prefix-holders.ts).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { prefixHolders, type KeptDecision, type PrefixHolders } from './prefix-holders.js';

/** Runs saved so far by this process: each run's files start with its number, in run order. */
let savedRuns = 0;

/**
 * Saves each admin origin's decisions into `dir` (one file per replica, named after the run's label) and counts
 * all replicas' decisions together, leaving out the run's oldest `warmup` (the warm-up's requests, whichever
 * replica took them).
 */
export async function saveKeptDecisions(dir: string, label: string, adminOrigins: readonly string[], warmup: number): Promise<PrefixHolders> {
  await mkdir(dir, { recursive: true });
  const run = String(++savedRuns).padStart(2, '0');
  const slug = label.replace(/[^a-z0-9]+/gi, '-').replace(/^-|-$/g, '').toLowerCase();
  const all: KeptDecision[] = [];
  for (const [i, origin] of adminOrigins.entries()) {
    const res = await fetch(`${origin}/debug/scheduling`);
    const text = await res.text();
    if (!res.ok) throw new Error(`GET /debug/scheduling of gateway ${i + 1} answered ${res.status}: ${text}`);
    await writeFile(join(dir, `${run}-${slug}${adminOrigins.length > 1 ? `-gateway-${i + 1}` : ''}.json`), text);
    all.push(...(JSON.parse(text) as { decisions: KeptDecision[] }).decisions);
  }
  // Newest first across replicas, so the warm-up (the oldest requests, wherever they went) is what is left out.
  all.sort((a, b) => (a.time > b.time ? -1 : a.time < b.time ? 1 : 0));
  return prefixHolders(all, warmup);
}
