/** Where an external endpoint picker is dialled, from its Service and the ref's port. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ServiceFacts } from '../../api/service.js';
import { pickerAddress } from './picker-address.js';

test('pickerAddress: clusterIP and the ref port; else the DNS name; the port from the ref, the only Service port, or 9002', () => {
  const cases: { name: string; port?: number; facts?: ServiceFacts; target: string; via: RegExp }[] = [
    { name: 'clusterIP and ref port', port: 9002, facts: { type: 'ClusterIP', ports: [9002], clusterIP: '10.96.0.7' }, target: '10.96.0.7:9002', via: /clusterIP 10\.96\.0\.7, port\.number$/ },
    { name: 'IPv6 clusterIP is bracketed', port: 9002, facts: { type: 'ClusterIP', ports: [], clusterIP: 'fd00::7' }, target: '[fd00::7]:9002', via: /clusterIP fd00::7/ },
    { name: 'no ref port: the Service\'s only port', facts: { type: 'ClusterIP', ports: [9102], clusterIP: '10.96.0.7' }, target: '10.96.0.7:9102', via: /the Service's only port/ },
    { name: 'no ref port, several Service ports: GIE\'s default', facts: { type: 'ClusterIP', ports: [9002, 9090], clusterIP: '10.96.0.7' }, target: '10.96.0.7:9002', via: /GIE's ext_proc default/ },
    { name: 'headless: the DNS name', port: 9002, facts: { type: 'ClusterIP', ports: [9002], clusterIP: 'None' }, target: 'epp.llm.svc:9002', via: /headless/ },
    { name: 'unknown Service: the DNS name', port: 9003, target: 'epp.llm.svc:9003', via: /clusterIP is not known here/ },
  ];
  for (const c of cases) {
    const got = pickerAddress('llm', 'epp', c.port, c.facts);
    assert.equal(got.target, c.target, c.name);
    assert.equal(got.serviceHost, 'epp.llm.svc', c.name);
    assert.match(got.via, c.via, c.name);
  }
});
