/** Gateway and GatewayClass status as infergate reports it for the Gateways it serves. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { HTTPRoute } from '../../api/http-route.js';
import { pool, route } from '../../route/test-fixtures.js';
import { desiredGatewayStatus, mergeClassConditions, mergeGatewayStatus, ourClasses, ourGateways } from './gateway-status.js';
import type { KubeObject } from './kube-object.js';
import { INFERGATE_CONTROLLER_NAME } from './route-status.js';

function gateway(name: string, cls: string, listeners: string[], extra: Record<string, unknown> = {}): KubeObject {
  return { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', metadata: { name, namespace: 'default', generation: 2 }, spec: { gatewayClassName: cls, listeners: listeners.map((l) => ({ name: l, port: 80, protocol: 'HTTP' })), ...extra } };
}
function gatewayClass(name: string, controllerName: string): KubeObject {
  return { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'GatewayClass', metadata: { name, generation: 1 }, spec: { controllerName } };
}

const classes = [gatewayClass('infergate', INFERGATE_CONTROLLER_NAME), gatewayClass('envoy', 'example.com/envoy')];
const gateways = [gateway('primary', 'infergate', ['http']), gateway('theirs', 'envoy', ['http'])];

describe('which Gateways and classes are infergate\'s', () => {
  test('by class controllerName without --gateway-name', () => {
    assert.deepEqual(ourClasses(classes).map((c) => c.metadata.name), ['infergate']);
    assert.deepEqual(ourGateways(gateways, classes, { routes: [] }).map((g) => g.metadata.name), ['primary']);
  });
  test('by name with --gateway-name, whatever the class', () => {
    assert.deepEqual(ourGateways(gateways, [], { routes: [], gatewayName: 'theirs' }).map((g) => g.metadata.name), ['theirs']);
  });
  test('no class of ours: no Gateway', () => {
    assert.deepEqual(ourGateways(gateways, [], { routes: [] }), []);
  });
  test('classes unreadable (a namespaced Role): every Gateway, as routing does', () => {
    assert.deepEqual(ourGateways(gateways, undefined, { routes: [] }).map((g) => g.metadata.name), ['primary', 'theirs']);
  });
});

describe('desiredGatewayStatus', () => {
  const withSection = (r: HTTPRoute, s: string): HTTPRoute => ({ ...r, parentRefs: r.parentRefs.map((p) => ({ ...p, sectionName: s })) });
  const routes: HTTPRoute[] = [
    route('all').parent('primary').rule(pool('a')),
    withSection(route('only-https').parent('primary').rule(pool('a')), 'https'),
    route('elsewhere').parent('other').rule(pool('a')),
  ];
  const status = desiredGatewayStatus(gateway('primary', 'infergate', ['http', 'https'], { addresses: [{ type: 'IPAddress', value: '10.0.0.1' }] }), { routes });

  test('Accepted and Programmed True; addresses echoed from the spec', () => {
    assert.deepEqual(status.conditions.map((c) => `${c.type}=${c.status}/${c.reason}`), ['Accepted=True/Accepted', 'Programmed=True/Programmed']);
    assert.deepEqual(status.addresses, [{ type: 'IPAddress', value: '10.0.0.1' }]);
  });
  test('one listener entry each, HTTPRoute only, routes counted by sectionName', () => {
    assert.deepEqual(
      status.listeners.map((l) => [l.name, l.attachedRoutes, l.supportedKinds, l.conditions.map((c) => `${c.type}=${c.status}`).join(',')]),
      [
        ['http', 1, [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute' }], 'Accepted=True,Programmed=True,ResolvedRefs=True'],
        ['https', 2, [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute' }], 'Accepted=True,Programmed=True,ResolvedRefs=True'],
      ],
    );
  });
  test('no spec addresses: none written, or --gateway-address typed by its form', () => {
    assert.equal(desiredGatewayStatus(gateway('primary', 'infergate', ['http']), { routes }).addresses, undefined);
    assert.deepEqual(desiredGatewayStatus(gateway('primary', 'infergate', ['http']), { routes, addresses: ['10.1.2.3', 'gw.example.com'] }).addresses, [
      { type: 'IPAddress', value: '10.1.2.3' },
      { type: 'Hostname', value: 'gw.example.com' },
    ]);
  });
});

describe('merging with the status there', () => {
  const desired = desiredGatewayStatus(gateway('primary', 'infergate', ['http']), { routes: [] });
  test('first write stamps observedGeneration and times; the same again sends nothing; a change keeps unchanged times', () => {
    const first = mergeGatewayStatus({ conditions: [{ type: 'Accepted', status: 'Unknown', reason: 'Pending', message: 'Waiting for controller', lastTransitionTime: 'T0' }] }, desired, 2, 'T1')!;
    assert.equal(first.conditions[0]?.lastTransitionTime, 'T1');
    assert.equal(first.conditions[0]?.observedGeneration, 2);
    assert.equal(first.listeners[0]?.conditions[0]?.lastTransitionTime, 'T1');
    assert.equal(mergeGatewayStatus(first, desired, 2, 'T2'), undefined);
    const more = desiredGatewayStatus(gateway('primary', 'infergate', ['http']), { routes: [route('r').parent('primary').rule(pool('a'))] });
    const second = mergeGatewayStatus(first, more, 2, 'T3')!;
    assert.equal(second.listeners[0]?.attachedRoutes, 1);
    assert.equal(second.conditions.find((c) => c.type === 'Accepted')?.lastTransitionTime, 'T1');
  });
  test('GatewayClass: Accepted True once, other conditions kept', () => {
    const keep = { type: 'SupportedVersion', status: 'True', reason: 'SupportedVersion', message: 'x', lastTransitionTime: 'T0' };
    const next = mergeClassConditions({ conditions: [keep, { type: 'Accepted', status: 'Unknown', reason: 'Pending', message: 'w', lastTransitionTime: 'T0' }] }, 1, 'T1')!;
    assert.deepEqual(next.map((c) => `${c.type}=${c.status}@${c.lastTransitionTime}`), ['SupportedVersion=True@T0', 'Accepted=True@T1']);
    assert.equal(mergeClassConditions({ conditions: next }, 1, 'T2'), undefined);
  });
});
