/**
 * Reads the cluster once for `validate --kube`: the same watches as `serve --kube`'s first sync (pools,
 * routes, allowlists, objectives, rewrites, then each pool's pods, EndpointPickerConfig ConfigMap and the
 * Service its endpointPickerRef names),
 * stopped as soon as every list is in (or one is refused for good: 401, 403, a CRD not installed), keeping the raw
 * objects so pods' container args can be read.
 */
import { readResource } from '../api/resource.js';
import type { Pod } from '../api/pod.js';
import type { ServiceFacts } from '../api/service.js';
import { KubeApiError, KubeClient } from '../config/kube/kube-client.js';
import { KubeConfigSource, type ReflectorTuning } from '../config/kube/kube-source.js';
import { loadKubeTarget, type KubeTargetOptions } from '../config/kube/kube-target.js';
import { KUBE_SOURCE_FILE, objectId } from '../config/kube/read-objects.js';
import { SERVICES } from '../config/kube/resource-types.js';
import type { KubeObject } from '../config/kube/kube-object.js';
import type { Logger } from '../logger.js';
import { podServer } from './model-servers.js';
import { SourceUnreadableError } from './read-files.js';
import type { ForbiddenKind, ValidationInput } from './validation-context.js';

export interface KubeReadOptions extends KubeTargetOptions {
  /** How long to wait for every list (default 30 s, as `explain --kube`). */
  timeoutMs?: number;
  reflector?: ReflectorTuning;
}

export async function readKubeInput(kube: KubeReadOptions, log: Logger): Promise<ValidationInput> {
  const { objects, forbidden, services } = await listOnce(kube, log);
  const input: ValidationInput = { source: 'kube', resources: [], issues: [], warnings: [], servers: [], forbidden, ...(services ? { services } : {}) };
  const seen = new Set<string>();
  for (const obj of objects) {
    const id = objectId(obj);
    // The same ConfigMap may come from two watches (an allowlist a pool also names for its picker config).
    if (seen.has(id)) continue;
    seen.add(id);
    // Terminating pods are draining: serve --kube leaves them out too.
    if (obj.kind === 'Pod' && obj.metadata.deletionTimestamp) continue;
    const result = readResource(obj, { file: KUBE_SOURCE_FILE, document: 0 });
    input.issues.push(...result.issues);
    if (!('resource' in result)) continue;
    // The API server prunes fields its schema lacks, so these are rare here; an old CRD's schema may keep them.
    input.warnings!.push(...(result.warnings ?? []));
    input.resources.push(result.resource);
    if (result.resource.kind === 'Pod') input.servers.push(podServer(result.resource as Pod, obj));
  }
  return input;
}

async function listOnce(kube: KubeReadOptions, log: Logger): Promise<{ objects: KubeObject[]; forbidden: ForbiddenKind[]; services: ReadonlyMap<string, ServiceFacts | null> | undefined }> {
  let client: KubeClient;
  try {
    client = new KubeClient(await loadKubeTarget(kube));
  } catch (e) {
    throw new SourceUnreadableError(`cannot use the Kubernetes API: ${(e as Error).message}`);
  }
  // failFast: a 403 or a missing CRD is reported at once, not after the whole --timeout.
  // followPickerRefs: as `serve --kube`, so a ref to a Service that does not exist (its pool answers 500) is known.
  const source = new KubeConfigSource({ client, log, debounceMs: 0, failFast: true, followPickerRefs: true, ...(kube.reflector ? { reflector: kube.reflector } : {}), apply: async () => undefined });
  source.start();
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeoutMs = kube.timeoutMs ?? 30_000;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new SourceUnreadableError(`no full list from the Kubernetes API after ${timeoutMs} ms: ${source.notReadyReason()}`)), timeoutMs);
    });
    const snapshot = await Promise.race([source.firstSync().catch((e: Error) => Promise.reject(new SourceUnreadableError(e.message))), timeout]);
    // The Services are facts for picker-ref checks, not configuration objects; one RBAC hides is not judged, as in serve.
    const reflectors = source.reflectors().filter((r) => r.type !== SERVICES);
    // A missing optional CRD is normal; one the credentials may not read leaves its objects unchecked.
    const refused = reflectors.filter((r) => r.forbidden).map((r) => ({ kind: r.type.kind, apiVersion: r.type.apiVersion, plural: r.type.plural, watch: r.description, why: r.lastError ?? 'forbidden' }));
    const forbidden = await installedOnly(client, refused);
    return { objects: reflectors.flatMap((r) => [...r.items()]), forbidden, services: snapshot.services };
  } finally {
    clearTimeout(timer);
    await source.close();
  }
}

/**
 * The forbidden kinds whose CRD is installed. RBAC is checked before the API server looks for the resource, so a
 * Role that grants only GIE's group gets 403, not 404, for llm-d.ai's objectives when their CRD is not installed
 * at all: that is the normal missing CRD, not objects left unchecked. Discovery (`/apis/GROUP/VERSION`, open to
 * every authenticated user) tells them apart; when it cannot, the kind stays reported.
 */
async function installedOnly(client: KubeClient, kinds: readonly ForbiddenKind[]): Promise<ForbiddenKind[]> {
  const installed = await Promise.all(
    kinds.map(async (k) => {
      try {
        const list = await client.getJson(`/apis/${k.apiVersion}`);
        return !Array.isArray(list.resources) || list.resources.some((r) => (r as { name?: unknown } | null)?.name === k.plural);
      } catch (e) {
        return !(e instanceof KubeApiError && e.status === 404);
      }
    }),
  );
  return kinds.filter((_, i) => installed[i]);
}
