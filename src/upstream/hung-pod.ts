/**
 * Test kit: the failure upstream timeouts and outlier detection exist for. A pod that accepts connections and
 * requests and never answers a generation (or, `stallAfterHeaders`, answers a stream's headers and first chunk
 * and then goes quiet), while its `GET /v1/models` and `/metrics` answer at once and look idle.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { FakeEngine } from '../epp/fake-engine.js';

export interface HungPodOptions {
  host: string;
  /** 0 for any free port; a pool's targetPort to stand beside simulated pods. */
  port?: number;
  model: string;
  /** Send a stream's headers and its role chunk, then nothing: a stream that stalls mid-way. */
  stallAfterHeaders?: boolean;
}

export interface HungPod {
  readonly host: string;
  readonly port: number;
  /** Generation requests received (each one held, never finished). */
  readonly held: () => number;
  close(): Promise<void>;
}

export async function startHungPod(opts: HungPodOptions): Promise<HungPod> {
  const engine = new FakeEngine(opts.host);
  let held = 0;
  const probes = idleVllmProbes(opts.model);
  engine.handler = (req, res) => {
    if (probes(req, res)) return;
    held++;
    // Read the body, as a server that accepted the request would, and then say nothing.
    req.resume();
    if (opts.stallAfterHeaders) {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(`data: ${JSON.stringify({ id: 'stalled', object: 'chat.completion.chunk', model: opts.model, choices: [{ index: 0, delta: { role: 'assistant', content: '' } }] })}\n\n`);
    }
  };
  const port = await engine.listen(opts.port ?? 0);
  return { host: opts.host, port, held: () => held, close: () => engine.close() };
}

/**
 * Answers the gateway's probes of a pod serving `model` as an idle vLLM would: `GET /v1/models` lists the model,
 * `GET /metrics` reports nothing running or waiting. The returned function answers a probe and returns true, or
 * returns false for any other request, for the fake engine's handler to answer.
 */
export function idleVllmProbes(model: string): (req: IncomingMessage, res: ServerResponse) => boolean {
  const models = JSON.stringify({ object: 'list', data: [{ id: model, object: 'model', owned_by: 'vllm', root: model, parent: null }] });
  const metrics = idleVllmMetrics(model);
  return (req, res) => {
    const path = (req.url ?? '/').split('?', 1)[0];
    if (req.method !== 'GET' || (path !== '/v1/models' && path !== '/metrics')) return false;
    if (path === '/v1/models') send(res, 'application/json', models);
    else send(res, 'text/plain; version=0.0.4', metrics);
    return true;
  };
}

function send(res: ServerResponse, type: string, body: string): void {
  res.writeHead(200, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/** What an idle vLLM reports: nothing running, nothing waiting, an empty KV cache. */
function idleVllmMetrics(model: string): string {
  const label = `{model_name="${model}"}`;
  return [
    '# TYPE vllm:num_requests_running gauge',
    `vllm:num_requests_running${label} 0.0`,
    '# TYPE vllm:num_requests_waiting gauge',
    `vllm:num_requests_waiting${label} 0.0`,
    '# TYPE vllm:kv_cache_usage_perc gauge',
    `vllm:kv_cache_usage_perc${label} 0.0`,
    '',
  ].join('\n');
}
