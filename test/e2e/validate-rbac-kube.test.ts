/**
 * `validate --kube` under a namespace Role, against a real API server (which checks RBAC before it looks for the
 * resource, so a kind whose CRD is not installed is 403, not 404, for a Role that does not grant it).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { SourceUnreadableError } from '../../src/validate/read-files.js';
import { validate } from '../../src/validate/run-validate.js';
import { INFERENCE_POOL } from '../helpers/kube-test-client.js';
import { applyCrds, createNamespace, startLocalKube, type LocalKube } from '../helpers/local-kube.js';

let kube: LocalKube;

before(async () => {
  kube = await startLocalKube();
  // GIE's CRDs only: InferenceObjective and InferenceModelRewrite in inference.networking.x-k8s.io, none in llm-d.ai.
  await applyCrds(kube.client);
});

after(async () => {
  await kube?.close();
});

/** A ServiceAccount bound to a Role granting get, list and watch on `rules`; its kubeconfig, once the Role is in force. */
async function accountWith(ns: string, name: string, rules: { apiGroups: string[]; resources: string[] }[]): Promise<string> {
  await kube.client.apply({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name, namespace: ns }, rules: rules.map((r) => ({ ...r, verbs: ['get', 'list', 'watch'] })) });
  const token = await kube.client.createToken(ns, name);
  await kube.client.apply({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name, namespace: ns }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name }, subjects: [{ kind: 'ServiceAccount', name, namespace: ns }] });
  // The authorizer learns the binding from its own watch, a moment after the write.
  const asSa = kube.client.withToken(token);
  const end = Date.now() + 5000;
  for (;;) {
    try {
      await asSa.list(INFERENCE_POOL, ns);
      break;
    } catch (e) {
      if (Date.now() > end) throw e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return kube.writeKubeconfig(`${name}-${ns}`, token, ns);
}

const CORE = [
  { apiGroups: ['inference.networking.k8s.io'], resources: ['inferencepools'] },
  { apiGroups: ['gateway.networking.k8s.io'], resources: ['httproutes'] },
  { apiGroups: [''], resources: ['configmaps', 'pods', 'services'] },
];

test('a Role granting the installed group only: llm-d.ai, whose CRDs are not installed, is not reported as forbidden; an installed group it does not grant is', { timeout: 60_000 }, async () => {
  const ns = await createNamespace(kube.client);
  await kube.client.applyYaml(
    `apiVersion: inference.networking.k8s.io/v1
kind: InferencePool
metadata: {name: gemma, namespace: ${ns}}
spec:
  selector: {matchLabels: {app: gemma}}
  targetPorts: [{number: 8000}]
`,
    ns,
  );
  await kube.client.createPod(ns, 'gemma-0', { app: 'gemma' }, 8000);
  await kube.client.setPodStatus(ns, 'gemma-0', { ip: '10.9.0.1', ready: true });

  const gie = await accountWith(ns, 'gie-only', [...CORE, { apiGroups: ['inference.networking.x-k8s.io'], resources: ['inferenceobjectives', 'inferencemodelrewrites'] }]);
  const granted = await validate({ kube: { kubeconfig: gie, timeoutMs: 20_000 } });
  assert.deepEqual(granted.findings.filter((f) => f.code === 'kind-forbidden'), [], 'llm-d.ai is not installed: nothing went unchecked');

  const bare = await accountWith(ns, 'no-objectives', CORE);
  const denied = await validate({ kube: { kubeconfig: bare, timeoutMs: 20_000 } });
  assert.deepEqual(
    denied.findings.filter((f) => f.code === 'kind-forbidden').map((f) => f.message.split(' could not')[0]),
    ['InferenceModelRewrites (inference.networking.x-k8s.io/v1alpha2)', 'InferenceObjectives (inference.networking.x-k8s.io/v1alpha2)'],
  );

  const noPods = await accountWith(ns, 'no-pods', CORE.slice(0, 2));
  await assert.rejects(validate({ kube: { kubeconfig: noPods, timeoutMs: 20_000 } }), (e: Error) => e instanceof SourceUnreadableError && /403 Forbidden/.test(e.message) && /grant get, list and watch on (configmaps|pods|services)/.test(e.message));
});
