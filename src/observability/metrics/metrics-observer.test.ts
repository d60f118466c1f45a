import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ConfigSnapshot } from '../../config/snapshot.js';
import type { RequestRecord } from '../request-record.js';
import { GatewayMetrics } from './gateway-metrics.js';
import { errorCodeOf } from './metrics-observer.js';
import { record, sample, seriesCount } from './test-fixtures.js';

const LLAMA = 'meta-llama/Llama-3.1-8B-Instruct';

/** Runs records through a fresh observer as the data plane would (scheduled, gaps, ended) and returns /metrics. */
async function observe(records: readonly { r: RequestRecord; gaps?: number[] }[]): Promise<string> {
  const m = new GatewayMetrics();
  for (const { r, gaps } of records) {
    if (r.scheduledAt !== undefined) m.observer.scheduled(r);
    for (const g of gaps ?? []) m.observer.interTokenGap(r, g);
    m.observer.ended(r);
  }
  return (await m.render()).text;
}

const answered = (o: Partial<RequestRecord>): RequestRecord =>
  record({ model: LLAMA, targetModel: LLAMA, pool: 'default/llama', attempts: 1, scheduledAt: 1002, status: 200, endedAt: 1500, requestBytes: 300, responseBytes: 900, ...o });

interface Case {
  name: string;
  records: { r: RequestRecord; gaps?: number[] }[];
  /** [sample name, labels, expected value or undefined for no such sample] */
  expect: [string, Record<string, string>, number | undefined][];
}

const L = { model_name: LLAMA, target_model_name: LLAMA, fairness_id: 'default-flow', priority: '0' };
const G = { model_name: LLAMA, target_model_name: LLAMA };

