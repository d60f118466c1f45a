/** A tiny Kubernetes REST client for integration tests: server-side apply, get, delete, status patches, pods, tokens. */
import { Agent, request } from 'undici';
import { parseAllDocuments } from 'yaml';

/** Where a kind lives in the REST API. */
export interface ResourceType {
  apiVersion: string;
  kind: string;
  plural: string;
  namespaced: boolean;
}

const resource = (apiVersion: string, kind: string, plural: string, namespaced = true): ResourceType => ({ apiVersion, kind, plural, namespaced });

export const POD = resource('v1', 'Pod', 'pods');
export const CONFIG_MAP = resource('v1', 'ConfigMap', 'configmaps');
export const NAMESPACE = resource('v1', 'Namespace', 'namespaces', false);
export const SERVICE_ACCOUNT = resource('v1', 'ServiceAccount', 'serviceaccounts');
export const INFERENCE_POOL = resource('inference.networking.k8s.io/v1', 'InferencePool', 'inferencepools');
export const HTTP_ROUTE = resource('gateway.networking.k8s.io/v1', 'HTTPRoute', 'httproutes');
export const INFERENCE_OBJECTIVE = resource('inference.networking.x-k8s.io/v1alpha2', 'InferenceObjective', 'inferenceobjectives');
export const INFERENCE_MODEL_REWRITE = resource('inference.networking.x-k8s.io/v1alpha2', 'InferenceModelRewrite', 'inferencemodelrewrites');
export const CRD = resource('apiextensions.k8s.io/v1', 'CustomResourceDefinition', 'customresourcedefinitions', false);
export const GATEWAY = resource('gateway.networking.k8s.io/v1', 'Gateway', 'gateways');
export const GATEWAY_CLASS = resource('gateway.networking.k8s.io/v1', 'GatewayClass', 'gatewayclasses', false);

const KNOWN = [POD, CONFIG_MAP, NAMESPACE, SERVICE_ACCOUNT, INFERENCE_POOL, HTTP_ROUTE, INFERENCE_OBJECTIVE, INFERENCE_MODEL_REWRITE, CRD, GATEWAY, GATEWAY_CLASS,
  resource('rbac.authorization.k8s.io/v1', 'Role', 'roles'),
  resource('rbac.authorization.k8s.io/v1', 'RoleBinding', 'rolebindings'),
  resource('rbac.authorization.k8s.io/v1', 'ClusterRole', 'clusterroles', false),
  resource('rbac.authorization.k8s.io/v1', 'ClusterRoleBinding', 'clusterrolebindings', false),
];

/** The resource type of an object's apiVersion and kind; unknown kinds are guessed namespaced, plural `kinds`. */
export function resourceOf(apiVersion: string, kind: string): ResourceType {
  return KNOWN.find((r) => r.apiVersion === apiVersion && r.kind === kind) ?? resource(apiVersion, kind, `${kind.toLowerCase()}s`);
}

/** The REST path of a collection (no name) or of one object. */
export function resourcePath(type: ResourceType, namespace: string | undefined, name?: string, subresource?: string): string {
  const root = type.apiVersion.includes('/') ? `/apis/${type.apiVersion}` : `/api/${type.apiVersion}`;
  if (type.namespaced && !namespace) throw new Error(`${type.kind} is namespaced; give a namespace`);
  const ns = type.namespaced ? `/namespaces/${encodeURIComponent(namespace!)}` : '';
  const obj = name === undefined ? '' : `/${encodeURIComponent(name)}${subresource ? `/${subresource}` : ''}`;
  return `${root}${ns}/${type.plural}${obj}`;
}

/** A Kubernetes object as JSON; tests read fields by path. */
export type KubeObject = Record<string, unknown> & {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; resourceVersion?: string; [k: string]: unknown };
};

/** A non-2xx answer; `message` carries the API server's Status message. */
export class KubeApiError extends Error {
  constructor(
    readonly method: string,
    readonly path: string,
    readonly status: number,
    readonly reason: string,
    apiMessage: string,
  ) {
    super(`${method} ${path}: HTTP ${status} ${reason}: ${apiMessage}`);
    this.name = 'KubeApiError';
  }
}

const FIELD_MANAGER = 'infergate-test';

export class KubeTestClient {
  readonly server: string;
  readonly #token: string;
  readonly #agent: Agent;
  readonly #ownsAgent: boolean;

  /** `server` like https://127.0.0.1:6443; the certificate is not verified (local-kube's is self-signed). */
  constructor(server: string, token: string, agent?: Agent) {
    this.server = server.replace(/\/$/, '');
    this.#token = token;
    this.#ownsAgent = agent === undefined;
    this.#agent = agent ?? new Agent({ connect: { rejectUnauthorized: false }, headersTimeout: 15_000, bodyTimeout: 15_000 });
  }

