/**
 * `--probe`: asks every ready pod's GET /v1/models (as the gateway's model discovery does, once, with a short
 * timeout) and takes its answer over the vLLM args: it includes adapters loaded at runtime, with their base.
 */
import { keyOf } from '../api/object-meta.js';
import type { ConfigSnapshot } from '../config/snapshot.js';
import { Datastore } from '../epp/datastore/datastore.js';
import { ModelDiscovery } from '../epp/datastore/model-discovery.js';
import type { EndpointAuth } from '../upstream/upstream-auth.js';
import type { ModelServer } from './model-servers.js';
import type { ProbeFailure } from './validation-context.js';

/** Per-call timeout of the probe, as `explain` uses for its discovery. */
export const DEFAULT_PROBE_TIMEOUT_MS = 1500;

/**
 * Returns the servers with what the answering pods serve, and a failure per pod none of whose endpoints
 * answered. `auth` sends each pool's API key, as the gateway does.
 */
export async function probeServers(snapshot: ConfigSnapshot, servers: readonly ModelServer[], timeoutMs = DEFAULT_PROBE_TIMEOUT_MS, auth?: EndpointAuth): Promise<{ servers: ModelServer[]; failures: ProbeFailure[] }> {
  const datastore = new Datastore();
  datastore.apply(snapshot);
  const discovery = new ModelDiscovery(datastore, { intervalMs: 60_000, timeoutMs, ...(auth ? { auth } : {}) });
  try {
    await discovery.refreshAll();
  } finally {
    await discovery.close();
  }
  // A pod is probed once per pool port that selects it; any endpoint that answered stands for the pod.
  const answers = new Map<string, { bases: string[]; adapters: string[]; parents: Map<string, string> }>();
  const errors = new Map<string, { message: string; refused: number }>();
  for (const ep of datastore.endpoints()) {
    if (ep.models) {
      const cards = [...ep.models.values()];
      answers.set(ep.podKey, {
        bases: cards.filter((c) => c.parent === null).map((c) => c.id),
        adapters: cards.filter((c) => c.parent !== null).map((c) => c.id),
        parents: new Map(cards.filter((c) => c.parent !== null).map((c) => [c.id, c.parent!])),
      });
    } else if (!errors.has(ep.podKey)) {
      // Discovery's message already names the call (`GET <url> failed: ...`), and a refusal's the key sent and what to set.
      errors.set(ep.podKey, { message: ep.modelsError ?? `GET ${ep.origin}/v1/models failed: no answer`, refused: ep.modelsRefused });
    }
  }
  const failures: ProbeFailure[] = [];
  const probed = servers.map((s) => {
    if (s.template || s.ref.kind !== 'Pod') return s;
    const key = keyOf(s.ref);
    const answer = answers.get(key);
    if (answer) return { ...s, served: { ...answer, from: 'GET /v1/models' } };
    const error = errors.get(key);
    if (error) failures.push({ server: s, message: error.message, ...(error.refused !== 0 ? { refused: error.refused } : {}) });
    return s;
  });
  return { servers: probed, failures };
}
