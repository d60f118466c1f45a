/** Candidate sets and requests every contract suite runs each built-in plugin against. */
import type { Endpoint } from '../datastore/endpoint.js';
import type { Plugin } from '../framework/plugin.js';
import type { PluginRegistry } from '../framework/registry.js';
import type { SchedulingRequest } from '../framework/scheduling-request.js';
import { NOW, endpoint, request } from '../framework/test-fixtures.js';
import { sessionToken } from './session/session-token.js';

/** Parameters of the built-ins that have no default for a required one (every other type is built with none). */
const REQUIRED_PARAMETERS: Readonly<Record<string, Record<string, unknown>>> = {
  'session-id-producer': { headerName: 'x-session-id' },
  'utilization-filter': { conditions: [{ metric: 'waiting-queue', maxValue: 5 }, { metric: 'active-requests', maxValue: 10 }] },
  'request-attribute-reporter': { attributes: [{ key: { name: 'x-cost' }, expression: 'usage.total_tokens' }] },
};

/** An instance of registered `type` for the contract suites: its default parameters, or the required ones above. */
export function contractInstance(registry: PluginRegistry, type: string): Plugin {
  return registry.create(type, type, REQUIRED_PARAMETERS[type] ?? {});
}

/** Fresh endpoints each call (plugins must not rely on object reuse across sets). */
export function candidateSets(): { name: string; endpoints: Endpoint[] }[] {
  const mixed = [
    endpoint('10.0.0.1').waiting(0).kv(0.1).serves('llama').inFlight(0).build(),
    endpoint('10.0.0.2').waiting(7).kv(0.9).serves('llama').adapters('llama', 'sql').loras(['sql'], [], 2).inFlight(5).labels({ role: 'decode' }).build(),
    endpoint('10.0.0.3').build(),
    endpoint('10.0.0.4').metrics({ waitingQueueSize: 200, kvCacheUsagePercent: 1, updatedAt: NOW - 10_000, maxLoras: 1, waitingLoras: ['sql'] }).serves('gemma').inFlight(100).build(),
  ];
  const twins = [0, 1, 2].map((i) => endpoint(`10.0.1.${i}`).waiting(3).kv(0.5).serves('llama').inFlight(2).build());
  return [
    { name: 'mixed pool', endpoints: mixed },
    { name: 'identical endpoints', endpoints: twins },
    { name: 'one endpoint', endpoints: [endpoint('10.0.2.1').waiting(1).serves('llama').build()] },
    { name: 'no endpoints', endpoints: [] },
  ];
}

export function requests(first: Endpoint | undefined): { name: string; request: SchedulingRequest }[] {
  return [
    { name: 'base model with a prompt', request: request({ model: 'llama', prompt: 'hello '.repeat(100) }) },
    { name: 'adapter', request: request({ model: 'sql', prompt: 'select '.repeat(50) }) },
    { name: 'no model, no prompt', request: request({ model: undefined, prompt: '' }) },
    { name: 'with a session token', request: request({ model: 'llama', headers: first ? { 'x-session-token': sessionToken(first) } : {} }) },
  ];
}

/** Everything a plugin could change on an endpoint, to prove it did not. */
export function snapshot(eps: readonly Endpoint[]): string {
  return JSON.stringify(eps.map((e) => [e.address, e.inFlight, e.metrics, e.models && [...e.models.keys()], e.backoffUntil, e.pod.meta.labels]));
}
