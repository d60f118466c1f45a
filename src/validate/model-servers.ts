/**
 * The model servers a configuration has: its Pods and, with `-f`, the pod templates of its workloads
 * (Deployment, StatefulSet, ...), each with its labels, whether it can take traffic, and what it serves.
 * A repository of manifests holds Deployments, not Pods: their templates are the pods to come.
 */
import type { Pod } from '../api/pod.js';
import type { InferencePool } from '../api/inference-pool.js';
import type { SourceLocation } from '../api/config-issue.js';
import { findingLocation, subjectAt, type ObjectRef, type FindingLocation } from './finding.js';
import { servedByContainers, type ServedNames } from './vllm-command-line.js';
import { apiKeyRequirement } from './vllm-api-key.js';
import { kvEventsPublisher, type KvEventsPublisher } from './vllm-kv-events.js';
import { KV_EVENTS_PORT_ANNOTATION } from '../kvevents/kv-events-settings.js';

/** What a server serves and how that is known. */
export interface Served extends ServedNames {
  /** Adapter -> its base model, when the server said (GET /v1/models `parent`); else every adapter is on `bases[0]`. */
  parents?: ReadonlyMap<string, string>;
  /** `vLLM args` or `GET /v1/models`. */
  from: string;
}

export interface ModelServer {
  ref: ObjectRef;
  location: FindingLocation | null;
  labels: Readonly<Record<string, string>>;
  /** A Pod that is Ready with an IP, or a workload template with at least one replica. */
  ready: boolean;
  /** Why it cannot take traffic, when it cannot. */
  notReady?: string;
  /** True for a workload's pod template (a pod to come), false for a Pod. */
  template: boolean;
  /** Undefined when unknown: no model-server command line, and not probed. */
  served?: Served;
  /** How its spec makes it require an API key (`--api-key`, `env VLLM_API_KEY`); undefined when it does not. */
  apiKey?: string;
  /** What its vLLM args say of KV events; undefined when it runs no model server it can read. */
  kvEvents?: KvEventsPublisher;
  /** Its `infergate.io/kv-events-port` annotation, as written, when set. */
  kvEventsPort?: string;
}

/** A raw YAML document or API object and where it came from, before any typing. */
export interface RawObject {
  raw: unknown;
  at: SourceLocation;
}

interface PodTemplate {
  metadata?: { labels?: unknown; annotations?: unknown };
  spec?: { containers?: unknown };
}

interface WorkloadSpec {
  replicas?: unknown;
  template?: PodTemplate;
  leaderWorkerTemplate?: { leaderTemplate?: PodTemplate; workerTemplate?: PodTemplate };
}

/** Where each workload kind keeps its pod template; read in `-f` mode. */
const POD_TEMPLATES: Record<string, (spec: WorkloadSpec) => PodTemplate | undefined> = {
  Deployment: (spec) => spec.template,
  StatefulSet: (spec) => spec.template,
  ReplicaSet: (spec) => spec.template,
  DaemonSet: (spec) => spec.template,
  // leaderworkerset.x-k8s.io, llm-d's multi-node servers: the leader serves; without a leader template it is the worker's.
  LeaderWorkerSet: (spec) => spec.leaderWorkerTemplate?.leaderTemplate ?? spec.leaderWorkerTemplate?.workerTemplate,
};

/** The workload kinds whose pod templates validate reads as model servers (`serve` skips them). */
export const WORKLOAD_KINDS: readonly string[] = Object.keys(POD_TEMPLATES);

/** A Pod as a server: readiness from the typed Pod, what it serves from its containers' command lines. */
export function podServer(pod: Pod, raw: unknown): ModelServer {
  const spec = (raw as { spec?: { containers?: unknown } } | null)?.spec;
  const server: ModelServer = { ...subjectOfPod(pod), labels: pod.meta.labels, ready: pod.ready && pod.podIP !== undefined, template: false };
  if (!pod.ready) server.notReady = 'not Ready';
  else if (!pod.podIP) server.notReady = 'no status.podIP';
  const served = servedByContainers(spec?.containers);
  if (served) server.served = { ...served, from: 'vLLM args' };
  const apiKey = apiKeyRequirement(spec?.containers);
  if (apiKey) server.apiKey = apiKey;
  return withKvEvents(server, spec?.containers, pod.meta.annotations);
}

