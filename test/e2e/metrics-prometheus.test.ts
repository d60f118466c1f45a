/**
 * A real Prometheus server (Debian's `prometheus` package, started here on loopback) scrapes a running
 * gateway's admin port every second while a known load goes through it with the openai client, streamed with
 * include_usage and not: every series is there, counts are exact, a rate and histogram quantiles come out as
 * Prometheus computes them from the buckets; `promtool check metrics` finds nothing but its lint on llm-d's
 * own `llm_d_` prefix. Loopback 127.0.70.x (pods) and 127.0.71.x (gateway, Prometheus) only.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { baseModelRouteYaml, podYaml, poolYaml, startFleet, startTestGateway, tempConfig, waitFor } from '../helpers/fleet.js';

const LLAMA = 'meta-llama/Llama-3.1-8B-Instruct';
const GATEWAY_HOST = '127.0.71.1';
const PROMETHEUS_HOST = '127.0.71.2';
const MAX_TOKENS = 5;
/** The load measured by the rate and quantiles, after a first phase that creates every series. */
const PHASE2_STREAMED = 10;
const PHASE2_WHOLE = 10;

/** The path of a binary the test needs, or a failure naming the Debian package to install. */
function binary(name: string): string {
  const r = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  const path = r.stdout.trim();
  if (r.status !== 0 || path === '') {
    assert.fail(`${name} is not installed: this test runs a real Prometheus server. Install Debian's prometheus package (apt-get install -y prometheus, which brings promtool too); npm test and .ci/run do it when they can (scripts/ensure-test-servers.sh).`);
  }
  return path;
}

/** A free port on `host`: bound, read and released (the address is this test file's alone). */
async function freePort(host: string): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve, reject) => s.once('error', reject).listen(0, host, () => resolve()));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

interface PromSample {
  metric: Record<string, string>;
  value: [number, string];
}

class PrometheusApi {
  constructor(readonly url: string) {}

  async query(q: string, time?: number): Promise<PromSample[]> {
    const params = new URLSearchParams({ query: q, ...(time !== undefined ? { time: String(time) } : {}) });
    const res = await fetch(`${this.url}/api/v1/query?${params}`);
    const body = (await res.json()) as { status: string; error?: string; data: { resultType: string; result: PromSample[] } };
    assert.equal(body.status, 'success', `${q}: ${body.error}`);
    return body.data.result;
  }

  /** The value of a query that yields one sample; undefined when it yields none. */
  async value(q: string, time?: number): Promise<number | undefined> {
    const r = await this.query(q, time);
    assert.ok(r.length <= 1, `${q} gave ${r.length} samples: ${JSON.stringify(r.map((s) => s.metric))}`);
    return r[0] ? Number(r[0].value[1]) : undefined;
  }
}

