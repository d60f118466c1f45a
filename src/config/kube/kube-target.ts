/** Which API server infergate talks to, as whom, and in which namespace: a kubeconfig or the pod's own service account. */
import { existsSync, readFileSync } from 'node:fs';
import { isIPv6 } from 'node:net';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
// Loaded when a Kubernetes source is used (loadKubeTarget), not at startup: the library takes about 0.45 s and
// 70 MiB to load, which `serve -f`, `extproc -f`, `sim` and `--help` never need.
import type { KubeConfig } from '@kubernetes/client-node';

/** The service-account files every pod gets (unless automountServiceAccountToken is off). */
const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export interface KubeTargetOptions {
  /** A kubeconfig file; default: in-cluster credentials in a pod, else $KUBECONFIG, else ~/.kube/config. */
  kubeconfig?: string;
  /** A context of the kubeconfig; default its current-context. */
  context?: string;
  /** One namespace to watch; default the pod's own, else the context's, else `default`. */
  namespace?: string;
  /** Watch every namespace (needs a ClusterRole). Wins over `namespace`. */
  allNamespaces?: boolean;
}

export interface KubeTarget {
  readonly config: KubeConfig;
  /** The API server's base URL, e.g. `https://10.96.0.1:443`. */
  readonly server: string;
  /** The namespace watched, or undefined for all namespaces. */
  readonly namespace: string | undefined;
  /** For logs: `https://...:6443 (context kind-infergate, namespace llm)`. */
  readonly describe: string;
}

/**
 * Reads a kubeconfig file; what client-node throws (a YAML error with a code frame, EISDIR, "Cannot read
 * properties of undefined (reading 'clusters')" for an empty file) named no file, so the message names it.
 */
function loadKubeconfig(config: KubeConfig, file: string, what: string): void {
  try {
    config.loadFromFile(file);
  } catch (e) {
    // A TypeError is client-node reading fields of a document that is not there (an empty file, a bare string).
    const why = e instanceof TypeError ? 'it is empty or holds no kubeconfig mapping' : (e as Error).message.split('\n')[0]!.trim();
    throw new Error(`${what}: cannot be read as a kubeconfig (${why}); give a kubeconfig file, as kubectl config view --raw prints one`);
  }
}

/**
 * Loads the files of `$KUBECONFIG` into `config` the way kubectl merges them: the first file to name a cluster, user
 * or context wins it, and the first to set current-context sets it. client-node's loadFromDefault does the same but
 * throws on a name two files share, which kubectl accepts; reading only the first file lost the contexts of the others.
 */
function mergeKubeconfigs(config: KubeConfig, files: readonly string[], Ctor: new () => KubeConfig): void {
  const clusters: KubeConfig['clusters'] = [];
  const users: KubeConfig['users'] = [];
  const contexts: KubeConfig['contexts'] = [];
  let currentContext = '';
  for (const file of files) {
    // Each file on its own, so that its relative certificate paths resolve against its own folder.
    const one = new Ctor();
    loadKubeconfig(one, file, `kubeconfig ${file}`);
    addUnnamed(clusters, one.clusters);
    addUnnamed(users, one.users);
    addUnnamed(contexts, one.contexts);
    currentContext ||= one.currentContext ?? '';
  }
  config.loadFromOptions({ clusters, users, contexts, currentContext });
}

/** Appends the items of `from` whose name `into` does not hold yet. */
function addUnnamed<T extends { readonly name: string }>(into: T[], from: readonly T[]): void {
  for (const item of from) if (!into.some((i) => i.name === item.name)) into.push(item);
}

/**
 * Resolves credentials and namespace; rejects with an Error whose message says what to pass instead.
 * `root` prefixes the service-account path (tests give a temp dir standing in for a pod's filesystem).
 */
export async function loadKubeTarget(opts: KubeTargetOptions, env: NodeJS.ProcessEnv = process.env, root = ''): Promise<KubeTarget> {
  const serviceAccountDir = root + SERVICE_ACCOUNT_DIR;
  const { KubeConfig } = await import('@kubernetes/client-node');
  const config = new KubeConfig();
  let how: string;
  if (opts.kubeconfig !== undefined) {
    if (!existsSync(opts.kubeconfig)) throw new Error(`--kubeconfig ${opts.kubeconfig}: no such file`);
    how = `kubeconfig ${opts.kubeconfig}`;
    loadKubeconfig(config, opts.kubeconfig, `--kubeconfig ${opts.kubeconfig}`);
  } else if (env.KUBERNETES_SERVICE_HOST && existsSync(join(serviceAccountDir, 'token'))) {
    config.loadFromCluster(root);
    // loadFromCluster reads the host and port from process.env; take them from `env`, which chose this branch.
    const server = inClusterServer(env.KUBERNETES_SERVICE_HOST, env.KUBERNETES_SERVICE_PORT ?? '443');
    config.clusters = config.clusters.map((c) => ({ ...c, server }));
    how = 'in-cluster service account';
  } else {
    const listed = env.KUBECONFIG ? [...new Set(env.KUBECONFIG.split(delimiter).filter((f) => f !== ''))] : [];
    const wanted = listed.length > 0 ? listed : [join(homedir(), '.kube', 'config')];
    // As kubectl: the files of $KUBECONFIG that exist, merged; the others are skipped.
    const files = wanted.filter((f) => existsSync(f));
    // client-node's loadFromDefault falls back to http://localhost:8080 when it finds nothing; say so instead.
    if (files.length === 0) {
      throw new Error(`no Kubernetes credentials found: not in a pod (KUBERNETES_SERVICE_HOST unset) and no kubeconfig at ${wanted.join(', ')}; pass --kubeconfig PATH or set KUBECONFIG`);
    }
    how = `kubeconfig ${files.join(delimiter)}`;
    mergeKubeconfigs(config, files, KubeConfig);
  }
  if (opts.context !== undefined) {
    if (!config.getContextObject(opts.context)) {
      const known = config.getContexts().map((c) => c.name);
      throw new Error(`--context ${opts.context}: no such context in the ${how}; it has ${known.length ? known.join(', ') : 'none'}`);
    }
    config.setCurrentContext(opts.context);
  }
  const cluster = config.getCurrentCluster();
  if (!cluster) throw new Error(`the ${how} has no current context with a cluster; pass --context NAME`);
  const namespace = opts.allNamespaces ? undefined : (opts.namespace ?? ownNamespace(config, serviceAccountDir));
  const context = config.getCurrentContext();
  return {
    config,
    server: cluster.server.replace(/\/+$/, ''),
    namespace,
    describe: `${cluster.server} (${how}${context ? `, context ${context}` : ''}, ${namespace === undefined ? 'all namespaces' : `namespace ${namespace}`})`,
  };
}

/** As client-node's loadFromCluster: plain HTTP on the usual proxy ports, an IPv6 host in brackets. */
function inClusterServer(host: string, port: string): string {
  const scheme = port === '80' || port === '8080' || port === '8001' ? 'http' : 'https';
  return `${scheme}://${isIPv6(host) ? `[${host}]` : host}:${port}`;
}

function ownNamespace(config: KubeConfig, serviceAccountDir: string): string {
  const fromContext = config.getContextObject(config.getCurrentContext())?.namespace;
  if (fromContext) return fromContext.trim();
  const file = join(serviceAccountDir, 'namespace');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  return 'default';
}
