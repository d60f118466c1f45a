// Renders every kustomization under deploy/kustomize with `kubectl kustomize` and checks that what a cluster
// would receive is sane: kinds, names, subcommand and flags, RBAC (least privilege, status only where
// infergate owns it), ports, probes, security context. No cluster is needed. Exit 1 names what failed.
// The manifests render with kustomize v2.0.3 (kubectl 1.14-1.20, e.g. Debian's kubernetes-client) and v5;
// KUBECTL=/path/to/kubectl picks the binary (default: kubectl on PATH), so both can be checked.
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, parseAllDocuments } from 'yaml';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const KUSTOMIZE = join(ROOT, 'deploy/kustomize');
const KUBECTL = process.env.KUBECTL || 'kubectl';

/** What infergate reads (get, list, watch) in every mode, as [apiGroup, resource]. */
const READS = [
  ['inference.networking.k8s.io', 'inferencepools'],
  ['gateway.networking.k8s.io', 'httproutes'],
  ['', 'configmaps'],
  ['', 'pods'],
  ['llm-d.ai', 'inferenceobjectives'],
  ['llm-d.ai', 'inferencemodelrewrites'],
  ['inference.networking.x-k8s.io', 'inferenceobjectives'],
  ['inference.networking.x-k8s.io', 'inferencemodelrewrites'],
];
const READ_VERBS = ['get', 'list', 'watch'];
/** Written by the standalone gateway only; in ext_proc mode the Gateway implementation owns pool status. */
const POOL_STATUS = ['inference.networking.k8s.io', 'inferencepools/status'];
const STATUS_VERBS = ['get', 'patch', 'update'];
/** Read by the standalone gateway only: the Services pools' endpointPickerRefs name (src/epp/picker-ref.ts). */
const SERVICES = ['', 'services'];
/** Read and written by the standalone gateway only: Gateway API status (src/config/kube/status-writer.ts). */
const GATEWAY_READS = [['gateway.networking.k8s.io', 'gateways']];
const GATEWAY_STATUS = [['gateway.networking.k8s.io', 'httproutes/status'], ['gateway.networking.k8s.io', 'gateways/status']];
/** Cluster-scoped: only a ClusterRole can grant GatewayClasses. */
const CLUSTER_GATEWAY_READS = [['gateway.networking.k8s.io', 'gatewayclasses']];
const CLUSTER_GATEWAY_STATUS = [['gateway.networking.k8s.io', 'gatewayclasses/status']];

/** Per mode: the app.kubernetes.io/component label, the replicas, the flags that set each port, the container ports, the Service ports and the probes. */
const MODES = {
  serve: {
    component: 'gateway',
    replicas: 2,
    portFlags: { '--port': 8080 },
    // The admin listener keeps its default port, 9090 (--admin-port), on the --host address.
    containerPorts: { http: 8080, 'http-metrics': 9090 },
    servicePorts: [
      { name: 'http', port: 80, targetPort: 'http', appProtocol: ['http'] },
      { name: 'http-metrics', port: 9090, targetPort: 'http-metrics', appProtocol: ['http'] },
    ],
    liveness: { httpGet: { path: '/healthz', port: 'http' } },
    readiness: { httpGet: { path: '/readyz', port: 'http' } },
  },
  extproc: {
    component: 'ext-proc',
    replicas: 1,
    portFlags: { '--bbr-port': 9004, '--epp-port': 9002, '--health-port': 9003, '--admin-port': 9090 },
    containerPorts: { 'grpc-bbr': 9004, 'grpc-epp': 9002, 'grpc-health': 9003, 'http-metrics': 9090 },
    servicePorts: [
      { name: 'grpc-bbr', port: 9004, targetPort: 'grpc-bbr', appProtocol: ['http2', 'kubernetes.io/h2c'] },
      { name: 'grpc-epp', port: 9002, targetPort: 'grpc-epp', appProtocol: ['http2', 'kubernetes.io/h2c'] },
      { name: 'grpc-health', port: 9003, targetPort: 'grpc-health', appProtocol: ['http2', 'kubernetes.io/h2c'] },
      { name: 'http-metrics', port: 9090, targetPort: 'http-metrics', appProtocol: ['http'] },
    ],
    liveness: { grpc: { port: 9003, service: 'liveness' } },
    readiness: { grpc: { port: 9003, service: 'readiness' } },
  },
};

