/** Who picks a pool: every combination of ref, --epp-service-name and what the Kubernetes API says of the Service. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { inferencePool } from '../api/test-fixtures.js';
import type { EndpointPickerRef } from '../api/inference-pool.js';
import type { ServiceFacts } from '../api/service.js';
import { readServiceFacts } from '../api/service.js';
import { missingPickerError, resolvePickerRef, type PickerRefContext } from './picker-ref.js';

const withRef = (ref?: Partial<EndpointPickerRef>) => {
  const pool = inferencePool('gemma').inNamespace('llm').selects({ app: 'gemma' });
  if (ref) pool.endpointPickerRef = { kind: 'Service', name: 'epp', failureMode: 'FailClose', ...ref };
  return pool;
};
const CLUSTER_IP: ServiceFacts = { type: 'ClusterIP', ports: [9002] };
const kube = (services: Record<string, ServiceFacts | null>, eppServiceName?: string): PickerRefContext => ({
  services: new Map(Object.entries(services)),
  ...(eppServiceName !== undefined ? { eppServiceName } : {}),
});

describe('resolvePickerRef', () => {
  const cases: { name: string; ref?: Partial<EndpointPickerRef>; ctx: PickerRefContext; want: 'self' | 'missing' | 'external'; reason: RegExp }[] = [
    { name: 'no ref: infergate', ctx: {}, want: 'self', reason: /no spec\.endpointPickerRef/ },
    { name: 'no ref, Kubernetes, with the flag: infergate', ctx: kube({}, 'infergate'), want: 'self', reason: /no spec\.endpointPickerRef/ },
    // Files: existence cannot be known.
    { name: 'files, no flag: any ref is infergate (as before)', ref: { name: 'anything' }, ctx: {}, want: 'self', reason: /without --epp-service-name infergate takes every ref to name itself/ },
    { name: 'files, no flag: even another kind', ref: { kind: 'Deployment', name: 'x' }, ctx: {}, want: 'self', reason: /Deployment llm\/x/ },
    { name: 'files, the flag names the ref: infergate', ref: { name: 'infergate' }, ctx: { eppServiceName: 'infergate' }, want: 'self', reason: /infergate's own \(--epp-service-name\)/ },
    { name: 'files, the flag names another: external', ref: { name: 'gie-epp' }, ctx: { eppServiceName: 'infergate' }, want: 'external', reason: /Service llm\/gie-epp, not infergate's own Service infergate/ },
    // Kubernetes: the Service is looked up.
    { name: 'kube, no flag, Service exists: infergate', ref: {}, ctx: kube({ 'llm/epp': CLUSTER_IP }), want: 'self', reason: /every existing Service to be itself/ },
    { name: 'kube, no flag, Service absent: missing', ref: {}, ctx: kube({ 'llm/epp': null }), want: 'missing', reason: /Service llm\/epp, which does not exist/ },
    { name: 'kube, the Service is in the pool\'s namespace, not another', ref: {}, ctx: kube({ 'default/epp': CLUSTER_IP, 'llm/epp': null }), want: 'missing', reason: /llm\/epp/ },
    { name: 'kube, Service unreadable (RBAC): not judged, infergate', ref: {}, ctx: kube({}), want: 'self', reason: /cannot read \(grant get, list and watch on services\)/ },
    { name: 'kube, ExternalName Service: missing', ref: {}, ctx: kube({ 'llm/epp': { type: 'ExternalName', ports: [] } }), want: 'missing', reason: /ExternalName/ },
    { name: 'kube, another kind: missing', ref: { kind: 'Deployment' }, ctx: kube({}), want: 'missing', reason: /Deployment llm\/epp; only a core Service/ },
    { name: 'kube, a Service in another group: missing', ref: { group: 'example.com' }, ctx: kube({}), want: 'missing', reason: /Service\.example\.com llm\/epp/ },
    { name: 'kube, group "" is the core group', ref: { group: '' }, ctx: kube({ 'llm/epp': CLUSTER_IP }), want: 'self', reason: /Service llm\/epp/ },
    { name: 'kube, the flag names the ref: infergate even before its Service is listed', ref: { name: 'infergate' }, ctx: kube({}, 'infergate'), want: 'self', reason: /infergate's own/ },
    { name: 'kube, the flag names another existing Service: external', ref: {}, ctx: kube({ 'llm/epp': CLUSTER_IP }, 'infergate'), want: 'external', reason: /not infergate's own Service infergate/ },
    { name: 'kube, the flag names another, absent Service: missing', ref: {}, ctx: kube({ 'llm/epp': null }, 'infergate'), want: 'missing', reason: /does not exist/ },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const got = resolvePickerRef(withRef(c.ref), c.ctx);
      assert.equal(got.picker, c.want);
      assert.match(got.reason, c.reason);
    });
  }

  test('an external ref carries the Service, its port and where the ext_proc client calls it', () => {
    const files = resolvePickerRef(withRef({ name: 'gie-epp', port: 9002 }), { eppServiceName: 'infergate' });
    assert.deepEqual(files, {
      picker: 'external',
      service: 'llm/gie-epp',
      port: 9002,
      address: { target: 'gie-epp.llm.svc:9002', serviceHost: 'gie-epp.llm.svc', via: 'Service llm/gie-epp by its DNS name (its clusterIP is not known here), port.number' },
      reason: files.reason,
    });
    // A Service declared in the files gives its clusterIP, without making a ref to an undeclared one missing.
    const declared = resolvePickerRef(withRef({ name: 'gie-epp', port: 9002 }), { eppServiceName: 'infergate', declaredServices: new Map([['llm/gie-epp', { type: 'ClusterIP', ports: [9002], clusterIP: '127.0.89.9' }]]) });
    assert.equal(declared.picker === 'external' && declared.address.target, '127.0.89.9:9002');
    const kubeRef = resolvePickerRef(withRef({ name: 'gie-epp', port: 9002 }), kube({ 'llm/gie-epp': { type: 'ClusterIP', ports: [9002], clusterIP: '10.96.3.4' } }, 'infergate'));
    assert.equal(kubeRef.picker === 'external' && kubeRef.address.target, '10.96.3.4:9002');
  });

  test('the 500 for a missing ref names the pool, the reason and what to do', () => {
    const ref = resolvePickerRef(withRef({ name: 'non-existent-epp-svc' }), kube({ 'llm/non-existent-epp-svc': null }));
    assert.equal(ref.picker, 'missing');
    if (ref.picker !== 'missing') return;
    const e = missingPickerError('llm/gemma', ref);
    assert.equal(e.status, 500);
    assert.equal(e.code, 'invalid_endpoint_picker_ref');
    assert.match(e.message, /^InferencePool llm\/gemma has no endpoint picker: spec\.endpointPickerRef names Service llm\/non-existent-epp-svc, which does not exist\. Create that Service, or point spec\.endpointPickerRef at infergate's own Service/);
  });
});

describe('readServiceFacts', () => {
  test('type and ports; ClusterIP by default; lenient on odd fields', () => {
    assert.deepEqual(readServiceFacts({ spec: { type: 'ExternalName', externalName: 'epp.example.com' } }), { type: 'ExternalName', ports: [] });
    assert.deepEqual(readServiceFacts({ spec: { ports: [{ port: 9002, targetPort: 9002 }, { name: 'x' }, null] } }), { type: 'ClusterIP', ports: [9002] });
    assert.deepEqual(readServiceFacts({}), { type: 'ClusterIP', ports: [] });
    assert.deepEqual(readServiceFacts({ spec: { clusterIP: '10.96.0.10', ports: [{ port: 9002 }] } }), { type: 'ClusterIP', ports: [9002], clusterIP: '10.96.0.10' });
  });
});
