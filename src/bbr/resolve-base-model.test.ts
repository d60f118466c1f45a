/** resolveBaseModel: ConfigMaps first, then what the pods' GET /v1/models says; strict mode uses ConfigMaps alone. */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { Allowlist } from '../api/allowlist.js';
import { allowlist, pod } from '../api/test-fixtures.js';
import { Endpoint } from '../epp/datastore/endpoint.js';
import type { ModelCard } from '../api/model-card.js';
import { buildModelCatalog } from '../epp/datastore/model-catalog.js';
import type { ModelCatalog } from './model-catalog.js';
import { GatewayError } from '../errors.js';
import { buildAllowlistTable, type AllowlistTable } from './allowlist-table.js';
import { resolveBaseModel, servedModels } from './resolve-base-model.js';

function card(id: string, parent: string | null = null): ModelCard {
  return { id, parent };
}

/** A pod's endpoint that has answered GET /v1/models with these cards. */
function serving(name: string, ip: string, ...cards: ModelCard[]): Endpoint {
  const ep = new Endpoint(pod(name).ip(ip).ready(), ip, 8000);
  ep.setModels(cards, 0);
  return ep;
}

function table(...allowlists: Allowlist[]): AllowlistTable {
  const { table, issues } = buildAllowlistTable(allowlists);
  assert.deepEqual(issues, []);
  return table;
}

const allowlists = table(allowlist('gemma-allowlist').base('google/gemma-2b-it').adapter('gemma-sql-lora'), allowlist('llama-allowlist').base('llama').adapter('llama-chat'));
const catalog: ModelCatalog = buildModelCatalog([
  serving('gemma-0', '10.0.0.1', card('google/gemma-2b-it'), card('gemma-sql-lora', 'google/gemma-2b-it'), card('pod-only-lora', 'google/gemma-2b-it')),
  serving('gemma-1', '10.0.0.2', card('google/gemma-2b-it'), card('pod-only-lora', 'google/gemma-2b-it')),
  // Disagrees with the ConfigMap: says llama-chat belongs to another base, and that llama is an adapter.
  serving('rogue-0', '10.0.0.3', card('llama-chat', 'mistral'), card('llama', 'mistral'), card('mistral')),
]);