const cases: Case[] = [
  {
    name: 'a whole answer with usage: counted, sized, tokens, TTFT = duration (streaming="false"), no TPOT',
    records: [{ r: answered({ usage: { promptTokens: 20, completionTokens: 10, cachedTokens: 16 } }) }],
    expect: [
      ['llm_d_epp_request_total', L, 1],
      ['inference_objective_request_total', { ...G, priority: '0' }, 1],
      ['llm_d_epp_request_running', L, 0],
      ['inference_objective_running_requests', { model_name: LLAMA }, 0],
      ['llm_d_epp_request_duration_seconds_sum', L, 0.5],
      ['inference_objective_request_duration_seconds_count', G, 1],
      ['llm_d_epp_request_size_bytes_sum', L, 300],
      ['inference_objective_request_sizes_sum', G, 300],
      ['llm_d_epp_response_size_bytes_sum', L, 900],
      ['llm_d_epp_request_input_tokens_sum', L, 20],
      ['inference_objective_input_tokens_sum', G, 20],
      ['llm_d_epp_request_output_tokens_sum', L, 10],
      ['llm_d_epp_request_cached_tokens_sum', L, 16],
      ['inference_objective_prompt_cached_tokens_sum', G, 16],
      ['llm_d_epp_request_ntpot_seconds_sum', L, 0.05],
      ['llm_d_epp_request_ttft_seconds_sum', { ...L, streaming: 'false' }, 0.5],
      ['llm_d_epp_request_ttft_seconds_count', { ...L, streaming: 'true' }, undefined],
      ['llm_d_epp_request_streaming_tpot_seconds_count', L, undefined],
      ['llm_d_epp_request_error_total', {}, undefined],
      ['llm_d_epp_request_processing_duration_seconds_sum', {}, 0.002],
      ['infergate_upstream_attempts_total', { pool: 'default/llama' }, 1],
      ['infergate_upstream_failovers_total', { pool: 'default/llama' }, 0],
      ['bbr_success_total', {}, 1],
    ],
  },
  {
    name: 'a stream with include_usage: TTFT to the first token, TPOT over the rest, ITL per gap, tokens as a whole answer',
    records: [{ r: answered({ stream: true, firstTokenAt: 1100, lastTokenAt: 1490, tokenEvents: 12, usage: { promptTokens: 8, completionTokens: 11 } }), gaps: [0.04, 0.03] }],
    expect: [
      ['llm_d_epp_request_total', L, 1],
      ['llm_d_epp_request_ttft_seconds_sum', { ...L, streaming: 'true' }, 0.1],
      ['inference_objective_request_ttft_seconds_sum', G, 0.1],
      ['llm_d_epp_request_streaming_tpot_seconds_sum', L, 0.04],
      ['inference_objective_request_tpot_seconds_sum', G, 0.04],
      ['llm_d_epp_request_streaming_itl_seconds_count', L, 2],
      ['llm_d_epp_request_output_tokens_sum', L, 11],
      ['llm_d_epp_request_input_tokens_sum', L, 8],
      ['llm_d_epp_request_cached_tokens_count', L, undefined],
    ],
  },
  {
    name: 'a stream without usage: TTFT and ITL, no tokens and no TPOT',
    records: [{ r: answered({ stream: true, firstTokenAt: 1050, tokenEvents: 5 }), gaps: [0.1] }],
    expect: [
      ['llm_d_epp_request_ttft_seconds_count', { ...L, streaming: 'true' }, 1],
      ['llm_d_epp_request_output_tokens_count', L, undefined],
      ['llm_d_epp_request_streaming_tpot_seconds_count', L, undefined],
      ['llm_d_epp_request_streaming_itl_seconds_sum', L, 0.1],
    ],
  },
  {
    name: 'refused before scheduling (unknown model): only the error counter, by llm-d code, with the model as sent',
    records: [{ r: record({ model: 'nope', status: 404, errorCode: 'model_not_found', endedAt: 1001 }) }],
    expect: [
      ['llm_d_epp_request_error_total', { model_name: 'nope', target_model_name: 'nope', error_code: 'NotFound' }, 1],
      ['inference_objective_request_error_total', { model_name: 'nope', error_code: 'NotFound' }, 1],
      ['llm_d_epp_request_total', {}, undefined],
      ['llm_d_epp_request_running', {}, undefined],
      ['llm_d_epp_request_duration_seconds_count', {}, undefined],
      ['bbr_success_total', {}, 1],
      // Its time in the request phase, as llm-d records request-phase failures.
      ['llm_d_epp_request_processing_duration_seconds_count', {}, 1],
      ['llm_d_epp_request_processing_duration_seconds_sum', {}, 0.001],
    ],
  },
  {
    name: 'a body with no model: BadRequest with empty model labels, BBR field not found',
    records: [{ r: record({ status: 400, errorCode: 'missing_model', modelField: 'not_found', endedAt: 1001 }) }],
    expect: [
      ['llm_d_epp_request_error_total', { model_name: '', target_model_name: '', error_code: 'BadRequest' }, 1],
      ['bbr_body_field_not_found_total', { field: 'model' }, 1],
      ['bbr_body_field_empty_total', { field: 'model' }, 0],
      ['bbr_success_total', {}, 0],
    ],
  },
  {
    name: 'an empty model: BBR field empty',
    records: [{ r: record({ status: 400, errorCode: 'missing_model', modelField: 'empty', endedAt: 1001 }) }],
    expect: [
      ['bbr_body_field_empty_total', { field: 'model' }, 1],
      ['bbr_body_field_not_found_total', { field: 'model' }, 0],
    ],
  },
  {
    name: 'the model server answered 500: ModelServerError, counted and timed, no TTFT',
    records: [{ r: answered({ status: 500 }) }],
    expect: [
      ['llm_d_epp_request_total', L, 1],
      ['llm_d_epp_request_error_total', { ...L, error_code: 'ModelServerError' }, 1],
      ['llm_d_epp_request_duration_seconds_count', L, 1],
      ['llm_d_epp_request_ttft_seconds_count', { ...L, streaming: 'false' }, undefined],
    ],
  },
  {
    name: "the model server refused the client's request with 400: ModelServerError as llm-d counts it, and a 400 among the pool's answers",
    records: [
      { r: answered({ status: 400, attemptLog: [{ endpoint: '10.0.0.1:8000', startedAt: 1002, status: 400 }] }) },
      { r: answered({ status: 503, attemptLog: [{ endpoint: '10.0.0.1:8000', startedAt: 1002, status: 503 }] }) },
      { r: answered({ attemptLog: [{ endpoint: '10.0.0.1:8000', startedAt: 1002, status: 200 }] }) },
    ],
    expect: [
      ['llm_d_epp_request_error_total', { ...L, error_code: 'ModelServerError' }, 2],
      ['infergate_upstream_responses_total', { pool: 'default/llama', code: '400' }, 1],
      ['infergate_upstream_responses_total', { pool: 'default/llama', code: '503' }, 1],
      ['infergate_upstream_responses_total', { pool: 'default/llama', code: '200' }, 1],
    ],
  },
  {
    name: 'a failover: the attempt that failed before answering has no status, the one that answered has',
    records: [{ r: answered({ attempts: 2, attemptLog: [{ endpoint: '10.0.0.1:8000', startedAt: 1002, error: 'ECONNREFUSED' }, { endpoint: '10.0.0.2:8000', startedAt: 1003, status: 200 }] }) }],
    expect: [
      ['infergate_upstream_responses_total', { pool: 'default/llama', code: '200' }, 1],
      ['infergate_upstream_failovers_total', { pool: 'default/llama' }, 1],
    ],
  },
  {
    name: 'every endpoint failed before answering: ServiceUnavailable, 3 attempts are 2 failovers',
    records: [{ r: answered({ status: 502, errorCode: 'upstream_unavailable', attempts: 3 }) }],
    expect: [
      ['llm_d_epp_request_error_total', { ...L, error_code: 'ServiceUnavailable' }, 1],
      ['infergate_upstream_attempts_total', { pool: 'default/llama' }, 3],
      ['infergate_upstream_failovers_total', { pool: 'default/llama' }, 2],
    ],
  },
  {
    name: 'an answer whose body the gateway did not see (extproc, response_body_mode NONE): timed, but no response size',
    records: [{ r: answered({ responseUnread: true, responseBytes: 0 }) }],
    expect: [
      ['llm_d_epp_request_duration_seconds_count', L, 1],
      ['llm_d_epp_response_size_bytes_count', L, undefined],
    ],
  },
  {
    name: 'the pod broke off a stream it had begun: ModelServerError (the pod failed), not ServiceUnavailable',
    records: [{ r: answered({ stream: true, firstTokenAt: 1100, status: 200, errorCode: 'upstream_unavailable' }) }],
    expect: [
      ['llm_d_epp_request_error_total', { ...L, error_code: 'ModelServerError' }, 1],
      ['llm_d_epp_request_error_total', { ...L, error_code: 'ServiceUnavailable' }, undefined],
    ],
  },
  {
    name: 'the client left mid-stream: counted, sized and released, no error, no latency or response size',
    records: [{ r: answered({ stream: true, firstTokenAt: 1100, clientGone: true }) }],
    expect: [
      ['llm_d_epp_request_total', L, 1],
      ['llm_d_epp_request_size_bytes_sum', L, 300],
      ['llm_d_epp_response_size_bytes_count', L, undefined],
      ['llm_d_epp_request_running', L, 0],
      ['llm_d_epp_request_error_total', {}, undefined],
      ['llm_d_epp_request_duration_seconds_count', L, undefined],
      ['llm_d_epp_request_ttft_seconds_count', {}, undefined],
    ],
  },
  {
    name: 'a shed request of negative priority with a fairness id: ResourceExhausted under its labels',
    records: [{ r: record({ model: LLAMA, priority: -1, fairnessId: 'tenant-a', status: 429, errorCode: 'request_shed', endedAt: 1001 }) }],
    expect: [['llm_d_epp_request_error_total', { model_name: LLAMA, fairness_id: 'tenant-a', priority: '-1', error_code: 'ResourceExhausted' }, 1]],
  },
  {
    name: 'a rewritten model: model_name as sent, target_model_name as sent upstream, and the decision',
    records: [{ r: answered({ model: 'llama', targetModel: LLAMA, rewriteName: 'canary' }) }],
    expect: [
      ['llm_d_epp_request_total', { model_name: 'llama', target_model_name: LLAMA }, 1],
      ['llm_d_epp_model_rewrite_decisions_total', { model_rewrite_name: 'canary', model_name: 'llama', target_model: LLAMA }, 1],
      ['inference_extension_model_rewrite_decisions_total', { model_rewrite_name: 'canary', model_name: 'llama', target_model: LLAMA }, 1],
    ],
  },
];

