/**
 * Derives the simulators a demo config needs from its Pods: each Pod becomes one simulator on its
 * `status.podIP`, started with its container's vLLM args (`--model`, `--served-model-name`, `--port`,
 * `--lora-modules`, `--max-num-seqs`, `--max-loras`, `--block-size`, `--max-num-batched-tokens`,
 * `--num-gpu-blocks-override`, `--max-model-len` (`4096` or vLLM's `4k`), `--[no-]enable-prefix-caching`), so the demo YAML reads like a real cluster's.
 */
import { readFile } from 'node:fs/promises';
import { parseAllDocuments } from 'yaml';
import { listConfigFiles } from '../config/load-files.js';
import type { SimulatorOptions } from '../sim/simulator.js';
import { tokenCountFlag } from '../sim/token-count.js';

export interface FleetMember extends SimulatorOptions {
  podName: string;
  host: string;
  port: number;
}

export async function fleetFromConfig(path: string, defaults: Partial<SimulatorOptions> = {}): Promise<FleetMember[]> {
  const fleet: FleetMember[] = [];
  for (const file of await listConfigFiles(path)) {
    for (const doc of parseAllDocuments(await readFile(file, 'utf8')) as ReturnType<typeof parseAllDocuments> & unknown[]) {
      const o = doc.toJS() as Record<string, any> | null; // eslint-disable-line @typescript-eslint/no-explicit-any
      if (o?.kind !== 'Pod' || !o.status?.podIP) continue;
      const container = o.spec?.containers?.[0];
      const args: unknown[] = Array.isArray(container?.args) ? container.args : [];
      const podName = String(o.metadata?.name ?? 'pod');
      let sim: Partial<SimulatorOptions>;
      try {
        sim = vllmArgs(args.map(String));
      } catch (e) {
        throw new Error(`${file}: Pod ${podName}: spec.containers[0].args: ${(e as Error).message}`);
      }
      const member = { ...defaults, ...sim, podName, host: String(o.status.podIP) };
      if (!member.model) throw new Error(`${file}: Pod ${podName} has no --model in spec.containers[0].args; the demo cannot simulate it`);
      fleet.push({ ...member, model: member.model, port: member.port ?? 8000 });
    }
  }
  return fleet;
}

/** vLLM's numeric flags and the simulator option each sets. */
const NUMBER_FLAGS = {
  '--port': 'port',
  '--max-num-seqs': 'maxNumSeqs',
  '--max-loras': 'maxLoras',
  '--block-size': 'blockSize',
  '--max-num-batched-tokens': 'maxNumBatchedTokens',
  '--num-gpu-blocks-override': 'kvCacheSize',
  '--max-model-len': 'maxModelLen',
} as const satisfies Record<string, keyof SimulatorOptions>;

/** A numeric flag's value: `--max-model-len` in vLLM's token-count spelling (`4k`), the others whole numbers; throws naming the flag. */
function numberArg(flag: keyof typeof NUMBER_FLAGS, v: string): number {
  if (flag === '--max-model-len') return tokenCountFlag(flag, v);
  if (!/^\d+$/.test(v.trim())) throw new Error(`${flag} must be a whole number, got "${v}"`);
  return Number(v);
}

function isNumberFlag(flag: string): flag is keyof typeof NUMBER_FLAGS {
  return Object.hasOwn(NUMBER_FLAGS, flag);
}

/** The subset of vLLM's CLI the simulator mirrors; other flags are ignored. Throws on a value the simulator cannot take. */
export function vllmArgs(args: readonly string[]): Partial<SimulatorOptions> {
  const out: Partial<SimulatorOptions> = {};
  let servedNames: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const [flag, inline] = args[i]!.split(/=(.*)/s, 2) as [string, string | undefined];
    const value = (): string => inline ?? args[++i] ?? '';
    if (isNumberFlag(flag)) {
      out[NUMBER_FLAGS[flag]] = numberArg(flag, value());
      continue;
    }
    switch (flag) {
      case '--model':
        out.model = value();
        break;
      case '--served-model-name':
        // vLLM takes every name up to the next flag; each one is served.
        servedNames = [value()];
        if (inline === undefined) while (i + 1 < args.length && !args[i + 1]!.startsWith('--')) servedNames.push(args[++i]!);
        break;
      // Boolean switches (argparse BooleanOptionalAction): they take no value, so the next argument is left alone.
      case '--enable-prefix-caching':
        out.enablePrefixCaching = inline === undefined || !/^(false|0|no)$/i.test(inline);
        break;
      case '--no-enable-prefix-caching':
        out.enablePrefixCaching = false;
        break;
      case '--lora-modules': {
        // vLLM takes `name=path` pairs or JSON objects, one per following argument, until the next flag.
        const loras: string[] = [];
        while (i + 1 < args.length && !args[i + 1]!.startsWith('--')) loras.push(loraName(args[++i]!));
        out.loras = loras;
        break;
      }
    }
  }
  const [first, ...aliases] = servedNames.filter((n) => n !== '');
  if (first !== undefined) out.model = first;
  if (aliases.length > 0) out.modelAliases = aliases;
  return out;
}

function loraName(spec: string): string {
  if (spec.trim().startsWith('{')) return String((JSON.parse(spec) as { name?: unknown }).name ?? spec);
  return spec.split('=')[0]!;
}
