/**
 * deploy/kustomize as `npm test` sees it: every kustomization renders with `kubectl kustomize` and passes
 * scripts/check-manifests.mjs (names, RBAC, flags, ports, probes, shutdown), and the objects that select pods
 * select infergate's alone. Needs kubectl, as the Kubernetes tests do.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { repoRoot } from './helpers/local-kube.js';

const ROOT = repoRoot();

interface Rendered {
  kind: string;
  metadata: { name: string };
  spec?: { selector?: { matchLabels?: Record<string, string> } };
}

function run(file: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { cwd: ROOT, timeout: 120_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr: err && typeof err.code !== 'number' ? `${err.message}\n${stderr}` : stderr });
    });
  });
}

test('scripts/check-manifests.mjs passes: every kustomization renders and is sane', { timeout: 180_000 }, async () => {
  const r = await run(process.execPath, [join(ROOT, 'scripts', 'check-manifests.mjs')]);
  assert.equal(r.code, 0, `check-manifests failed:\n${r.stdout}\n${r.stderr}`);
});

test("the standalone gateway's PodDisruptionBudget covers its own pods and no other workload's", { timeout: 60_000 }, async () => {
  for (const overlay of ['standalone-gateway', 'standalone-gateway-all-namespaces']) {
    const r = await run('kubectl', ['kustomize', join(ROOT, 'deploy', 'kustomize', 'overlays', overlay)]);
    assert.equal(r.code, 0, `kubectl kustomize ${overlay} failed (kubectl is needed):\n${r.stderr}`);
    const objects = parseAllDocuments(r.stdout).map((d) => d.toJS() as Rendered).filter((o) => o !== null);
    const deployment = objects.find((o) => o.kind === 'Deployment');
    const pdb = objects.find((o) => o.kind === 'PodDisruptionBudget');
    assert.ok(deployment && pdb, `${overlay} renders a Deployment and a PodDisruptionBudget`);
    // A budget on `app.kubernetes.io/component: gateway` alone would also take in other gateways' pods of the
    // namespace: they would count against maxUnavailable, and a pod under two budgets cannot be evicted.
    assert.deepEqual(pdb.spec?.selector?.matchLabels, deployment.spec?.selector?.matchLabels, `${overlay}: the budget selects what the Deployment does`);
  }
});