for (const c of cases) {
  test(`observer: ${c.name}`, async () => {
    const text = await observe(c.records);
    for (const [name, labels, want] of c.expect) {
      const got = sample(text, name, labels);
      if (want === undefined) assert.equal(got, undefined, `${name} ${JSON.stringify(labels)}`);
      else assert.ok(got !== undefined && Math.abs(got - want) < 1e-9, `${name} ${JSON.stringify(labels)}: got ${got}, want ${want}`);
    }
  });
}

test('observer: running goes up when scheduled and down when ended, per label set', async () => {
  const m = new GatewayMetrics();
  const a = answered({});
  const b = answered({ priority: 2 });
  m.observer.scheduled(a);
  m.observer.scheduled(b);
  let text = (await m.render()).text;
  assert.equal(sample(text, 'llm_d_epp_request_running', L), 1);
  assert.equal(sample(text, 'llm_d_epp_request_running', { ...L, priority: '2' }), 1);
  assert.equal(sample(text, 'inference_objective_running_requests', { model_name: LLAMA }), 2);
  m.observer.ended(a);
  text = (await m.render()).text;
  assert.equal(sample(text, 'llm_d_epp_request_running', L), 0);
  assert.equal(sample(text, 'inference_objective_running_requests', { model_name: LLAMA }), 1);
});

