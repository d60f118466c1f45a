/**
 * Reads one Secret a pool names for its upstream API key (`infergate.io/upstream-api-key-secret`): a single
 * GET by name, so RBAC may grant `get` on that Secret alone (`resourceNames`), never a list or watch of Secrets.
 */
import type { SecretReader } from '../../upstream/read-api-key.js';
import { KubeApiError, KubeClient } from './kube-client.js';
import { loadKubeTarget, type KubeTargetOptions } from './kube-target.js';

/** The reader for the cluster `opts` names (the same credentials as the configuration source). */
export function secretReader(opts: KubeTargetOptions): SecretReader {
  let client: KubeClient | undefined;
  return async (namespace, name) => {
    client ??= new KubeClient(await loadKubeTarget(opts));
    return readSecretData(client, namespace, name);
  };
}

/** The Secret's `data`, base64-decoded (and `stringData`, which a dry-run object may carry); rejects saying what to fix. */
export async function readSecretData(client: KubeClient, namespace: string, name: string): Promise<Record<string, string>> {
  const path = `/api/v1/namespaces/${encodeURIComponent(namespace)}/secrets/${encodeURIComponent(name)}`;
  let obj: Record<string, unknown>;
  try {
    obj = await client.getJson(path, {}, AbortSignal.timeout(5_000));
  } catch (e) {
    if (e instanceof KubeApiError && e.status === 404) throw new Error(`Secret ${namespace}/${name} not found`, { cause: e });
    if (e instanceof KubeApiError && e.status === 403) {
      throw new Error(`the gateway may not read Secret ${namespace}/${name}: grant its service account "get" on secrets in namespace ${namespace} (a Role with resourceNames: [${name}] is enough), or mount the Secret and name the file with infergate.io/upstream-api-key-file`, { cause: e });
    }
    throw new Error(`GET Secret ${namespace}/${name} failed: ${(e as Error).message}`, { cause: e });
  }
  const out: Record<string, string> = {};
  const data = obj.data;
  if (data && typeof data === 'object') for (const [k, v] of Object.entries(data)) if (typeof v === 'string') out[k] = Buffer.from(v, 'base64').toString('utf8');
  const stringData = obj.stringData;
  if (stringData && typeof stringData === 'object') for (const [k, v] of Object.entries(stringData)) if (typeof v === 'string') out[k] = v;
  return out;
}