/**
 * Every kustomization checked, and what its rendering must show. `mode` null: the base, which has no
 * subcommand. `name`: every object's name (the flags ConfigMap's: `infergate-flags` + suffix + hash).
 * `namespace`: the one every namespaced object must be in (undefined: none set).
 */
const TARGETS = [
  { dir: 'base', name: 'infergate', mode: null, clusterWide: false, poolStatus: false },
  { dir: 'modes/ext-proc', name: 'infergate', mode: 'extproc', clusterWide: false, poolStatus: false },
  { dir: 'overlays/standalone-gateway', name: 'infergate', mode: 'serve', clusterWide: false, poolStatus: true },
  { dir: 'overlays/ext-proc', name: 'infergate-extproc', mode: 'extproc', clusterWide: false, poolStatus: false },
  { dir: 'overlays/standalone-gateway-all-namespaces', name: 'infergate', mode: 'serve', clusterWide: true, poolStatus: true, namespace: 'infergate' },
  { dir: 'overlays/ext-proc-all-namespaces', name: 'infergate-extproc', mode: 'extproc', clusterWide: true, poolStatus: false, namespace: 'infergate' },
];

function fail(message) {
  console.error(`check-manifests: ${message}`);
  process.exit(1);
}

/**
 * The kubectl used and its kustomize, for the log. Any version will do: the manifests keep to what kustomize
 * v2.0.3 has, and whatever a version cannot render fails in render() below.
 */