test('error codes: gateway codes map to llm-d codes; a model server status outside 2xx is ModelServerError; a client that left is none', () => {
  const table: [Partial<RequestRecord>, string | undefined][] = [
    [{ status: 404, errorCode: 'route_not_found' }, 'NotFound'],
    [{ status: 413, errorCode: 'request_too_large' }, 'BadRequest'],
    [{ status: 403, errorCode: 'admin_path_blocked' }, 'Forbidden'],
    [{ status: 503, errorCode: 'no_healthy_endpoint' }, 'ServiceUnavailable'],
    [{ status: 504, errorCode: 'upstream_timeout' }, 'ModelServerError'],
    [{ status: 500, errorCode: 'internal_error' }, 'Internal'],
    [{ status: 500, errorCode: 'some_future_code' }, 'Unknown'],
    [{ status: 400 }, 'ModelServerError'],
    [{ status: 200 }, undefined],
    [{ status: 200, clientGone: true }, undefined],
    [{}, undefined],
  ];
  for (const [r, want] of table) assert.equal(errorCodeOf(record(r)), want, JSON.stringify(r));
});

/** A request that was scheduled, answered with `status`, and ended: the observer's calls in order. */
function served(m: GatewayMetrics, r: Partial<RequestRecord>): void {
  const rec = record({ scheduledAt: 1000.5, endedAt: 1001, ...r });
  m.observer.scheduled!(rec);
  m.observer.ended(rec);
}

test('label caps: past 1000 model names new ones read `other`; names an InferenceModelRewrite configures never fold', async () => {
  const m = new GatewayMetrics();
  const rewrite = { rules: [{ models: ['late-alias'], targets: [{ modelRewrite: 'late-target', weight: 1 }] }] };
  for (let i = 0; i < 1000; i++) served(m, { model: `m-${i}`, status: 500 });
  m.observer.ended(record({ model: 'm-1000', status: 404, errorCode: 'model_not_found', endedAt: 1001 }));
  m.observer.ended(record({ model: 'm-1001', status: 404, errorCode: 'model_not_found', endedAt: 1001 }));
  m.observer.ended(record({ model: 'm-5', status: 404, errorCode: 'model_not_found', endedAt: 1001 }));
  m.configReloaded(true, { version: 7, pools: new Map(), warnings: [], rewrites: new Map([['default/llama', [rewrite]]]) } as unknown as ConfigSnapshot);
  m.observer.ended(record({ model: 'late-alias', targetModel: 'late-target', status: 404, errorCode: 'model_not_found', endedAt: 1001 }));
  const text = (await m.render()).text;
  assert.equal(sample(text, 'llm_d_epp_request_error_total', { model_name: 'other' }), 2);
  assert.equal(sample(text, 'llm_d_epp_request_error_total', { model_name: 'm-5', error_code: 'NotFound' }), 1, 'an admitted name keeps its label, refused or served');
  assert.equal(sample(text, 'llm_d_epp_request_error_total', { model_name: 'late-alias', target_model_name: 'late-target' }), 1);
  assert.equal(seriesCount(text, 'llm_d_epp_request_error_total'), 1003, "1000 names' 500s, m-5's 404, other's and late-alias's");
  assert.equal(sample(text, 'infergate_config_version'), 7);
  assert.equal(sample(text, 'infergate_config_reloads_total', { result: 'ok' }), 1);
});

test('label caps: past 1000 fairness ids new ones read `other`', async () => {
  const m = new GatewayMetrics();
  for (let i = 0; i < 1002; i++) served(m, { model: LLAMA, fairnessId: `f-${i}`, status: 429 });
  const text = (await m.render()).text;
  assert.equal(sample(text, 'llm_d_epp_request_error_total', { fairness_id: 'other' }), 2);
  assert.equal(sample(text, 'llm_d_epp_request_error_total', { fairness_id: 'f-999' }), 1);
  // GIE's twin has no fairness_id: one series.
  assert.equal(sample(text, 'inference_objective_request_error_total', { model_name: LLAMA }), 1002);
});

test('label caps: refused requests with made-up model names take at most 500 of the 1000 names; a model served afterwards keeps its own', async () => {
  const m = new GatewayMetrics();
  for (let i = 0; i < 1010; i++) m.observer.ended(record({ model: `made-up-${i}`, fairnessId: `f-${i}`, status: 404, errorCode: 'model_not_found', endedAt: 1001 }));
  served(m, { model: 'added-later', fairnessId: 'tenant-a', status: 200 });
  const text = (await m.render()).text;
  assert.equal(sample(text, 'llm_d_epp_request_error_total', { model_name: 'other', fairness_id: 'other' }), 510, 'names past the refused share fold');
  assert.equal(sample(text, 'llm_d_epp_request_error_total', { model_name: 'made-up-499', fairness_id: 'f-499' }), 1);
  assert.equal(sample(text, 'llm_d_epp_request_total', { model_name: 'added-later', fairness_id: 'tenant-a' }), 1, 'the served model and its fairness id have their own labels');
});
