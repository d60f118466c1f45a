import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { PoolView } from '../epp/datastore/datastore.js';
import { GatewayError } from '../errors.js';
import { ResponseAffinity } from './response-affinity.js';
import { pinnedBackend, pinnedView, planResponseCreation, planStoredResponse } from './responses-stage.js';

const OWNER = { endpoint: '10.0.0.5:8000', pool: 'llm/phi', model: 'phi3-code-lora', baseModel: 'microsoft/phi' };
/** A pool with no endpoint holding the response: routing reached it, the owner's pod is elsewhere. */
const GEMMA = { key: 'llm/gemma', endpoints: [], excluded: [] } as unknown as PoolView;

describe('a stored response asked for where it is not', () => {
  test('a follow-up routed to another pool than its previous response gets a 404 naming both, not a pod\'s bare "not found"', () => {
    const affinity = new ResponseAffinity();
    affinity.remember('resp_1', OWNER);
    const plan = { json: { model: 'gemma-sql-lora', previous_response_id: 'resp_1' }, routingHeaders: {} } as Parameters<typeof planResponseCreation>[1];
    planResponseCreation(affinity, plan, undefined);
    assert.throws(
      () => pinnedView(GEMMA, plan.pin!, 'gemma-sql-lora'),
      (e: unknown) =>
        e instanceof GatewayError &&
        e.code === 'response_not_found' &&
        e.param === 'previous_response_id' &&
        /created by model phi3-code-lora on InferencePool llm\/phi .* routes to InferencePool llm\/gemma.*Send the follow-up with model phi3-code-lora/.test(e.message),
    );
  });

  test('a response deleted through the gateway: asking for it again says it was deleted, not that the gateway never saw it', () => {
    const affinity = new ResponseAffinity();
    affinity.remember('resp_2', OWNER);
    affinity.forget('resp_2', Date.UTC(2026, 11, 7, 6, 0, 0));
    const plan = { routingHeaders: {} } as Parameters<typeof planStoredResponse>[2];
    assert.throws(
      () => planStoredResponse(affinity, { id: 'resp_2', action: 'retrieve' }, plan, new Map(), undefined),
      (e: unknown) => e instanceof GatewayError && e.code === 'response_not_found' && e.message === 'response `resp_2` was deleted through this gateway at 2026-12-07T06:00:00.000Z',
    );
    assert.throws(() => planStoredResponse(affinity, { id: 'resp_3', action: 'retrieve' }, plan, new Map(), undefined), /is not known to this gateway/);
  });
});

describe('a rule that splits traffic over pools by weight', () => {
  const ref = (name: string, weight: number) => ({ kind: 'InferencePool', namespace: 'llm', name, weight });
  const refs = [ref('gemma', 90), ref('phi', 10)];

  test('a request on a stored response goes to the pool that holds it, whatever its weight', () => {
    const affinity = new ResponseAffinity();
    affinity.remember('resp_1', OWNER);
    const plan = { routingHeaders: {} } as Parameters<typeof planStoredResponse>[2];
    planStoredResponse(affinity, { id: 'resp_1', action: 'retrieve' }, plan, new Map(), undefined);
    assert.equal(pinnedBackend(refs, plan.pin), refs[1]);
    // Weight 0 (a pool being drained): it takes no new conversations, but the responses it holds are still there.
    const drained = [ref('gemma', 100), ref('phi', 0)];
    assert.equal(pinnedBackend(drained, plan.pin), drained[1]);
  });

  test('a follow-up too; a rule without the holding pool, or an unpinned request, is left to the weights', () => {
    const affinity = new ResponseAffinity();
    affinity.remember('resp_1', OWNER);
    const plan = { json: { model: 'phi3-code-lora', previous_response_id: 'resp_1' }, routingHeaders: {} } as Parameters<typeof planResponseCreation>[1];
    planResponseCreation(affinity, plan, undefined);
    assert.equal(pinnedBackend(refs, plan.pin), refs[1]);
    assert.equal(pinnedBackend([ref('gemma', 1), ref('mistral', 1)], plan.pin), undefined);
    assert.equal(pinnedBackend(refs, undefined), undefined);
  });
});

describe('a follow-up on a response deleted through the gateway', () => {
  test('is a 404 naming previous_response_id and when it was deleted, not sent to a pod that never held it', () => {
    const affinity = new ResponseAffinity();
    affinity.remember('resp_4', OWNER);
    affinity.forget('resp_4', Date.UTC(2026, 11, 7, 6, 0, 0));
    const plan = { json: { model: 'phi3-code-lora', previous_response_id: 'resp_4' }, routingHeaders: {} } as Parameters<typeof planResponseCreation>[1];
    assert.throws(
      () => planResponseCreation(affinity, plan, undefined),
      (e: unknown) =>
        e instanceof GatewayError &&
        e.code === 'response_not_found' &&
        e.param === 'previous_response_id' &&
        e.message === 'previous_response_id `resp_4` names a response deleted through this gateway at 2026-12-07T06:00:00.000Z; send the conversation so far as input instead',
    );
    // Another tenant's deleted response stays as unknown to this one as any of theirs.
    assert.throws(() => planResponseCreation(affinity, plan, 'team-b'), /is not a response of tenant team-b known to this gateway/);
    // Remembered again (created anew under the same id): routed to it as usual.
    affinity.remember('resp_4', OWNER);
    const again = { json: { model: 'phi3-code-lora', previous_response_id: 'resp_4' }, routingHeaders: {} } as Parameters<typeof planResponseCreation>[1];
    planResponseCreation(affinity, again, undefined);
    assert.equal(again.pin?.endpoint, OWNER.endpoint);
  });
});