function kubectlVersion() {
  const r = spawnSync(KUBECTL, ['version', '--client', '-o', 'json'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    fail(`kubectl is needed to render deploy/kustomize: \`${KUBECTL} version --client\` failed (${r.error?.message ?? r.stderr.trim()}). Install kubectl (e.g. Debian's kubernetes-client) or set KUBECTL=/path/to/kubectl`);
  }
  let info;
  try {
    info = JSON.parse(r.stdout);
  } catch {
    fail(`\`${KUBECTL} version --client -o json\` printed no JSON:\n${r.stdout}`);
  }
  const version = info.clientVersion?.gitVersion ?? 'unknown';
  const minor = Number.parseInt(info.clientVersion?.minor ?? '', 10);
  // kubectl reports its kustomize since 1.24; 1.14 to 1.20 embed kustomize v2.0.3.
  let kustomize = info.kustomizeVersion;
  if (!kustomize) kustomize = info.clientVersion?.major === '1' && minor >= 14 && minor <= 20 ? 'v2.0.3 (embedded, not reported)' : 'not reported';
  return `${KUBECTL} ${version}, kustomize ${kustomize}`;
}

/** Lines kustomize printed on stderr while rendering successfully (v5's deprecation warnings), deduplicated. */
const notes = new Set();

/** `kubectl kustomize` of the target, as parsed objects; exits naming the target on any failure. */
function render(target) {
  const dir = join(KUSTOMIZE, target.dir);
  const r = spawnSync(KUBECTL, ['kustomize', dir], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const lines = r.stderr.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  const warnings = lines.filter((l) => l.startsWith('# Warning:'));
  if (r.error || r.status !== 0) {
    const why = r.error?.message ?? (lines.filter((l) => !warnings.includes(l)).join('\n') || r.stdout.trim());
    fail(`${target.dir}: \`${KUBECTL} kustomize ${relative(ROOT, dir)}\` failed:\n${why}`);
  }
  for (const l of lines) notes.add(l);
  const docs = parseAllDocuments(r.stdout);
  const objects = [];
  for (const [i, doc] of docs.entries()) {
    if (doc.errors.length > 0) fail(`${target.dir}: rendered document ${i + 1} does not parse: ${doc.errors[0].message}`);
    const obj = doc.toJSON();
    if (obj !== null) objects.push(obj);
  }
  return objects;
}

/**
 * The fields kustomize v2.0.3 reads (kubectl 1.20's Kustomization, ConfigMapArgs and Json6902 structs; it
 * rejects any other). Checked whichever kubectl renders, so a machine with a modern kubectl also catches a
 * v5-only field (`labels`, `patches`, `components`, `envs`, ...) before Debian's kubectl 1.20 in CI does.
 */
const V2_FIELDS = {
  kustomization: ['apiVersion', 'kind', 'namePrefix', 'nameSuffix', 'namespace', 'commonLabels', 'commonAnnotations', 'patchesStrategicMerge', 'patchesJson6902', 'vars', 'images', 'resources', 'crds', 'bases', 'configMapGenerator', 'secretGenerator', 'generatorOptions', 'configurations'],
  generator: ['name', 'namespace', 'behavior', 'files', 'literals', 'env', 'type'],
  generatorOptions: ['labels', 'annotations', 'disableNameSuffixHash'],
  json6902: ['target', 'path'],
  json6902Target: ['group', 'version', 'kind', 'name', 'namespace'],
};

/** Problems that would make kustomize v2.0.3 reject or misread the kustomization.yaml in `dir`. */
function v2Problems(dir) {
  const problems = [];
  const k = parse(readFileSync(join(dir, 'kustomization.yaml'), 'utf8')) ?? {};
  const unknown = (obj, allowed, where) => {
    for (const key of Object.keys(obj ?? {})) if (!allowed.includes(key)) problems.push(`${where}: \`${key}\` is not a kustomize v2.0.3 field`);
  };
  unknown(k, V2_FIELDS.kustomization, 'kustomization');
  for (const g of [...(k.configMapGenerator ?? []), ...(k.secretGenerator ?? [])]) unknown(g, V2_FIELDS.generator, `generator ${g.name}`);
  unknown(k.generatorOptions, V2_FIELDS.generatorOptions, 'generatorOptions');
  for (const p of k.patchesJson6902 ?? []) {
    unknown(p, V2_FIELDS.json6902, 'patchesJson6902 entry');
    unknown(p.target, V2_FIELDS.json6902Target, 'patchesJson6902 target');
    if (!p.target?.version || !p.target?.kind || !p.target?.name) problems.push(`patchesJson6902 target ${JSON.stringify(p.target)} needs version, kind and name`);
  }
  // v2.0.3 loads only files from `resources`; other kustomizations go in `bases`.
  for (const r of k.resources ?? []) {
    let isDir = false;
    try {
      isDir = statSync(join(dir, r)).isDirectory();
    } catch {
      // A missing file is reported by kubectl kustomize.
    }
    if (isDir) problems.push(`resources: ${r} is a directory: kustomize v2.0.3 needs it under \`bases\``);
  }
  return problems;
}

/** Every directory under deploy/kustomize that holds a kustomization.yaml. */
function kustomizationDirs(dir = KUSTOMIZE) {
  const found = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.isDirectory()) found.push(...kustomizationDirs(join(dir, e.name)));
    else if (e.name === 'kustomization.yaml') found.push(dir);
  }
  return found;
}

const CLUSTER_SCOPED = new Set(['ClusterRole', 'ClusterRoleBinding', 'Namespace']);

