/** Metric specs as llm-d writes them, engine maps (built-in and configured), and which engine a pod runs. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { pod } from '../../api/test-fixtures.js';
import { Endpoint } from '../datastore/endpoint.js';
import { compileEngineMetrics, engineMetricMaps, engineTypeOf, LEGACY_ENGINE_TYPE_LABEL, ENGINE_TYPE_LABEL } from './engine-metrics.js';
import { formatMetricSpec, matchingSamples, parseMetricSpec } from './metric-spec.js';
import type { Sample } from './prometheus-parser.js';

describe('parseMetricSpec', () => {
  const valid: { spec: string; name: string; labels: Record<string, string> }[] = [
    { spec: 'vllm:num_requests_waiting', name: 'vllm:num_requests_waiting', labels: {} },
    { spec: '  vllm:kv_cache_usage_perc  ', name: 'vllm:kv_cache_usage_perc', labels: {} },
    { spec: 'nv_trt_llm_request_metrics{request_type=waiting}', name: 'nv_trt_llm_request_metrics', labels: { request_type: 'waiting' } },
    { spec: 'nv_trt_llm_kv_cache_block_metrics{kv_cache_block_type="fraction"}', name: 'nv_trt_llm_kv_cache_block_metrics', labels: { kv_cache_block_type: 'fraction' } },
    { spec: 'm{a="x,y", b = z}', name: 'm', labels: { a: 'x,y', b: 'z' } },
    { spec: 'm{a="say \\"hi\\""}', name: 'm', labels: { a: 'say "hi"' } },
    { spec: 'm{}', name: 'm', labels: {} },
  ];
  for (const c of valid) {
    test(`accepts ${c.spec}`, () => assert.deepEqual(parseMetricSpec(c.spec), { name: c.name, labels: c.labels }));
  }

  const invalid: { spec: string; reason: RegExp }[] = [
    { spec: '', reason: /empty metric name/ },
    { spec: '{a="b"}', reason: /empty metric name/ },
    { spec: 'bad-name', reason: /is not a metric name/ },
    { spec: 'm{a="b"', reason: /must end the spec with \}/ },
    { spec: 'm{a="b"} extra', reason: /must end the spec/ },
    { spec: 'm{a}', reason: /expected label=value/ },
    { spec: 'm{a=}', reason: /empty value for label a/ },
    { spec: 'm{a!="b"}', reason: /only = matchers/ },
    { spec: 'm{a=~"b"}', reason: /only = matchers/ },
    { spec: 'm{a="b",a="c"}', reason: /given twice/ },
    { spec: 'm{1a="b"}', reason: /is not a label name/ },
  ];
  for (const c of invalid) {
    test(`rejects ${JSON.stringify(c.spec)}`, () => assert.throws(() => parseMetricSpec(c.spec), c.reason));
  }

  test('formatMetricSpec and matchingSamples', () => {
    const spec = parseMetricSpec('q{type=waiting}');
    assert.equal(formatMetricSpec(spec), 'q{type="waiting"}');
    const samples: Sample[] = [
      { labels: { type: 'waiting', model: 'a' }, value: 1 },
      { labels: { type: 'running' }, value: 2 },
      { labels: {}, value: 3 },
    ];
    assert.deepEqual(matchingSamples(spec, samples), [samples[0]]);
    assert.equal(matchingSamples(parseMetricSpec('q'), samples).length, 3);
    assert.deepEqual(matchingSamples(spec, undefined), []);
  });
});

describe('engine metric maps', () => {
  test('built-ins: vLLM with the old KV name as fallback, SGLang', () => {
    const maps = engineMetricMaps();
    assert.deepEqual([...maps.keys()], ['vllm', 'sglang']);
    const vllm = maps.get('vllm')!;
    assert.deepEqual(vllm.kvUsage.map((s) => s.name), ['vllm:kv_cache_usage_perc', 'vllm:gpu_cache_usage_perc']);
    assert.deepEqual(
      [...vllm.sampleNames].sort(),
      ['vllm:cache_config_info', 'vllm:gpu_cache_usage_perc', 'vllm:kv_cache_usage_perc', 'vllm:lora_requests_info', 'vllm:num_requests_running', 'vllm:num_requests_waiting'],
    );
    assert.equal(vllm.blockSizeLabel, 'block_size');
    assert.equal(vllm.numBlocksLabel, 'num_gpu_blocks');
    const sglang = maps.get('sglang')!;
    assert.deepEqual(sglang.lora, []);
    assert.deepEqual(sglang.cacheNumBlocks.map((s) => s.name), ['sglang:num_pages']);
  });

  test('a configured engine replaces the built-in of that name and adds others', () => {
    const maps = engineMetricMaps([
      { name: 'vllm', queuedRequestsSpec: 'vllm:num_requests_waiting{model_name="a"}', runningRequestsSpec: 'vllm:num_requests_running', kvUsageSpec: 'vllm:kv_cache_usage_perc' },
      { name: 'triton-tensorrt-llm', queuedRequestsSpec: 'nv_trt_llm_request_metrics{request_type=waiting}', kvUsageSpec: 'nv_trt_llm_kv_cache_block_metrics{kv_cache_block_type=fraction}' },
    ]);
    assert.deepEqual([...maps.keys()], ['vllm', 'sglang', 'triton-tensorrt-llm']);
    assert.deepEqual(maps.get('vllm')!.queued, [{ name: 'vllm:num_requests_waiting', labels: { model_name: 'a' } }]);
    assert.deepEqual(maps.get('vllm')!.lora, [], 'a replaced engine does not inherit the built-in LoRA spec');
    assert.deepEqual(maps.get('triton-tensorrt-llm')!.running, []);
  });

  test('a bad spec names the engine and field', () => {
    assert.throws(() => compileEngineMetrics({ name: 'x', kvUsageSpec: 'kv{a!="b"}' }), /^Error: engine x, kvUsageSpec: invalid metric spec/);
    assert.throws(() => compileEngineMetrics({ name: ' ' }), /needs a name/);
  });

  test('empty spec strings disable a field', () => {
    const map = compileEngineMetrics({ name: 'e', queuedRequestsSpec: 'q', loraSpec: '', cacheInfoSpec: [] });
    assert.deepEqual(map.lora, []);
    assert.deepEqual(map.cacheInfo, []);
    assert.deepEqual([...map.sampleNames], ['q']);
  });

  test('engineTypeOf reads llm-d label, then the GIE one, then the default', () => {
    const ep = (labels: Record<string, string>): Endpoint => new Endpoint(pod('p').labels(labels).ip('10.0.0.1').ready(), '10.0.0.1', 8000);
    assert.equal(engineTypeOf(ep({})), 'vllm');
    assert.equal(engineTypeOf(ep({}), 'sglang'), 'sglang');
    assert.equal(engineTypeOf(ep({ [LEGACY_ENGINE_TYPE_LABEL]: 'sglang' })), 'sglang');
    assert.equal(engineTypeOf(ep({ [LEGACY_ENGINE_TYPE_LABEL]: 'sglang', [ENGINE_TYPE_LABEL]: 'trtllm-serve' })), 'trtllm-serve');
  });
});
