/** parseModelList (vLLM's GET /v1/models) and buildModelCatalog (the union over endpoints). */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { pod } from './test-fixtures.js';
import { Endpoint } from '../epp/datastore/endpoint.js';
import { parseModelList, type ModelCard } from './model-card.js';
import { buildModelCatalog } from '../epp/datastore/model-catalog.js';

describe('parseModelList', () => {
  const valid: { name: string; json: unknown; want: ModelCard[] }[] = [
    {
      name: 'vLLM with a LoRA adapter',
      json: {
        object: 'list',
        data: [
          { id: 'google/gemma-2b-it', object: 'model', created: 1, owned_by: 'vllm', root: 'google/gemma-2b-it', parent: null, max_model_len: 8192 },
          { id: 'gemma-sql-lora', object: 'model', created: 1, owned_by: 'vllm', root: '/adapters/sql', parent: 'google/gemma-2b-it', max_model_len: 8192 },
        ],
      },
      want: [
        { id: 'google/gemma-2b-it', parent: null, root: 'google/gemma-2b-it', owned_by: 'vllm', max_model_len: 8192 },
        { id: 'gemma-sql-lora', parent: 'google/gemma-2b-it', root: '/adapters/sql', owned_by: 'vllm', max_model_len: 8192 },
      ],
    },
    { name: 'empty list', json: { object: 'list', data: [] }, want: [] },
    { name: 'minimal items (other servers)', json: { data: [{ id: 'm' }] }, want: [{ id: 'm', parent: null }] },
    { name: 'a parent equal to the id is not a parent', json: { data: [{ id: 'm', parent: 'm' }] }, want: [{ id: 'm', parent: null }] },
    { name: 'an empty parent is not a parent', json: { data: [{ id: 'm', parent: '' }] }, want: [{ id: 'm', parent: null }] },
    { name: 'items without a usable id are skipped', json: { data: [null, 7, { id: '' }, { id: 3 }, { name: 'x' }, { id: 'ok' }] }, want: [{ id: 'ok', parent: null }] },
    { name: 'fields of the wrong type are dropped', json: { data: [{ id: 'm', parent: 5, root: 1, owned_by: false, max_model_len: '8192' }] }, want: [{ id: 'm', parent: null }] },
  ];
  for (const c of valid) test(c.name, () => assert.deepEqual(parseModelList(c.json), c.want));

  const invalid: { name: string; json: unknown }[] = [
    { name: 'null', json: null },
    { name: 'a bare list', json: [{ id: 'm' }] },
    { name: 'data not a list', json: { data: { id: 'm' } } },
    { name: 'an error body', json: { error: { message: 'nope' } } },
  ];
  for (const c of invalid) test(`${c.name} throws`, () => assert.throws(() => parseModelList(c.json), /did not return \{"data": \[\.\.\.\]\}/));
});

describe('buildModelCatalog', () => {
  function serving(name: string, port: number, ...cards: ModelCard[]): Endpoint {
    const ep = new Endpoint(pod(name).ip('10.0.0.1').ready(), '10.0.0.1', port);
    ep.setModels(cards, 0);
    return ep;
  }

  test('a model pods serve with different max_model_len is listed with the smallest, whatever order they answer in', () => {
    const a = (): Endpoint => serving('a', 8000, { id: 'm', parent: null, owned_by: 'vllm', max_model_len: 32768 });
    const b = (): Endpoint => serving('b', 8000, { id: 'm', parent: null, max_model_len: 8192 });
    const c = (): Endpoint => serving('c', 8000, { id: 'm', parent: null });
    for (const order of [[a(), b(), c()], [c(), b(), a()], [b(), a()]]) {
      const entry = buildModelCatalog(order).models.get('m')!;
      assert.equal(entry.card.max_model_len, 8192);
      assert.equal(entry.pods.length, order.length);
    }
    // The first pod's card is not changed: it is that endpoint's own.
    const first = a();
    buildModelCatalog([first, b()]);
    assert.equal(first.models!.get('m')!.max_model_len, 32768);
  });

  test('models from every endpoint, each with the pods that list it', () => {
    const silent = new Endpoint(pod('silent').ip('10.0.0.9').ready(), '10.0.0.9', 8000);
    const catalog = buildModelCatalog([
      serving('a', 8000, { id: 'base', parent: null }, { id: 'lora', parent: 'base' }),
      serving('a', 8001, { id: 'base', parent: null }), // a second rank of the same pod counts once
      serving('b', 8000, { id: 'base', parent: null }, { id: 'lora', parent: 'other' }),
      silent,
    ]);
    assert.deepEqual(
      [...catalog.models].map(([id, e]) => [id, e.card.parent, e.pods]),
      [
        ['base', null, ['default/a', 'default/b']],
        // The first endpoint's card is kept.
        ['lora', 'base', ['default/a', 'default/b']],
      ],
    );
  });

  test('no endpoints, no models', () => {
    assert.equal(buildModelCatalog([]).models.size, 0);
  });
});