/** The problems found in one target's rendered objects (empty when it is sane). */
function check(target, objects) {
  const problems = [];
  const expect = (ok, message) => {
    if (!ok) problems.push(message);
  };
  for (const [i, o] of objects.entries()) {
    const ok = typeof o.apiVersion === 'string' && typeof o.kind === 'string' && typeof o.metadata?.name === 'string' && o.metadata.name !== '';
    expect(ok, `object ${i + 1} lacks apiVersion, kind or metadata.name`);
    if (o.kind === 'ConfigMap') {
      const flags = `infergate-flags${target.name.slice('infergate'.length)}-`;
      expect(o.metadata?.name?.startsWith(flags), `ConfigMap ${o.metadata?.name} must be named ${flags}<hash>`);
    } else {
      expect(o.metadata?.name === target.name, `${o.kind} ${o.metadata?.name} must be named ${target.name}`);
    }
    if (CLUSTER_SCOPED.has(o.kind)) expect(o.metadata?.namespace === undefined, `${o.kind} ${o.metadata?.name} is cluster-scoped but has metadata.namespace`);
    else expect(o.metadata?.namespace === target.namespace, `${o.kind} ${o.metadata?.name} must be in namespace ${target.namespace ?? '(none: set by kubectl apply -n)'}, is in ${o.metadata?.namespace ?? '(none)'}`);
  }
  const only = (kind) => {
    const found = objects.filter((o) => o.kind === kind);
    expect(found.length === 1, `expected one ${kind}, found ${found.length}`);
    return found[0];
  };
  const sa = only('ServiceAccount');
  const deployment = only('Deployment');
  const service = only('Service');
  if (!sa || !deployment || !service) return problems;

  // Namespaced: a Role + RoleBinding and nothing cluster-wide. All namespaces: a ClusterRole +
  // ClusterRoleBinding, and the base's Role + RoleBinding may stay (kustomize v2.0.3 cannot remove them)
  // provided they grant exactly the same, i.e. nothing more.
  if (!target.clusterWide) expect(!objects.some((o) => o.kind === 'ClusterRole' || o.kind === 'ClusterRoleBinding'), 'expected no ClusterRole/ClusterRoleBinding here');
  for (const [roleKind, bindingKind, required] of [['Role', 'RoleBinding', !target.clusterWide], ['ClusterRole', 'ClusterRoleBinding', target.clusterWide]]) {
    if (!required && !objects.some((o) => o.kind === roleKind || o.kind === bindingKind)) continue;
    const role = only(roleKind);
    const binding = only(bindingKind);
    if (!role || !binding) continue;
    checkRules(role, target.poolStatus, expect, target.clusterWide && role.kind === 'ClusterRole');
    expect(binding.roleRef?.kind === roleKind && binding.roleRef?.name === role.metadata.name, `${bindingKind} ${binding.metadata.name} must refer to ${roleKind} ${role.metadata.name}, refers to ${binding.roleRef?.kind} ${binding.roleRef?.name}`);
    const subjects = binding.subjects ?? [];
    const subject = subjects[0];
    expect(subjects.length === 1 && subject?.kind === 'ServiceAccount' && subject.name === sa.metadata.name, `${bindingKind} must bind exactly ServiceAccount ${sa.metadata.name}, binds ${JSON.stringify(subjects)}`);
    // A RoleBinding's subject without a namespace means the binding's own; a ClusterRoleBinding's needs one.
    const subjectNamespace = subject?.namespace ?? (roleKind === 'Role' ? binding.metadata.namespace : undefined);
    expect(subjectNamespace === sa.metadata.namespace && (roleKind === 'Role' || subjectNamespace !== undefined), `${bindingKind}'s ServiceAccount subject must be in the ServiceAccount's namespace ${sa.metadata.namespace ?? '(none)'}, is in ${subjectNamespace ?? '(none)'}`);
  }

  const pod = deployment.spec?.template?.spec ?? {};
  const labels = deployment.spec?.template?.metadata?.labels ?? {};
  const matches = (selector) => Object.keys(selector ?? {}).length > 0 && Object.entries(selector).every(([k, v]) => labels[k] === v);
  expect(matches(deployment.spec?.selector?.matchLabels), 'the Deployment selector must match its pod labels');
  expect(matches(service.spec?.selector), 'the Service selector must match the pod labels');
  // Matching infergate's pods is not enough: a selector that drops a label of the Deployment's (keeps only
  // app.kubernetes.io/component: gateway, a common label) also selects other workloads' pods in the namespace.
  const podSelector = deployment.spec?.selector?.matchLabels ?? {};
  const selectsOnly = (selector) => Object.entries(podSelector).every(([k, v]) => selector?.[k] === v);
  const shown = (selector) => JSON.stringify(selector ?? {});
  expect(selectsOnly(service.spec?.selector), `the Service selector ${shown(service.spec?.selector)} must include the Deployment's ${shown(podSelector)}, or it selects other workloads' pods`);
  if (target.mode) {
    expect(deployment.spec?.replicas === MODES[target.mode].replicas, `the Deployment must have ${MODES[target.mode].replicas} replicas, has ${deployment.spec?.replicas}`);
    const component = MODES[target.mode].component;
    for (const [what, selector] of [['Deployment', deployment.spec?.selector?.matchLabels], ['Service', service.spec?.selector]]) {
      expect(selector?.['app.kubernetes.io/component'] === component, `the ${what} selector must include app.kubernetes.io/component=${component} (keeps the two modes apart in one namespace)`);
    }
    // More than one replica: a drain must leave one serving. One replica: no budget (it would block every drain).
    const budgets = objects.filter((o) => o.kind === 'PodDisruptionBudget');
    if (MODES[target.mode].replicas > 1) {
      const pdb = only('PodDisruptionBudget');
      expect(pdb?.apiVersion === 'policy/v1', `the PodDisruptionBudget must be policy/v1, is ${pdb?.apiVersion}`);
      expect(matches(pdb?.spec?.selector?.matchLabels), "the PodDisruptionBudget's selector must match the pod labels");
      // Other pods under this budget would count against maxUnavailable, and a pod under two budgets cannot be evicted.
      expect(selectsOnly(pdb?.spec?.selector?.matchLabels), `the PodDisruptionBudget's selector ${shown(pdb?.spec?.selector?.matchLabels)} must include the Deployment's ${shown(podSelector)}, or it selects other workloads' pods`);
      expect(pdb?.spec?.maxUnavailable === 1 && pdb?.spec?.minAvailable === undefined, 'the PodDisruptionBudget must allow one replica down at a time (maxUnavailable: 1)');
    } else expect(budgets.length === 0, `one replica: no PodDisruptionBudget, found ${budgets.length}`);
  }
  expect(pod.serviceAccountName === sa.metadata.name, `the pod must run as ServiceAccount ${sa.metadata.name}`);
  expect(pod.automountServiceAccountToken !== false && sa.automountServiceAccountToken !== false, 'infergate talks to the API server: its token must be mounted');
  const container = pod.containers?.[0];
  expect(pod.containers?.length === 1, 'expected one container');
  if (!container) return problems;
  expect(/:[^/]+$|@sha256:/.test(container.image ?? ''), `image ${container.image} has no tag (kustomize images: not applied?)`);
  checkSecurity(pod, container, expect);
  checkArgs(target, container, objects, expect);
  checkShutdown(pod, container, objects, expect);
  if (target.mode) checkPortsAndProbes(MODES[target.mode], container, service, expect);
  return problems;
}

