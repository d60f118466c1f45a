/** extractEndpointMetrics: each golden fixture to its EndpointMetrics, then the aggregation rules case by case. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { EngineReading } from './extract-endpoint-metrics.js';
import { extractEndpointMetrics } from './extract-endpoint-metrics.js';
import { compileEngineMetrics, engineMetricMaps } from './engine-metrics.js';
import { parsePrometheusText } from './prometheus-parser.js';
import type { FixtureName } from './test-fixtures.js';
import { readFixture } from './test-fixtures.js';

const maps = engineMetricMaps();
const vllm = maps.get('vllm')!;
const sglang = maps.get('sglang')!;

describe('golden fixtures -> EndpointMetrics', () => {
  const cases: { file: FixtureName; engine: string; want: EngineReading }[] = [
    {
      file: 'vllm-recent.prom',
      engine: 'vllm',
      // Two data-parallel engines: queues add up (3+4, 12+10), KV is the fuller one's.
      want: { waitingQueueSize: 7, runningQueueSize: 22, kvCacheUsagePercent: 0.6875, runningLoras: ['sql-lora', 'chat-lora'], waitingLoras: ['summ-lora'], maxLoras: 4, blockSize: 16, numGpuBlocks: 27873 },
    },
    {
      file: 'vllm-legacy.prom',
      engine: 'vllm',
      want: { waitingQueueSize: 2, runningQueueSize: 5, kvCacheUsagePercent: 0.21342936930936646, runningLoras: ['sql-lora', 'chat-lora'], waitingLoras: ['summ-lora'], maxLoras: 2, blockSize: 16, numGpuBlocks: 7341 },
    },
    {
      file: 'sglang.prom',
      engine: 'sglang',
      want: { waitingQueueSize: 4, runningQueueSize: 8, kvCacheUsagePercent: 0.52, runningLoras: [], waitingLoras: [], maxLoras: 0, blockSize: 1, numGpuBlocks: 200000 },
    },
    {
      file: 'malformed.prom',
      engine: 'vllm',
      // The NaN KV series is ignored; "a,,b" loses its empty entry; block_size="sixteen" is not reported.
      want: { waitingQueueSize: 2, runningQueueSize: 6, kvCacheUsagePercent: 0.25, runningLoras: ['a', 'b'], waitingLoras: [], maxLoras: 3, numGpuBlocks: 1024 },
    },
  ];
  for (const c of cases) {
    const map = maps.get(c.engine)!;
    test(`${c.file} (${c.engine})`, () => {
      const text = readFixture(c.file);
      assert.deepEqual(extractEndpointMetrics(parsePrometheusText(text), map), c.want);
      // What the scraper does: parse only the map's names. Same answer.
      assert.deepEqual(extractEndpointMetrics(parsePrometheusText(text, { keep: map.sampleNames }), map), c.want);
    });
  }

  test('vLLM read with the SGLang map fails, naming what is missing', () => {
    const exp = parsePrometheusText(readFixture('vllm-recent.prom'), { keep: sglang.sampleNames });
    assert.throws(
      () => extractEndpointMetrics(exp, sglang),
      /^Error: \/metrics has no sglang:num_queue_reqs, sglang:num_running_reqs, sglang:token_usage \(engine sglang; it reported no samples\)\. If the pod runs another engine, label it llm-d\.ai\/engine-type=<engine>$/,
    );
  });
});

describe('aggregation rules', () => {
  const read = (text: string, map = vllm): EngineReading => extractEndpointMetrics(parsePrometheusText(text), map);
  const base = 'vllm:num_requests_waiting 0\nvllm:num_requests_running 0\nvllm:kv_cache_usage_perc 0\n';

  const cases: { name: string; text: string; want: Partial<EngineReading> }[] = [
    {
      name: 'queues summed over model_name series, KV max',
      text: 'vllm:num_requests_waiting{model_name="a"} 2\nvllm:num_requests_waiting{model_name="b"} 5\nvllm:num_requests_running{model_name="a"} 1\nvllm:kv_cache_usage_perc{model_name="a"} 0.2\nvllm:kv_cache_usage_perc{model_name="b"} 0.7\n',
      want: { waitingQueueSize: 7, runningQueueSize: 1, kvCacheUsagePercent: 0.7 },
    },
    {
      name: 'the new KV name wins over the old when both are exported',
      text: 'vllm:num_requests_waiting 0\nvllm:num_requests_running 0\nvllm:gpu_cache_usage_perc 0.9\nvllm:kv_cache_usage_perc 0.1\n',
      want: { kvCacheUsagePercent: 0.1 },
    },
    {
      name: 'a NaN new KV gauge falls back to the old name',
      text: 'vllm:num_requests_waiting 0\nvllm:num_requests_running 0\nvllm:kv_cache_usage_perc NaN\nvllm:gpu_cache_usage_perc 0.3\n',
      want: { kvCacheUsagePercent: 0.3 },
    },
    {
      name: 'out-of-range values are clamped, fractional queues rounded',
      text: 'vllm:num_requests_waiting -3\nvllm:num_requests_running 2.6\nvllm:kv_cache_usage_perc 87.5\n',
      want: { waitingQueueSize: 0, runningQueueSize: 3, kvCacheUsagePercent: 1 },
    },
    {
      name: 'LoRA: largest value wins wherever it is, blanks and empties dropped',
      text: `${base}vllm:lora_requests_info{max_lora="8",running_lora_adapters=" x , ,y,",waiting_lora_adapters=","} 20\nvllm:lora_requests_info{max_lora="1",running_lora_adapters="old",waiting_lora_adapters=""} 10\n`,
      want: { runningLoras: ['x', 'y'], waitingLoras: [], maxLoras: 8 },
    },
    {
      name: 'LoRA without max_lora',
      text: `${base}vllm:lora_requests_info{running_lora_adapters="a"} 1\n`,
      want: { runningLoras: ['a'], maxLoras: 0 },
    },
    {
      name: 'cache info with a zero block count reports none',
      text: `${base}vllm:cache_config_info{block_size="32",num_gpu_blocks="0"} 1\n`,
      want: { blockSize: 32 },
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const got = read(c.text);
      for (const [k, v] of Object.entries(c.want)) assert.deepEqual(got[k as keyof EngineReading], v, k);
    });
  }

  test('a spec with labels reads only matching series', () => {
    const map = compileEngineMetrics({
      name: 'trt',
      queuedRequestsSpec: 'nv_trt_llm_request_metrics{request_type=waiting}',
      runningRequestsSpec: 'nv_trt_llm_request_metrics{request_type=scheduled}',
      kvUsageSpec: 'nv_trt_llm_kv_cache_block_metrics{kv_cache_block_type=fraction}',
      cacheBlockSizeSpec: 'nv_trt_llm_kv_cache_block_metrics{kv_cache_block_type=tokens_per}',
    });
    const text = [
      'nv_trt_llm_request_metrics{model="m",request_type="waiting"} 9',
      'nv_trt_llm_request_metrics{model="m",request_type="scheduled"} 4',
      'nv_trt_llm_request_metrics{model="m",request_type="context"} 100',
      'nv_trt_llm_kv_cache_block_metrics{kv_cache_block_type="fraction"} 0.5',
      'nv_trt_llm_kv_cache_block_metrics{kv_cache_block_type="max"} 4000',
      'nv_trt_llm_kv_cache_block_metrics{kv_cache_block_type="tokens_per"} 64',
    ].join('\n');
    assert.deepEqual(read(text, map), { waitingQueueSize: 9, runningQueueSize: 4, kvCacheUsagePercent: 0.5, runningLoras: [], waitingLoras: [], maxLoras: 0, blockSize: 64 });
  });

  test('fields a map does not configure read as 0 without failing', () => {
    const map = compileEngineMetrics({ name: 'triton', queuedRequestsSpec: 'nv_inference_pending_request_count' });
    assert.deepEqual(read('nv_inference_pending_request_count{model="m"} 3\n', map), { waitingQueueSize: 3, runningQueueSize: 0, kvCacheUsagePercent: 0, runningLoras: [], waitingLoras: [], maxLoras: 0 });
  });

  test('a gauge reported without a number fails saying so, not that it is missing', () => {
    assert.throws(
      () => read('vllm:num_requests_waiting 1\nvllm:num_requests_running 1\nvllm:kv_cache_usage_perc NaN\n'),
      /^Error: \/metrics has no vllm:kv_cache_usage_perc or vllm:gpu_cache_usage_perc \(reported, but as NaN, not a number the picker can use\) \(engine vllm;/,
    );
  });

  test('a missing gauge fails, listing the fallbacks and what was there', () => {
    assert.throws(() => read('vllm:num_requests_waiting 1\nvllm:num_requests_running 1\ngo_goroutines 12\n'), /no vllm:kv_cache_usage_perc or vllm:gpu_cache_usage_perc \(engine vllm; it reported 3 metrics, e\.g\. vllm:num_requests_waiting, vllm:num_requests_running, go_goroutines\)/);
  });
});
