/**
 * With `--kube --api-key-secrets`: the keys are every entry of the Secrets labelled `infergate.io/api-keys: "true"`
 * in the namespace watched (the gateway's own under --all-namespaces: keySecretTargetOptions), each data value a keys document (docs/tenancy.md). Listed at start (a bad set stops
 * the start), then listed again every `intervalMs`; a bad change is logged and the last good keys stay in force.
 * A problem is warned of when it starts or changes; its repeats at every list go to debug, so a bad Secret or an
 * API server that is away does not flood the log, and its end is logged.
 */
import { KubeClient } from '../config/kube/kube-client.js';
import { loadKubeTarget, type KubeTargetOptions } from '../config/kube/kube-target.js';
import type { Logger } from '../logger.js';
import type { KeyEntry } from './key-entry.js';
import { KeyFileError, parseKeyFile } from './key-file.js';
import type { KeySource } from './key-source.js';
import { KeySet } from './key-set.js';
import { sharedLimitProblems } from './shared-limits.js';

export const API_KEYS_LABEL = 'infergate.io/api-keys';

/** What the source asks of the API server: one list of labelled Secrets (KubeClient has it). */
export interface SecretLister {
  getJson(path: string, query: Readonly<Record<string, string>>, signal?: AbortSignal): Promise<Record<string, unknown>>;
}

/**
 * Where the key Secrets are read: the namespace the gateway watches, and under `--all-namespaces` its own
 * namespace alone (the pod's, else the kubeconfig context's, else `default`), never every namespace. A key is
 * a grant of models and limits: read cluster-wide, anyone allowed to create a Secret in any namespace (a tenant
 * in its own) could give itself a gateway key.
 */
export function keySecretTargetOptions(opts: KubeTargetOptions): KubeTargetOptions {
  return opts.allNamespaces ? { ...opts, allNamespaces: false } : opts;
}

export class KeySecretSource implements KeySource {
  #keys: KeySet;
  #problem: string | undefined;
  #timer: NodeJS.Timeout | undefined;
  #version = '';

  private constructor(keys: KeySet) {
    this.#keys = keys;
  }

  static async open(opts: KubeTargetOptions, log: Logger, intervalMs = 10_000): Promise<KeySecretSource> {
    const target = await loadKubeTarget(keySecretTargetOptions(opts));
    return KeySecretSource.openWith(new KubeClient(target), target.namespace, log, intervalMs);
  }

  /** With a given lister (tests). */
  static async openWith(client: SecretLister, namespace: string | undefined, log: Logger, intervalMs: number): Promise<KeySecretSource> {
    const path = namespace === undefined ? '/api/v1/secrets' : `/api/v1/namespaces/${encodeURIComponent(namespace)}/secrets`;
    const list = async (): Promise<{ entries: KeyEntry[]; version: string }> => {
      const obj = await client.getJson(path, { labelSelector: `${API_KEYS_LABEL}=true` }, AbortSignal.timeout(5_000));
      return { entries: entriesOf(obj), version: contentOf(obj) };
    };
    const first = await list();
    const src = new KeySecretSource(new KeySet(first.entries));
    src.#version = first.version;
    const tick = async (): Promise<void> => {
      try {
        const next = await list();
        if (next.version === src.#version) {
          // Readable again with nothing changed (the API server was away): the keys in force are the Secrets' again.
          if (src.#problem !== undefined) log.info('API key Secrets readable again; the keys in force are unchanged', { keys: src.#keys.size });
          src.#problem = undefined;
          return;
        }
        src.#keys = new KeySet(next.entries);
        src.#version = next.version;
        src.#problem = undefined;
        log.info('API keys in force', { from: 'Secrets', keys: src.#keys.size });
      } catch (e) {
        const problem = (e as Error).message;
        const level = problem === src.#problem ? 'debug' : 'warn';
        src.#problem = problem;
        log[level]('API key Secrets rejected or unreadable; the last good keys stay in force', { error: problem });
      }
    };
    src.#timer = setInterval(() => void tick(), intervalMs);
    src.#timer.unref();
    return src;
  }

  get keys(): KeySet {
    return this.#keys;
  }

  get problem(): string | undefined {
    return this.#problem;
  }

  close(): void {
    clearInterval(this.#timer);
  }
}

/**
 * What the labelled Secrets say, to tell whether a list changed anything: their names and data. Not the list's
 * resourceVersion, which is the cluster's etcd revision at the time of the list and moves with every change to
 * any object: in a cluster where pods come and go it differed at every list, and the same keys were rebuilt and
 * logged as `API keys in force` every 10 s.
 */
function contentOf(list: Record<string, unknown>): string {
  const items = Array.isArray(list.items) ? (list.items as Record<string, unknown>[]) : [];
  const parts = items.map((item) => {
    const meta = (item.metadata ?? {}) as { namespace?: string; name?: string };
    return JSON.stringify([meta.namespace ?? '', meta.name ?? '', item.data ?? {}]);
  });
  return parts.sort().join('\n');
}

/** Every entry of every labelled Secret's data values; problems of all of them in one KeyFileError. */
export function entriesOf(list: Record<string, unknown>): KeyEntry[] {
  const items = Array.isArray(list.items) ? (list.items as Record<string, unknown>[]) : [];
  const entries: KeyEntry[] = [];
  /** Where each entry comes from, for messages. */
  const origins: string[] = [];
  const problems: string[] = [];
  for (const item of items) {
    const meta = (item.metadata ?? {}) as { namespace?: string; name?: string };
    const data = (item.data ?? {}) as Record<string, unknown>;
    for (const [k, v] of Object.entries(data)) {
      if (typeof v !== 'string') continue;
      const where = `Secret ${meta.namespace}/${meta.name} key ${k}`;
      try {
        const parsed = parseKeyFile(Buffer.from(v, 'base64').toString('utf8'), where);
        entries.push(...parsed);
        for (const _ of parsed) origins.push(where);
      } catch (e) {
        problems.push((e as Error).message);
      }
    }
  }
  const seen = new Set<string>();
  for (const e of entries) {
    if (seen.has(e.keyHash)) problems.push(`the same keyHash appears in two entries (tenant ${e.tenant.name}); remove one`);
    seen.add(e.keyHash);
  }
  problems.push(...sharedLimitProblems(entries, (i) => origins[i]!));
  if (problems.length > 0) throw new KeyFileError(problems.join('\n'));
  return entries;
}