function checkRules(role, poolStatus, expect, clusterRole) {
  const granted = new Map();
  for (const rule of role.rules ?? []) {
    for (const group of rule.apiGroups ?? []) {
      for (const resource of rule.resources ?? []) {
        const key = `${group}/${resource}`;
        granted.set(key, new Set([...(granted.get(key) ?? []), ...(rule.verbs ?? [])]));
      }
    }
  }
  const wanted = new Map(READS.map(([g, r]) => [`${g}/${r}`, READ_VERBS]));
  if (poolStatus) wanted.set(POOL_STATUS.join('/'), STATUS_VERBS);
  if (poolStatus) wanted.set(SERVICES.join('/'), READ_VERBS);
  if (poolStatus) for (const [g, r] of [...GATEWAY_READS, ...(clusterRole ? CLUSTER_GATEWAY_READS : [])]) wanted.set(`${g}/${r}`, READ_VERBS);
  if (poolStatus) for (const [g, r] of [...GATEWAY_STATUS, ...(clusterRole ? CLUSTER_GATEWAY_STATUS : [])]) wanted.set(`${g}/${r}`, STATUS_VERBS);
  for (const [key, verbs] of wanted) {
    const have = [...(granted.get(key) ?? [])].sort();
    expect(have.join(',') === verbs.join(','), `${role.kind} must grant exactly ${verbs.join(', ')} on ${key}, grants ${have.join(', ') || 'nothing'}`);
  }
  for (const key of granted.keys()) expect(wanted.has(key), `${role.kind} grants ${key}, which this mode must not have`);
}