function subjectOfPod(pod: Pod): { ref: ObjectRef; location: FindingLocation | null } {
  const { object, location } = subjectAt(pod.source, pod.meta);
  return { ref: object ?? { kind: 'Pod', namespace: pod.meta.namespace, name: pod.meta.name }, location };
}

/** The pod template of a workload document, or undefined when `doc` is no workload (or has no template). */
export function templateServer(doc: RawObject): ModelServer | undefined {
  const o = doc.raw as { kind?: unknown; metadata?: { name?: unknown; namespace?: unknown }; spec?: WorkloadSpec } | null;
  const templateOf = typeof o?.kind === 'string' && Object.hasOwn(POD_TEMPLATES, o.kind) ? POD_TEMPLATES[o.kind] : undefined;
  const spec = o?.spec;
  const template = templateOf && spec && typeof spec === 'object' ? templateOf(spec) : undefined;
  if (!o || !spec || !template) return undefined;
  const meta = o.metadata ?? {};
  const ref = { kind: String(o.kind), namespace: typeof meta.namespace === 'string' && meta.namespace ? meta.namespace : 'default', name: typeof meta.name === 'string' ? meta.name : '<unnamed>' };
  const replicas = o.kind === 'DaemonSet' ? 1 : typeof spec.replicas === 'number' ? spec.replicas : 1;
  const server: ModelServer = {
    ref,
    location: findingLocation(doc.at),
    labels: stringLabels(template.metadata?.labels),
    ready: replicas > 0,
    template: true,
  };
  if (replicas <= 0) server.notReady = 'scaled to 0 replicas';
  const served = servedByContainers(template.spec?.containers);
  if (served) server.served = { ...served, from: 'vLLM args' };
  const apiKey = apiKeyRequirement(template.spec?.containers);
  if (apiKey) server.apiKey = apiKey;
  return withKvEvents(server, template.spec?.containers, stringLabels(template.metadata?.annotations));
}

/** Adds what the server's vLLM args and annotation say of its KV events (the kv-events check reads them). */
function withKvEvents(server: ModelServer, containers: unknown, annotations: Readonly<Record<string, string>>): ModelServer {
  const kvEvents = kvEventsPublisher(containers);
  if (kvEvents) server.kvEvents = kvEvents;
  const port = annotations[KV_EVENTS_PORT_ANNOTATION];
  if (port !== undefined) server.kvEventsPort = port;
  return server;
}

function stringLabels(raw: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (raw && typeof raw === 'object') for (const [k, v] of Object.entries(raw)) if (typeof v === 'string') out[k] = v;
  return out;
}

/**
 * Whether a pool's selector takes this server (same namespace, every selector label). A pool with no selector
 * labels takes none: only an invalid pool has none (a missing selector, or v1alpha2's `selector: {app: x}`),
 * which is reported as such and which `serve` refuses; taking every pod of the namespace would add findings
 * (mixed base models, servers counted as selected) about a selection no gateway makes.
 */
export function poolSelects(pool: InferencePool, server: ModelServer): boolean {
  if (Object.keys(pool.selector).length === 0) return false;
  if (server.ref.namespace !== pool.meta.namespace) return false;
  for (const [k, v] of Object.entries(pool.selector)) if (server.labels[k] !== v) return false;
  return true;
}

/** `Pod llm-d/gemma-0` or `Deployment llm-d/gemma (pod template)`. */
export function describeServer(server: ModelServer): string {
  return `${server.ref.kind} ${server.ref.namespace}/${server.ref.name}${server.template ? ' (pod template)' : ''}`;
}

/** The base model a server's adapters run on: the parent it reported, else its first base name. */
export function adapterBase(served: Served, adapter: string): string | undefined {
  return served.parents?.get(adapter) ?? served.bases[0];
}