function startPrometheus(bin: string, configFile: string, dataDir: string, port: number): { child: ChildProcess; log: () => string } {
  let log = '';
  const child = spawn(bin, [`--config.file=${configFile}`, `--storage.tsdb.path=${dataDir}`, `--web.listen-address=${PROMETHEUS_HOST}:${port}`, '--log.level=warn', '--storage.tsdb.retention.time=1h'], { stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr!.on('data', (c: Buffer) => {
    if (log.length < 20_000) log += c.toString();
  });
  return { child, log: () => log };
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

/** Every family the load and the gateway's state must show (cached tokens need a server that reports them; the simulator does not). */
const EXPECTED_SERIES = [
  'llm_d_epp_info',
  'llm_d_epp_request_total',
  'llm_d_epp_request_error_total',
  'llm_d_epp_request_duration_seconds_bucket',
  'llm_d_epp_request_size_bytes_bucket',
  'llm_d_epp_response_size_bytes_bucket',
  'llm_d_epp_request_input_tokens_bucket',
  'llm_d_epp_request_output_tokens_bucket',
  'llm_d_epp_request_running',
  'llm_d_epp_request_ntpot_seconds_bucket',
  'llm_d_epp_request_ttft_seconds_bucket',
  'llm_d_epp_request_streaming_tpot_seconds_bucket',
  'llm_d_epp_request_streaming_itl_seconds_bucket',
  'llm_d_epp_request_processing_duration_seconds_bucket',
  'llm_d_epp_average_kv_cache_utilization',
  'llm_d_epp_average_queue_size',
  'llm_d_epp_average_running_requests',
  'llm_d_epp_std_dev_kv_cache_utilization',
  'llm_d_epp_std_dev_queue_size',
  'llm_d_epp_std_dev_running_requests',
  'llm_d_epp_ready_endpoints',
  'llm_d_epp_per_endpoint_queue_size',
  'llm_d_epp_scheduler_e2e_duration_seconds_bucket',
  'llm_d_epp_scheduler_attempts_total',
  'llm_d_epp_plugin_duration_seconds_bucket',
  'llm_d_epp_prefix_indexer_size',
  'llm_d_epp_prefix_indexer_hit_ratio_bucket',
  'llm_d_epp_prefix_indexer_hit_bytes_bucket',
  'inference_objective_request_total',
  'inference_objective_request_error_total',
  'inference_objective_request_duration_seconds_bucket',
  'inference_objective_request_sizes_bucket',
  'inference_objective_response_sizes_bucket',
  'inference_objective_input_tokens_bucket',
  'inference_objective_output_tokens_bucket',
  'inference_objective_running_requests',
  'inference_objective_normalized_time_per_output_token_seconds_bucket',
  'inference_objective_request_ttft_seconds_bucket',
  'inference_objective_request_tpot_seconds_bucket',
  'inference_pool_average_kv_cache_utilization',
  'inference_pool_average_queue_size',
  'inference_pool_average_running_requests',
  'inference_pool_ready_pods',
  'inference_pool_per_pod_queue_size',
  'inference_extension_info',
  'inference_extension_scheduler_e2e_duration_seconds_bucket',
  'inference_extension_scheduler_attempts_total',
  'inference_extension_plugin_duration_seconds_bucket',
  'inference_extension_prefix_indexer_size',
  'inference_extension_prefix_indexer_hit_ratio_bucket',
  'inference_extension_prefix_indexer_hit_bytes_bucket',
  'bbr_info',
  'bbr_success_total',
  'bbr_body_field_not_found_total',
  'bbr_body_field_empty_total',
  'infergate_upstream_attempts_total',
  'infergate_upstream_failovers_total',
  'infergate_upstream_responses_total',
  'infergate_upstream_connect_failures_total',
  'infergate_endpoint_held_out',
  'infergate_endpoint_metrics_stale',
  'infergate_endpoint_metrics_age_seconds',
  'infergate_endpoint_scrape_failures_total',
  'infergate_endpoint_discovery_state',
  'infergate_endpoint_served_models',
  'infergate_endpoint_in_flight_requests',
  'infergate_pool_saturation',
  'infergate_outlier_ejections_total',
  'infergate_outlier_ejections_overflow_total',
  'infergate_config_reloads_total',
  'infergate_config_last_reload_successful',
  'infergate_config_last_reload_success_timestamp_seconds',
  'infergate_config_version',
  'infergate_config_change_held',
];

test('a real Prometheus scrapes the admin port: every series, exact counts, a rate and histogram quantiles', { timeout: 120_000 }, async () => {
  const prometheusBin = binary('prometheus');
  const promtoolBin = binary('promtool');
  const fleet = await startFleet(70, [
    { name: 'llama-0', labels: {}, model: LLAMA, ttftMs: 5, itlMs: 2 },
    { name: 'llama-1', labels: {}, model: LLAMA, ttftMs: 5, itlMs: 2 },
  ]);
  const docs = [podYaml('llama-0', fleet.ipOf('llama-0'), { app: 'llama' }), podYaml('llama-1', fleet.ipOf('llama-1'), { app: 'llama' }), poolYaml('llama', { app: 'llama' }, fleet.port), baseModelRouteYaml('llama', LLAMA, [['llama', 1]])];
  const cfg = await tempConfig({ 'llama.yaml': docs.join('---\n') });
  const gw = await startTestGateway(cfg.dir, { host: GATEWAY_HOST });
  const promDir = await mkdtemp(join(tmpdir(), 'infergate-prometheus-'));
  let prom: ReturnType<typeof startPrometheus> | undefined;
  try {
    assert.ok(gw.adminUrl?.startsWith(`http://${GATEWAY_HOST}:`), `the admin listener binds --host by default: ${gw.adminUrl}`);
    const adminTarget = new URL(gw.adminUrl!).host;
    const configFile = join(promDir, 'prometheus.yml');
    await writeFile(configFile, ['global:', '  scrape_interval: 1s', '  scrape_timeout: 1s', '  evaluation_interval: 1s', 'scrape_configs:', '  - job_name: infergate', '    static_configs:', `      - targets: ['${adminTarget}']`, ''].join('\n'));
    const port = await freePort(PROMETHEUS_HOST);
    prom = startPrometheus(prometheusBin, configFile, join(promDir, 'data'), port);
    const api = new PrometheusApi(`http://${PROMETHEUS_HOST}:${port}`);
    const ready = await waitFor(async () => (await fetch(`${api.url}/-/ready`).catch(() => undefined))?.status === 200, 20_000);
    assert.ok(ready, `Prometheus did not become ready: ${prom.log()}`);
    assert.ok(await waitFor(async () => (await api.value('up{job="infergate"}')) === 1, 15_000), `the gateway's admin port was not scraped: ${prom.log()}`);

    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    const outputTokens: number[] = [];
    const whole = async (): Promise<void> => {
      const r = await client.chat.completions.create({ model: LLAMA, messages: [{ role: 'user', content: 'count to five' }], max_tokens: MAX_TOKENS });
      outputTokens.push(r.usage!.completion_tokens);
    };
    const streamed = async (): Promise<void> => {
      const s = await client.chat.completions.create({ model: LLAMA, messages: [{ role: 'user', content: 'count to five' }], max_tokens: MAX_TOKENS, stream: true, stream_options: { include_usage: true } });
      for await (const chunk of s) if (chunk.usage) outputTokens.push(chunk.usage.completion_tokens);
    };

    // Phase 1: one of each, and three refused before scheduling (two unknown models, one body without a model).
    await whole();
    await streamed();
    for (let i = 0; i < 2; i++) await assert.rejects(client.chat.completions.create({ model: 'no/such-model', messages: [{ role: 'user', content: 'x' }] }), OpenAI.NotFoundError);
    const noModel = await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ messages: [] }) });
    assert.equal(noModel.status, 400);
    assert.ok(await waitFor(async () => (await api.value('sum(llm_d_epp_request_total)')) === 2, 15_000), 'phase 1 did not show in Prometheus (is the data plane reporting to the metrics observer?)');
    // A few scrapes with the series in place: the rate below then has samples before the load it measures.
    await new Promise((r) => setTimeout(r, 3000));

    const t0 = Date.now() / 1000;
    for (let i = 0; i < PHASE2_WHOLE; i++) await whole();
    for (let i = 0; i < PHASE2_STREAMED; i++) await streamed();
    const total = 2 + PHASE2_WHOLE + PHASE2_STREAMED;
    assert.ok(await waitFor(async () => (await api.value('sum(llm_d_epp_request_total)')) === total, 15_000), 'phase 2 did not show in Prometheus');
    await new Promise((r) => setTimeout(r, 2500));
    const t1 = Date.now() / 1000;
    assert.deepEqual(new Set(outputTokens), new Set([MAX_TOKENS]), 'the simulator generates exactly max_tokens');
    assert.equal(outputTokens.length, total);

    // Every series.
    const names = new Set((await api.query('group by (__name__) ({__name__=~"llm_d_epp_.+|inference_.+|bbr_.+|infergate_.+"})', t1)).map((s) => s.metric.__name__!));
    assert.deepEqual(EXPECTED_SERIES.filter((n) => !names.has(n)), [], 'series missing in Prometheus');
    // The process's own, as every client library names them; the loop delay is sampled from the first scrape on.
    const processNames = new Set((await api.query('group by (__name__) ({__name__=~"process_.+|nodejs_.+|infergate_event_loop_.+"})', t1)).map((s) => s.metric.__name__!));
    const PROCESS_SERIES = ['process_cpu_seconds_total', 'infergate_event_loop_busy_seconds_total', 'process_resident_memory_bytes', 'process_open_fds', 'process_max_fds', 'process_start_time_seconds', 'nodejs_heap_size_used_bytes', 'nodejs_eventloop_lag_p99_seconds', 'nodejs_version_info'];
    assert.deepEqual(PROCESS_SERIES.filter((n) => !processNames.has(n)), [], 'process series missing in Prometheus');
    const cpu = await api.query('rate(process_cpu_seconds_total[30s])', t1);
    assert.ok(cpu.length === 1 && Number(cpu[0]!.value[1]) > 0, `Prometheus computes the gateway's CPU rate: ${JSON.stringify(cpu)}`);

    // Exact counts for the known load.
    const L = `model_name="${LLAMA}",target_model_name="${LLAMA}"`;
    const exact: [string, number][] = [
      [`llm_d_epp_request_total{${L},fairness_id="default-flow",priority="0"}`, total],
      ['sum(inference_objective_request_total)', total],
      ['sum(llm_d_epp_request_error_total{error_code="NotFound",model_name="no/such-model"})', 2],
      ['sum(inference_objective_request_error_total{error_code="NotFound"})', 2],
      ['sum(llm_d_epp_request_error_total{error_code="BadRequest",model_name=""})', 1],
      ['sum(llm_d_epp_request_error_total{model_name="' + LLAMA + '"}) or vector(0)', 0],
      ['sum(llm_d_epp_request_running)', 0],
      ['sum(inference_objective_running_requests)', 0],
      ['sum(llm_d_epp_request_duration_seconds_count)', total],
      ['sum(llm_d_epp_request_ttft_seconds_count{streaming="true"})', 1 + PHASE2_STREAMED],
      ['sum(llm_d_epp_request_ttft_seconds_count{streaming="false"})', 1 + PHASE2_WHOLE],
      ['sum(inference_objective_request_ttft_seconds_count)', total],
      ['sum(llm_d_epp_request_streaming_tpot_seconds_count)', 1 + PHASE2_STREAMED],
      ['sum(llm_d_epp_request_output_tokens_count)', total],
      ['sum(llm_d_epp_request_output_tokens_sum)', total * MAX_TOKENS],
      ['sum(inference_objective_output_tokens_sum)', total * MAX_TOKENS],
      ['sum(llm_d_epp_request_input_tokens_count)', total],
      ['sum(llm_d_epp_request_ntpot_seconds_count)', total],
      ['sum(llm_d_epp_scheduler_attempts_total{status="success"})', total],
      ['sum(inference_extension_scheduler_attempts_total{status="success"})', total],
      ['sum(llm_d_epp_scheduler_e2e_duration_seconds_count)', total],
      // Every pick's match is recorded (the ratio only for prompts of a block or more: these are shorter).
      ['sum(llm_d_epp_prefix_indexer_hit_bytes_count)', total],
      ['bbr_success_total', total + 2],
      ['bbr_body_field_not_found_total{field="model"}', 1],
      ['bbr_body_field_empty_total{field="model"}', 0],
      ['llm_d_epp_ready_endpoints{name="llama"}', 2],
      ['inference_pool_ready_pods{name="llama"}', 2],
      ['count(llm_d_epp_per_endpoint_queue_size{name="llama"})', 2],
      ['infergate_upstream_attempts_total{pool="default/llama"}', total],
      ['infergate_upstream_failovers_total{pool="default/llama"}', 0],
      ['sum(infergate_endpoint_held_out)', 0],
      ['sum(infergate_endpoint_discovery_state{state="ok"})', 2],
      ['infergate_config_reloads_total{result="ok"}', 1],
      ['infergate_config_last_reload_successful', 1],
      ['infergate_config_version', gw.gateway.state!.snapshot.version],
    ];
    for (const [q, want] of exact) assert.equal(await api.value(q, t1), want, q);

    // A rate: the phase-2 requests over a window that starts before them. Prometheus extrapolates the increase
    // between the first and last samples in the window to its edges, by at most one scrape interval at each.
    const window = Math.ceil(t1 - t0) + 2;
    const phase2 = PHASE2_WHOLE + PHASE2_STREAMED;
    const rate = await api.value(`sum(rate(llm_d_epp_request_total[${window}s]))`, t1);
    assert.ok(rate !== undefined && rate * window >= phase2 - 0.01 && rate * window <= phase2 * (window / (window - 2)) + 0.01, `rate ${rate}/s over ${window}s for ${phase2} requests`);

    // Histogram quantiles: every answer had 5 output tokens, in bucket (1, 8]; Prometheus interpolates linearly
    // inside it: q -> 1 + 7q. The same from the rate of the buckets over the window, and from GIE's twin.
    const quantile = async (q: number, expr: string): Promise<number | undefined> => api.value(`histogram_quantile(${q}, sum by (le) (${expr}))`, t1);
    assert.equal(await quantile(0.5, 'llm_d_epp_request_output_tokens_bucket'), 4.5);
    assert.ok(Math.abs((await quantile(0.9, 'llm_d_epp_request_output_tokens_bucket'))! - 7.3) < 1e-9);
    assert.equal(await quantile(0.5, `rate(llm_d_epp_request_output_tokens_bucket[${window}s])`), 4.5);
    assert.equal(await quantile(0.5, 'inference_objective_output_tokens_bucket'), 4.5);
    const p99 = await quantile(0.99, 'llm_d_epp_request_duration_seconds_bucket');
    assert.ok(p99 !== undefined && p99 > 0 && p99 <= 1, `p99 request duration ${p99} s (the simulator answers in tens of ms)`);

    // promtool: only its abbreviated-units lint on llm-d's `llm_d_` prefix.
    const text = await (await fetch(`${gw.adminUrl}/metrics`)).text();
    const lint = spawnSync(promtoolBin, ['check', 'metrics'], { input: text, encoding: 'utf8' });
    const problems = `${lint.stdout}${lint.stderr}`.split('\n').filter((l) => l.trim() !== '');
    assert.deepEqual(problems.filter((l) => !/^llm_d_\S+ metric names should not contain abbreviated units$/.test(l)), [], 'promtool check metrics');
    assert.ok(problems.length > 0, 'promtool reports the llm_d_ prefix (a sign it ran)');

    // A configuration change that cannot be read: rejected, the last good one stays.
    await cfg.write('broken.yaml', 'apiVersion: inference.networking.k8s.io/v1\nkind: InferencePool\nmetadata: {name: broken}\nspec: {targetPorts: [{number: 99999}]}\n');
    assert.ok(await waitFor(async () => (await api.value('infergate_config_reloads_total{result="rejected"}')) === 1, 15_000), 'the rejected reload did not show');
    assert.equal(await api.value('infergate_config_last_reload_successful'), 0);
    assert.equal(await api.value('infergate_config_reloads_total{result="ok"}'), 1);
  } finally {
    if (prom) await stop(prom.child);
    await gw.close();
    await fleet.close();
    await cfg.remove();
    await rm(promDir, { recursive: true, force: true });
  }
});
