import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ServiceDefinition } from '@grpc/grpc-js';
import { extProcServiceDefinition } from './protos.js';
import type { ProcessingRequest, ProcessingResponse } from './processing-messages.js';
import { fromStruct, mergeFilterMetadata, toStruct, type FilterMetadata, type JsonValue } from './struct-value.js';

const process = (): ServiceDefinition['Process'] => extProcServiceDefinition().Process!;

test('JSON -> Struct -> wire -> Struct -> JSON is the identity', () => {
  const cases: Record<string, JsonValue>[] = [
    {},
    { 'x-gateway-destination-endpoint': '10.0.0.1:8000' },
    { list: ['a', 'b'], n: 1.5, t: true, f: false, nothing: null, nested: { deep: { k: 'v' } }, empty: [] },
  ];
  for (const c of cases) {
    const wire = process().responseSerialize({ dynamic_metadata: toStruct(c) } satisfies ProcessingResponse);
    const back = process().responseDeserialize(wire) as ProcessingResponse;
    assert.deepEqual(fromStruct(back.dynamic_metadata), c);
  }
});

test('Struct fields are read in both spellings (protobufjs camelCase, snake_case from other decoders)', () => {
  assert.deepEqual(fromStruct({ fields: { a: { string_value: 'x' }, b: { list_value: { values: [{ number_value: 2 }] } } } as never }), { a: 'x', b: [2] });
});

test('metadata_context namespaces merge across messages; a namespace sent again replaces the old one', () => {
  const seen: FilterMetadata = {};
  const msg = (ns: string, v: Record<string, JsonValue>): ProcessingRequest['metadata_context'] => ({ filter_metadata: { [ns]: toStruct(v) } });
  mergeFilterMetadata(seen, msg('envoy.lb.subset_hint', { 'x-gateway-destination-endpoint-subset': ['10.0.0.1:8000'] }));
  mergeFilterMetadata(seen, msg('envoy.lb', { a: '1' }));
  mergeFilterMetadata(seen, msg('envoy.lb', { b: '2' }));
  mergeFilterMetadata(seen, undefined);
  assert.deepEqual(seen, { 'envoy.lb.subset_hint': { 'x-gateway-destination-endpoint-subset': ['10.0.0.1:8000'] }, 'envoy.lb': { b: '2' } });
});

test('fromStruct refuses metadata nested past its bound instead of overflowing the stack', () => {
  let v: Record<string, unknown> = { string_value: 'leaf' };
  for (let i = 0; i < 10_000; i++) v = i % 2 === 0 ? { list_value: { values: [v] } } : { struct_value: { fields: { k: v } } };
  assert.throws(() => fromStruct({ fields: { top: v } } as never), /nests deeper than 100 levels/);
});
