/**
 * Two simulated pods of one model in one pool, with the prefix-cache-scorer alone deciding (ties broken at random),
 * behind a gateway on 127.0.0.1: where prefix routing is what keeps a conversation on its pod, and nothing else does.
 */
import assert from 'node:assert/strict';
import type { RunningGateway } from '../../src/cli/start-gateway.js';
import { podYaml, poolYaml, prefixRouteYaml, startFleet, startTestGateway, tempConfig } from './fleet.js';

/** The prefix alone picks; ties (no pod holds any block) are broken at random. */
export const PREFIX_ONLY_CONFIG = `apiVersion: llm-d.ai/v1alpha1
kind: EndpointPickerConfig
plugins:
  - type: prefix-cache-scorer
  - type: max-score-picker
schedulingProfiles:
  - name: default
    plugins:
      - {pluginRef: prefix-cache-scorer, weight: 1}
`;

export interface PrefixPair {
  gw: RunningGateway;
  /** POSTs `body` to `path` and returns the endpoint that served it (it must answer 200). */
  served(path: string, body: object): Promise<string>;
  close(): Promise<void>;
}

/** The pods on 127.0.<octet>.2-3, serving `model`. */
export async function startPrefixPair(octet: number, model: string): Promise<PrefixPair> {
  const fleet = await startFleet(octet, [
    { name: 'pod-0', labels: {}, model, ttftMs: 0, itlMs: 1 },
    { name: 'pod-1', labels: {}, model, ttftMs: 0, itlMs: 1 },
  ]);
  const pods = ['pod-0', 'pod-1'].map((n) => podYaml(n, fleet.ipOf(n), { app: 'pair' }));
  const cfg = await tempConfig({ 'all.yaml': [...pods, poolYaml('pair', { app: 'pair' }, fleet.port), prefixRouteYaml('all', '/v1/', 'pair')].join('---\n') });
  const gw = await startTestGateway(cfg.dir, { eppConfig: { text: PREFIX_ONLY_CONFIG, file: 'prefix.yaml' } });
  return {
    gw,
    served: async (path, body) => {
      const r = await fetch(`${gw.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model, ...body }) });
      assert.equal(r.status, 200, await r.clone().text());
      await r.arrayBuffer();
      return r.headers.get('x-gateway-destination-endpoint-served') ?? '';
    },
    close: async () => {
      await gw.close();
      await fleet.close();
      await cfg.remove();
    },
  };
}