function checkSecurity(pod, c, expect) {
  const psc = pod.securityContext ?? {};
  const csc = c.securityContext ?? {};
  expect((csc.runAsNonRoot ?? psc.runAsNonRoot) === true, 'runAsNonRoot must be true');
  const uid = csc.runAsUser ?? psc.runAsUser;
  expect(Number.isInteger(uid) && uid > 0, `runAsUser must be a non-zero UID, got ${uid}`);
  expect(csc.allowPrivilegeEscalation === false, 'allowPrivilegeEscalation must be false');
  expect(csc.readOnlyRootFilesystem === true, 'readOnlyRootFilesystem must be true');
  expect((csc.capabilities?.drop ?? []).includes('ALL'), 'capabilities must drop ALL');
  expect((csc.seccompProfile ?? psc.seccompProfile)?.type === 'RuntimeDefault', 'seccompProfile must be RuntimeDefault');
  expect(c.resources?.requests?.cpu !== undefined && c.resources?.requests?.memory !== undefined, 'cpu and memory requests must be set');
  expect(c.resources?.limits?.memory !== undefined, 'a memory limit must be set');
}

function checkArgs(target, c, objects, expect) {
  const args = c.args ?? [];
  const line = args.join(' ');
  if (target.mode) expect(args[0] === target.mode && args[1] === '--kube', `args must start with \`${target.mode} --kube\`, got \`${line}\``);
  else expect(args[0] === '--kube', `the base's args must start with --kube (overlays add the subcommand), got \`${line}\``);
  expect(args.includes('--all-namespaces') === target.clusterWide, `--all-namespaces must ${target.clusterWide ? '' : 'not '}be in the args: \`${line}\``);
  expect(!args.some((a) => a.startsWith('--kubeconfig') || a.startsWith('--namespace')), 'in-cluster config and the pod namespace are used: no --kubeconfig or --namespace');
  if (target.mode) {
    for (const [flag, port] of Object.entries(MODES[target.mode].portFlags)) expect(args.includes(`${flag}=${port}`), `args must set ${flag}=${port} (to match the container port)`);
  }
  // Every $(VAR) must come from an env var, and every ConfigMap key it reads must exist, or the kubelet
  // passes the literal "$(VAR)" (or the pod never starts).
  const env = new Map((c.env ?? []).map((e) => [e.name, e]));
  for (const [, name] of line.matchAll(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g)) expect(env.has(name), `args use $(${name}) but the container has no env ${name}`);
  for (const e of env.values()) {
    const ref = e.valueFrom?.configMapKeyRef;
    if (!ref) continue;
    const cm = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === ref.name);
    expect(cm?.data?.[ref.key] !== undefined, `env ${e.name} reads key ${ref.key} of ConfigMap ${ref.name}, which is not rendered with that key`);
  }
}

/** infergate's graceful shutdown defaults (src/lifecycle/shutdown.ts), in seconds, and the margin the grace period keeps above them. */
const SHUTDOWN_DEFAULTS = { '--shutdown-delay': 5, '--drain-timeout': 30 };
const SHUTDOWN_MARGIN_SECONDS = 5;

/** A duration as the flags take it (`5s`, `1m30s`, `500ms`, or bare milliseconds), in seconds; NaN if unreadable. */
function durationSeconds(text) {
  if (/^\d+$/.test(text)) return Number(text) / 1000;
  const unit = { ms: 0.001, s: 1, m: 60, h: 3600 };
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text) return NaN;
  return parts.reduce((sum, [, n, u]) => sum + Number(n) * unit[u], 0);
}

/**
 * The kubelet kills the container at terminationGracePeriodSeconds: it must cover --shutdown-delay plus
 * --drain-timeout (as the args set them, through the flags ConfigMap) with a margin, or streams are cut
 * mid-drain. No preStop hook: the delay is infergate's own, and a preStop sleep would eat the grace period.
 */
