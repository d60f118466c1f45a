/** The ways of picking a replica that the scheduling scenario compares, and how to start each one's proxy. */
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { CLI, SERVICE_PROXY, startNode, waitForUrl } from './processes.js';

/**
 * The EndpointPickerConfig files sit in the source tree: `tsc` does not copy YAML into dist/, so they are
 * found from dist/bench/scenarios/lib/ back up to the repository root.
 */
const EPP_CONFIGS = new URL('../../../../bench/scenarios/epp-configs/', import.meta.url);

/** `short`: the label in charts, where long names are cut. */
export type PolicySpec =
  | { name: string; short: string; kind: 'service'; balance: 'round-robin' | 'random'; port: number }
  /** `eppConfig` undefined: `infergate serve` without --epp-config, i.e. llm-d's default profile. */
  | { name: string; short: string; kind: 'infergate'; eppConfig: string | undefined; port: number };

const POLICIES: readonly PolicySpec[] = [
  { name: 'Service round-robin', short: 'Service RR', kind: 'service', balance: 'round-robin', port: 18702 },
  { name: 'Service random', short: 'Service random', kind: 'service', balance: 'random', port: 18703 },
  { name: 'infergate default profile', short: 'default', kind: 'infergate', eppConfig: undefined, port: 18701 },
  { name: 'infergate prefix-only', short: 'prefix-only', kind: 'infergate', eppConfig: 'prefix-only.yaml', port: 18704 },
  { name: 'infergate load-only', short: 'load-only', kind: 'infergate', eppConfig: 'load-only.yaml', port: 18705 },
  { name: 'infergate random', short: 'ig random', kind: 'infergate', eppConfig: 'random.yaml', port: 18706 },
];

/** Short keys for `--policies`: `rr,service-random,default,prefix-only,load-only,random`, or the full names. */
const KEYS: Record<string, string> = {
  rr: 'Service round-robin',
  'round-robin': 'Service round-robin',
  'service-random': 'Service random',
  default: 'infergate default profile',
  'prefix-only': 'infergate prefix-only',
  'load-only': 'infergate load-only',
  random: 'infergate random',
};

/** The policies named in a comma-separated list, in the scenario's order; throws on an unknown name. */
export function selectPolicies(list: string | undefined): PolicySpec[] {
  if (list === undefined || list.trim() === '') return [...POLICIES];
  const wanted = new Set(
    list.split(',').map((s) => {
      const key = s.trim();
      const name = KEYS[key] ?? POLICIES.find((p) => p.name === key)?.name;
      if (!name) throw new Error(`--policies: unknown policy "${key}"; use ${Object.keys(KEYS).join(', ')} or a full name`);
      return name;
    }),
  );
  return POLICIES.filter((p) => wanted.has(p.name));
}

function eppConfigPath(file: string): string {
  return fileURLToPath(new URL(file, EPP_CONFIGS));
}

/** Starts the policy's proxy in front of `backends` (ip:port) and resolves once it answers. */
export async function startPolicy(p: PolicySpec, fleetDir: string, backends: readonly string[]): Promise<ChildProcess> {
  if (p.kind === 'service') {
    const child = startNode(SERVICE_PROXY, ['--port', String(p.port), '--policy', p.balance, ...backends.flatMap((b) => ['--backend', b])]);
    await waitForUrl(`http://127.0.0.1:${p.port}/health`);
    return child;
  }
  const config = p.eppConfig === undefined ? [] : ['--epp-config', eppConfigPath(p.eppConfig)];
  const child = startNode(CLI, ['serve', '-f', fleetDir, '--port', String(p.port), '--admin-port', '0', '--log-level', 'warn', ...config]);
  await waitForUrl(`http://127.0.0.1:${p.port}/readyz`);
  return child;
}