  /** The same server as another identity (e.g. a ServiceAccount token); shares the connection pool. */
  withToken(token: string): KubeTestClient {
    return new KubeTestClient(this.server, token, this.#agent);
  }

  /** Any request; returns the parsed JSON body (or the text, for non-JSON answers such as /readyz's `ok`), throws KubeApiError on a non-2xx status. */
  async request<T = KubeObject>(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<T> {
    const res = await request(`${this.server}${path}`, {
      method: method as 'GET',
      dispatcher: this.#agent,
      headers: { authorization: `Bearer ${this.#token}`, accept: 'application/json', ...(body !== undefined ? { 'content-type': contentType } : {}) },
      ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
    });
    const text = await res.body.text();
    const json = String(res.headers['content-type'] ?? '').includes('json');
    if (res.statusCode < 200 || res.statusCode >= 300) {
      let reason = '';
      let message = text.slice(0, 500);
      if (json) {
        const status = JSON.parse(text) as { reason?: string; message?: string };
        reason = status.reason ?? '';
        message = status.message ?? message;
      }
      throw new KubeApiError(method, path, res.statusCode, reason, message);
    }
    return (json ? JSON.parse(text) : text) as T;
  }

  /** Creates or updates by server-side apply (field manager `infergate-test`, conflicts forced); returns the stored object. */
  apply(obj: KubeObject | Record<string, unknown>): Promise<KubeObject> {
    const o = obj as KubeObject;
    if (!o.apiVersion || !o.kind || !o.metadata?.name) throw new Error(`apply needs apiVersion, kind and metadata.name: ${JSON.stringify(obj).slice(0, 200)}`);
    const type = resourceOf(o.apiVersion, o.kind);
    const path = `${resourcePath(type, o.metadata.namespace, o.metadata.name)}?fieldManager=${FIELD_MANAGER}&force=true`;
    // JSON is YAML, so the apply-patch content type takes it as is.
    return this.request('PATCH', path, o, 'application/apply-patch+yaml');
  }

  /** Applies every document of a YAML text, in order; `namespace` overrides the documents' own for namespaced kinds. */
  async applyYaml(text: string, namespace?: string): Promise<KubeObject[]> {
    const out: KubeObject[] = [];
    for (const doc of parseAllDocuments(text)) {
      if (doc.errors.length > 0) throw new Error(`invalid YAML: ${doc.errors[0]!.message}`);
      const obj = doc.toJS() as KubeObject | null;
      if (!obj) continue;
      if (namespace !== undefined && resourceOf(obj.apiVersion, obj.kind).namespaced) obj.metadata = { ...obj.metadata, namespace };
      out.push(await this.apply(obj));
    }
    return out;
  }

  /** The object, or undefined when it does not exist. */
  async get(type: ResourceType, namespace: string | undefined, name: string): Promise<KubeObject | undefined> {
    try {
      return await this.request('GET', resourcePath(type, namespace, name));
    } catch (e) {
      if (e instanceof KubeApiError && e.status === 404) return undefined;
      throw e;
    }
  }

  async list(type: ResourceType, namespace?: string, labelSelector?: string): Promise<KubeObject[]> {
    const q = labelSelector ? `?labelSelector=${encodeURIComponent(labelSelector)}` : '';
    const list = await this.request<{ items: KubeObject[] }>('GET', `${resourcePath(type, namespace)}${q}`);
    return list.items;
  }

  /** Deletes the object; returns false when it did not exist. */
  async delete(type: ResourceType, namespace: string | undefined, name: string): Promise<boolean> {
    try {
      await this.request('DELETE', resourcePath(type, namespace, name));
      return true;
    } catch (e) {
      if (e instanceof KubeApiError && e.status === 404) return false;
      throw e;
    }
  }

  /** JSON merge patch of `.status` through the status subresource (lists, such as conditions, are replaced whole). */
  patchStatus(type: ResourceType, namespace: string | undefined, name: string, status: Record<string, unknown>): Promise<KubeObject> {
    return this.request('PATCH', resourcePath(type, namespace, name, 'status'), { status }, 'application/merge-patch+json');
  }

  /** JSON merge patch of the object itself (e.g. `{metadata: {labels: {k: null}}}` removes a label). */
  patch(type: ResourceType, namespace: string | undefined, name: string, patch: Record<string, unknown>): Promise<KubeObject> {
    return this.request('PATCH', resourcePath(type, namespace, name), patch, 'application/merge-patch+json');
  }

  /** A Pod as a workload controller would create it; it stays Pending with no IP until setPodStatus. */
  createPod(namespace: string, name: string, labels: Record<string, string>, port = 8000): Promise<KubeObject> {
    return this.request('POST', resourcePath(POD, namespace), {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace, labels },
      spec: { containers: [{ name: 'sim', image: 'sim', ports: [{ containerPort: port }] }] },
    });
  }

  /** What a kubelet would report: Running, the pod's IP, and the Ready condition. */
  setPodStatus(namespace: string, name: string, status: { ip: string; ready: boolean }): Promise<KubeObject> {
    return this.patchStatus(POD, namespace, name, {
      phase: 'Running',
      podIP: status.ip,
      podIPs: [{ ip: status.ip }],
      conditions: [{ type: 'Ready', status: status.ready ? 'True' : 'False' }],
    });
  }

  /** Sets labels on a ConfigMap; a null value removes that label. */
  labelConfigMap(namespace: string, name: string, labels: Record<string, string | null>): Promise<KubeObject> {
    return this.patch(CONFIG_MAP, namespace, name, { metadata: { labels } });
  }

  /** Mints a token for a ServiceAccount (created if missing) through the TokenRequest API. */
  async createToken(namespace: string, serviceAccount: string, expirationSeconds = 3600): Promise<string> {
    // Created only when missing, so that an applied ServiceAccount (labels and all) is left as it is.
    if (!(await this.get(SERVICE_ACCOUNT, namespace, serviceAccount))) {
      await this.request('POST', resourcePath(SERVICE_ACCOUNT, namespace), { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: serviceAccount, namespace } });
    }
    const path = `${resourcePath(SERVICE_ACCOUNT, namespace, serviceAccount, 'token')}`;
    const tr = await this.request<{ status?: { token?: string } }>('POST', path, {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      spec: { expirationSeconds },
    });
    const token = tr.status?.token;
    if (!token) throw new Error(`TokenRequest for ${namespace}/${serviceAccount} returned no token`);
    return token;
  }

  /** Closes the connection pool (a no-op for clients made by withToken, which share their parent's). */
  async close(): Promise<void> {
    if (this.#ownsAgent) await this.#agent.close();
  }
}