function checkShutdown(pod, c, objects, expect) {
  const env = new Map((c.env ?? []).map((e) => [e.name, e]));
  const value = (flag) => {
    const arg = (c.args ?? []).find((a) => a.startsWith(`${flag}=`));
    if (arg === undefined) return SHUTDOWN_DEFAULTS[flag];
    let text = arg.slice(flag.length + 1);
    const ref = /^\$\(([A-Za-z_][A-Za-z0-9_]*)\)$/.exec(text);
    if (ref) {
      const e = env.get(ref[1]);
      const key = e?.valueFrom?.configMapKeyRef;
      text = key ? objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === key.name)?.data?.[key.key] : e?.value;
    }
    const seconds = durationSeconds(String(text ?? ''));
    expect(!Number.isNaN(seconds), `${flag} must be a duration (5s, 1m30s, 500ms), got ${JSON.stringify(text)}`);
    return seconds;
  };
  const needed = value('--shutdown-delay') + value('--drain-timeout') + SHUTDOWN_MARGIN_SECONDS;
  const grace = pod.terminationGracePeriodSeconds ?? 30;
  expect(grace >= needed, `terminationGracePeriodSeconds (${grace}) must be at least --shutdown-delay + --drain-timeout + ${SHUTDOWN_MARGIN_SECONDS}s margin = ${needed}: the kubelet would kill infergate mid-drain`);
  expect(c.lifecycle?.preStop === undefined, 'no preStop hook: infergate waits --shutdown-delay itself, and a preStop sleep would eat the grace period');
}

function checkPortsAndProbes(mode, c, service, expect) {
  const containerPorts = new Map((c.ports ?? []).map((p) => [p.name, p.containerPort]));
  for (const [name, port] of Object.entries(mode.containerPorts)) expect(containerPorts.get(name) === port, `container port ${name} must be ${port}`);
  const svcPorts = service.spec?.ports ?? [];
  for (const want of mode.servicePorts) {
    const p = svcPorts.find((s) => s.name === want.name);
    expect(p?.port === want.port && p?.targetPort === want.targetPort, `Service port ${want.name} must be ${want.port} -> ${want.targetPort}`);
    expect(want.appProtocol.includes(p?.appProtocol), `Service port ${want.name} must have appProtocol ${want.appProtocol.join(' or ')}, has ${p?.appProtocol}`);
  }
  for (const p of svcPorts) expect(containerPorts.has(p.targetPort) || [...containerPorts.values()].includes(p.targetPort), `Service port ${p.name} targets ${p.targetPort}, which the container does not expose`);
  for (const [probe, want] of [['livenessProbe', mode.liveness], ['readinessProbe', mode.readiness]]) {
    const have = c[probe] ?? {};
    const [handler] = Object.keys(want);
    const ok = Object.entries(want[handler]).every(([k, v]) => have[handler]?.[k] === v);
    expect(ok, `${probe} must be ${JSON.stringify(want)}, got ${JSON.stringify(have)}`);
  }
}

console.log(`check-manifests: ${kubectlVersion()}`);
// Every kustomization must be listed above, so a new one cannot go unchecked.
const listed = new Set(TARGETS.map((t) => t.dir));
for (const dir of kustomizationDirs()) {
  if (!listed.has(relative(KUSTOMIZE, dir))) fail(`${relative(ROOT, dir)} is not checked: add it to TARGETS in scripts/check-manifests.mjs`);
}
let failed = false;
for (const dir of kustomizationDirs()) {
  const problems = v2Problems(dir);
  if (problems.length === 0) continue;
  failed = true;
  console.error(`FAIL  ${relative(KUSTOMIZE, dir)}/kustomization.yaml would not render with kustomize v2.0.3 (kubectl 1.20, Debian's kubernetes-client):`);
  for (const p of problems) console.error(`        - ${p}`);
}
for (const target of TARGETS) {
  const objects = render(target);
  const problems = check(target, objects);
  const byKind = new Map();
  for (const o of objects) byKind.set(o.kind, (byKind.get(o.kind) ?? 0) + 1);
  const counts = [...byKind].map(([k, n]) => `${k} ${n}`).sort().join(', ');
  if (problems.length === 0) {
    console.log(`ok    ${target.dir}: ${objects.length} objects (${counts})`);
  } else {
    failed = true;
    console.error(`FAIL  ${target.dir}: ${objects.length} objects (${counts})`);
    for (const p of problems) console.error(`        - ${p}`);
  }
}
// v5 warns that `bases`, `patchesStrategicMerge` and `patchesJson6902` are deprecated: they are kept for
// kustomize v2.0.3 (deploy/kustomize/README.md). Shown once, not per kustomization.
for (const n of notes) console.log(`note  kustomize: ${n.replace(/^#\s*/, '')}`);
if (failed) fail('rendered manifests have problems (listed above)');