describe('resolveBaseModel', () => {
  const cases: { name: string; model: string; strict?: boolean; baseModel: string; isAdapter: boolean; source: string }[] = [
    { name: 'adapter via ConfigMap', model: 'gemma-sql-lora', baseModel: 'google/gemma-2b-it', isAdapter: true, source: 'ConfigMap default/gemma-allowlist' },
    { name: 'base via ConfigMap', model: 'google/gemma-2b-it', baseModel: 'google/gemma-2b-it', isAdapter: false, source: 'ConfigMap default/gemma-allowlist' },
    { name: 'adapter learnt only from the pods', model: 'pod-only-lora', baseModel: 'google/gemma-2b-it', isAdapter: true, source: 'GET /v1/models of pod default/gemma-0 (+1 more)' },
    { name: 'base learnt only from a pod', model: 'mistral', baseModel: 'mistral', isAdapter: false, source: 'GET /v1/models of pod default/rogue-0' },
    { name: 'the ConfigMap wins when a pod names another parent', model: 'llama-chat', baseModel: 'llama', isAdapter: true, source: 'ConfigMap default/llama-allowlist' },
    { name: 'the ConfigMap wins when a pod calls a base an adapter', model: 'llama', baseModel: 'llama', isAdapter: false, source: 'ConfigMap default/llama-allowlist' },
    { name: 'strict mode still resolves ConfigMap adapters', model: 'gemma-sql-lora', strict: true, baseModel: 'google/gemma-2b-it', isAdapter: true, source: 'ConfigMap default/gemma-allowlist' },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const r = resolveBaseModel(c.model, allowlists, catalog, c.strict ?? false);
      assert.deepEqual(r, { model: c.model, baseModel: c.baseModel, isAdapter: c.isAdapter, source: c.source });
    });
  }

  const missing: { name: string; model: string; strict: boolean; allowlists?: AllowlistTable; catalog?: ModelCatalog; message: RegExp[] }[] = [
    {
      name: 'unknown model lists the served models',
      model: 'gpt-4',
      strict: false,
      message: [/^model `gpt-4` is not served here\. /, /Served models: gemma-sql-lora, google\/gemma-2b-it, llama, llama-chat, mistral, pod-only-lora\./, /run a pod that lists it in GET \/v1\/models/],
    },
    {
      name: 'strict mode ignores pod-reported models and says so',
      model: 'pod-only-lora',
      strict: true,
      message: [/^model `pod-only-lora` is served by pod default\/gemma-0 but is in no allowlist ConfigMap, and --strict-allowlist is set\./, /Allowlisted models: gemma-sql-lora, google\/gemma-2b-it, llama, llama-chat$/],
    },
    {
      name: 'strict mode, unknown everywhere',
      model: 'gpt-4',
      strict: true,
      message: [/^model `gpt-4` is not served here\. Served models: gemma-sql-lora, google\/gemma-2b-it, llama, llama-chat\./],
    },
    {
      name: 'a ConfigMap-only adapter is listed apart from what is served',
      model: 'gpt-4',
      strict: false,
      allowlists: table(allowlist('gemma-allowlist').base('google/gemma-2b-it').adapter('gemma-sql-lora').adapter('declared-lora')),
      message: [/Served models: gemma-sql-lora, google\/gemma-2b-it, llama, llama-chat, mistral, pod-only-lora\. Declared in allowlist ConfigMaps but not served by any pod: declared-lora\. /],
    },
    {
      name: 'nothing served, one model declared',
      model: 'gpt-4',
      strict: false,
      allowlists: table(allowlist('a').base('declared-base')),
      catalog: buildModelCatalog([]),
      message: [/Served models: \(none: no pod serves a declared model\)\. Declared in allowlist ConfigMaps but not served by any pod: declared-base\./],
    },
    {
      name: 'an adapter two ConfigMaps give different bases names them, not a missing ConfigMap',
      model: 'pod-only-lora',
      strict: true,
      allowlists: buildAllowlistTable([allowlist('gemma-allowlist').base('google/gemma-2b-it').adapter('pod-only-lora'), allowlist('llama-extra').base('llama').adapter('pod-only-lora')]).table,
      message: [/^model `pod-only-lora` is claimed as an adapter of different base models by allowlist ConfigMaps \("google\/gemma-2b-it" in ConfigMap default\/gemma-allowlist; "llama" in ConfigMap default\/llama-extra\); an adapter has exactly one base model/, /--strict-allowlist is set/],
    },
    {
      name: 'nothing known at all',
      model: 'gpt-4',
      strict: false,
      allowlists: table(),
      catalog: buildModelCatalog([]),
      message: [/Served models: \(none: no allowlist ConfigMap and no pod has answered GET \/v1\/models\)/],
    },
  ];
  for (const c of missing) {
    test(`${c.name} -> 404 model_not_found`, () => {
      assert.throws(
        () => resolveBaseModel(c.model, c.allowlists ?? allowlists, c.catalog ?? catalog, c.strict),
        (e: unknown) => {
          assert.ok(e instanceof GatewayError);
          assert.equal(e.status, 404);
          assert.equal(e.code, 'model_not_found');
          assert.equal(e.param, 'model');
          for (const m of c.message) assert.match(e.message, m);
          return true;
        },
      );
    });
  }
});

describe('servedModels', () => {
  test('the union of ConfigMaps and pods, sorted; strict leaves the pods out', () => {
    assert.deepEqual(servedModels(allowlists, catalog, false), ['gemma-sql-lora', 'google/gemma-2b-it', 'llama', 'llama-chat', 'mistral', 'pod-only-lora']);
    assert.deepEqual(servedModels(allowlists, catalog, true), ['gemma-sql-lora', 'google/gemma-2b-it', 'llama', 'llama-chat']);
  });
});
