/**
 * How many KV blocks a shared-prefix workload's prompts occupy once all cached, measured with the simulator's own
 * tokenizer, and the per-pod KV cache that makes that footprint a given share of a fleet's capacity.
 */
import type { Workload } from '../../../src/bench/workload.js';
import { seededRandom } from '../../../src/seeded-random.js';
import { CHARS_PER_TOKEN } from '../../../src/sim/token-estimate.js';
import { startNode, waitForUrl } from './processes.js';

export interface Footprint {
  /** Full blocks of every distinct prompt (groups x users), shared system-prompt blocks counted once. */
  blocks: number;
  /** `--kv-cache-size` per pod. */
  kvBlocksPerPod: number;
  /** blocks / (kvBlocksPerPod x pods). */
  demand: number;
}

export interface FootprintOptions {
  cli: string;
  model: string;
  /** A loopback address for a throwaway simulator that tokenizes. */
  host: string;
  port: number;
  blockSize: number;
  workload: Workload;
  groups: number;
  users: number;
  pods: number;
  /** Wanted footprint / fleet capacity, e.g. 0.72. */
  demand: number;
  /** The simulators' `--chars-per-token` (default 4). */
  charsPerToken?: number;
}

async function count(origin: string, model: string, messages: unknown[]): Promise<number> {
  const r = await fetch(`${origin}/tokenize`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model, messages }) });
  if (!r.ok) throw new Error(`/tokenize answered ${r.status}: ${await r.text()}`);
  return ((await r.json()) as { count: number }).count;
}

/**
 * Per group: the full blocks of one whole prompt, plus, for each other user, the blocks after the system prompt's
 * last full block (a user's question and the chat template around it). Only full blocks are cached, as in vLLM.
 */
export async function measureFootprint(o: FootprintOptions): Promise<Footprint> {
  const sim = startNode(o.cli, ['sim', '--model', o.model, '--host', o.host, '--port', String(o.port), '--block-size', String(o.blockSize), '--chars-per-token', String(o.charsPerToken ?? CHARS_PER_TOKEN)]);
  const origin = `http://${o.host}:${o.port}`;
  try {
    await waitForUrl(`${origin}/health`);
    const random = seededRandom(7);
    const seen = new Map<string, unknown[]>();
    for (let i = 0; i < 100_000 && seen.size < o.groups; i++) {
      const req = o.workload.next(i, random);
      const g = req.tags?.group ?? '';
      if (!seen.has(g)) seen.set(g, req.body.messages as unknown[]);
    }
    let blocks = 0;
    for (const messages of seen.values()) {
      const full = Math.floor((await count(origin, o.model, messages)) / o.blockSize);
      const shared = Math.floor((await count(origin, o.model, messages.slice(0, -1))) / o.blockSize);
      blocks += full + (o.users - 1) * (full - shared);
    }
    const kvBlocksPerPod = Math.ceil(blocks / o.demand / o.pods);
    return { blocks, kvBlocksPerPod, demand: blocks / (kvBlocksPerPod * o.pods) };
  } finally {
    sim.kill('SIGTERM');
  }
}
