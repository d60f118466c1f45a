/** unknownAnnotations: an `infergate.io/` annotation infergate does not read is a warning naming the field, with the name meant. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Resource } from '../api/resource.js';
import { inferencePool, pod } from '../api/test-fixtures.js';
import { unknownAnnotations } from './known-annotations.js';

const podWith = (annotations: Record<string, string>): Resource => {
  const p = pod('p').ip('10.0.0.2').ready();
  return { ...p, meta: { ...p.meta, annotations } };
};

const cases: { name: string; resource: Resource; want: string[] }[] = [
  { name: 'every known pool annotation: nothing', resource: inferencePool('a').annotate({ 'infergate.io/stream-idle-timeout': '1m', 'infergate.io/endpoint-picker-config': 'epp', 'infergate.io/outlier-interval': '10s' }), want: [] },
  { name: 'other namespaces are not ours', resource: inferencePool('a').annotate({ 'example.com/owner': 'me', 'kubectl.kubernetes.io/last-applied-configuration': '{}' }), want: [] },
  {
    name: 'a misspelt pool annotation: the name meant',
    resource: inferencePool('a').annotate({ 'infergate.io/stream-idle-timout': '5s' }),
    want: ['metadata.annotations.infergate.io/stream-idle-timout: is not an annotation infergate reads, so it changes nothing (did you mean "infergate.io/stream-idle-timeout"?)'],
  },
  // poolApiKeySource warns about these in its own words (validate: api-key-annotation-unknown).
  { name: 'a key look-alike is left to the key reader', resource: inferencePool('a').annotate({ 'infergate.io/api-key-secret': 'k' }), want: [] },
  {
    name: 'a pool annotation on a pod: where it belongs',
    resource: podWith({ 'infergate.io/connect-timeout': '1s' }),
    want: ['metadata.annotations.infergate.io/connect-timeout: is read on InferencePools only, not on a Pod, so here it changes nothing'],
  },
  { name: 'a pod annotation on a pod: nothing', resource: podWith({ 'infergate.io/kv-events-port': '5557' }), want: [] },
  {
    name: 'nothing close: what is read on that kind',
    resource: podWith({ 'infergate.io/weight': '2' }),
    want: ['metadata.annotations.infergate.io/weight: is not an annotation infergate reads, so it changes nothing; on a Pod it reads infergate.io/kv-events-port, infergate.io/kv-events-replay-port'],
  },
];

for (const c of cases) {
  test(c.name, () => {
    const got = unknownAnnotations([c.resource]);
    assert.deepEqual(got.map((i) => `${i.field}: ${i.message}`), c.want);
    for (const i of got) assert.equal(i.location, c.resource.source);
  });
}
