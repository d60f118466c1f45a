/**
 * Builders for typed resources that read like the YAML they stand for:
 * `pod('a').labels({ app: 'gemma' }).ip('127.0.0.2').ready()`, `inferencePool('gemma').selects({ app: 'gemma' }).ports(8000)`,
 * `allowlist('gemma-allowlist').base('google/gemma-2b-it').adapter('gemma-sql-lora')`.
 */
import type { Allowlist } from './allowlist.js';
import type { SourceLocation } from './config-issue.js';
import type { EndpointPickerRef, InferencePool } from './inference-pool.js';
import type { ObjectMeta } from './object-meta.js';
import type { Pod } from './pod.js';

function sourceOf(kind: string, meta: ObjectMeta): SourceLocation {
  return { file: 'test.yaml', document: 1, kind, namespace: meta.namespace, name: meta.name };
}

/** A Pod under construction; `ready()` or `notReady()` ends it, as `status.conditions[type=Ready]` would. */
export class PodBuilder {
  #meta: ObjectMeta;
  #labels: Record<string, string> = {};
  #podIP: string | undefined;
  #source: Partial<SourceLocation> = {};

  constructor(name: string) {
    this.#meta = { name, namespace: 'default', labels: this.#labels, annotations: {} };
  }

  inNamespace(namespace: string): this {
    this.#meta.namespace = namespace;
    return this;
  }

  labels(labels: Record<string, string>): this {
    Object.assign(this.#labels, labels);
    return this;
  }

  /** `status.podIP`; a pod without one has not been scheduled. */
  ip(podIP: string): this {
    this.#podIP = podIP;
    return this;
  }

  /** Declared in another file or document than `test.yaml` document 1. */
  from(file: string, document = 1): this {
    this.#source = { file, document };
    return this;
  }

  ready(): Pod {
    return this.#build(true);
  }

  notReady(): Pod {
    return this.#build(false);
  }

  #build(ready: boolean): Pod {
    const meta: ObjectMeta = { ...this.#meta, labels: { ...this.#labels } };
    const p: Pod = { kind: 'Pod', meta, source: { ...sourceOf('Pod', meta), ...this.#source }, ready };
    if (this.#podIP !== undefined) p.podIP = this.#podIP;
    return p;
  }
}

export function pod(name: string): PodBuilder {
  return new PodBuilder(name);
}

/** An InferencePool under construction; it is an InferencePool itself (port 8000, http, no picker ref until told). */
export class InferencePoolBuilder implements InferencePool {
  readonly kind = 'InferencePool';
  readonly meta: ObjectMeta;
  source: SourceLocation;
  selector: Record<string, string> = {};
  targetPorts: number[] = [8000];
  appProtocol: InferencePool['appProtocol'] = 'http';
  endpointPickerRef?: EndpointPickerRef;

  constructor(name: string) {
    this.meta = { name, namespace: 'default', labels: {}, annotations: {} };
    this.source = sourceOf('InferencePool', this.meta);
  }

  inNamespace(namespace: string): this {
    this.meta.namespace = namespace;
    this.source.namespace = namespace;
    return this;
  }

  /** `spec.selector.matchLabels`. */
  selects(labels: Record<string, string>): this {
    Object.assign(this.selector, labels);
    return this;
  }

  /** `spec.targetPorts[].number`, replacing the default 8000. */
  ports(...numbers: number[]): this {
    this.targetPorts = numbers;
    return this;
  }

  h2c(): this {
    this.appProtocol = 'kubernetes.io/h2c';
    return this;
  }

  /** `metadata.annotations`, added to those set so far. */
  annotate(annotations: Record<string, string>): this {
    Object.assign(this.meta.annotations, annotations);
    return this;
  }

  picker(name: string, failureMode: EndpointPickerRef['failureMode'] = 'FailClose'): this {
    this.endpointPickerRef = { kind: 'Service', name, failureMode };
    return this;
  }

  from(file: string, document = 1): this {
    this.source = { ...this.source, file, document };
    return this;
  }
}

export function inferencePool(name: string): InferencePoolBuilder {
  return new InferencePoolBuilder(name);
}

/** A BBR allowlist ConfigMap under construction; it is an Allowlist itself (labelled bbr-managed). */
export class AllowlistBuilder implements Allowlist {
  readonly kind = 'Allowlist';
  readonly meta: ObjectMeta;
  source: SourceLocation;
  baseModel = '';
  adapters: string[] = [];

  constructor(name: string) {
    this.meta = { name, namespace: 'default', labels: { 'inference.networking.k8s.io/bbr-managed': 'true' }, annotations: {} };
    this.source = sourceOf('ConfigMap', this.meta);
  }

  inNamespace(namespace: string): this {
    this.meta.namespace = namespace;
    this.source.namespace = namespace;
    return this;
  }

  /** `data.baseModel`. */
  base(model: string): this {
    this.baseModel = model;
    return this;
  }

  /** Entries of `data.adapters`. */
  adapter(...names: string[]): this {
    this.adapters.push(...names);
    return this;
  }

  from(file: string, document = 1): this {
    this.source = { ...this.source, file, document };
    return this;
  }
}

export function allowlist(name: string): AllowlistBuilder {
  return new AllowlistBuilder(name);
}
