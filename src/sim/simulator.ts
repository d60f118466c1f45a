/** Starts a vLLM-compatible simulator on node:http (or node:http2, h2c): an Engine that runs requests in steps, behind vLLM's HTTP API. */
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { EngineConfig } from './engine-config.js';
import type { SimulatorOptions } from './simulator-options.js';
import { seededRandom } from '../seeded-random.js';
import { ApiKeyGuard } from './api-key-guard.js';
import { DEFAULT_ENGINE_CONFIG } from './engine-config.js';
import { Engine } from './engine.js';
import { FailureInjector } from './failure-injection.js';
import { createH2cServer } from './h2c-server.js';
import { startKvEvents } from './kv-events/start-kv-events.js';
import { ResponseStore } from './response-store.js';
import { ServedModels } from './served-models.js';
import { createRequestListener } from './sim-router.js';
import { resolveSimulatorOptions } from './simulator-options.js';
import { Tokenizer } from './tokenizer.js';
import { VllmMetrics } from './vllm-metrics.js';

export type { SimulatorOptions } from './simulator-options.js';
export { resolveSimulatorOptions } from './simulator-options.js';

/** A listening simulator. */
export interface RunningSimulator {
  readonly host: string;
  /** The bound port (the real one when `port` was 0). */
  readonly port: number;
  /** Like `http://127.0.0.2:8000`, no trailing slash. */
  readonly url: string;
  /** As started (`loras` is the startup list; `/v1/load_lora_adapter` changes what is served, not this). */
  readonly options: Required<SimulatorOptions>;
  /** The KV-event sockets (`--kv-events-config`) as opened, real ports included; null when events are off. */
  readonly kvEvents: { readonly endpoint: string; readonly replayEndpoint: string | null } | null;
  /** Stops accepting, lets accepted requests (running and waiting) finish, then resolves; idempotent. */
  close(): Promise<void>;
  stats(): { running: number; waiting: number; totalRequests: number };
}

/** The engine's part of the options: every EngineConfig field is a simulator option of the same name. */
function engineConfigOf(options: Required<SimulatorOptions>): EngineConfig {
  const picked = Object.keys(DEFAULT_ENGINE_CONFIG).map((key) => [key, options[key as keyof EngineConfig]]);
  return Object.fromEntries(picked) as Pick<Required<SimulatorOptions>, keyof EngineConfig>;
}

/** Starts listening; rejects if the address cannot be bound (e.g. EADDRINUSE). */
export async function startSimulator(opts: SimulatorOptions): Promise<RunningSimulator> {
  const options = resolveSimulatorOptions(opts);
  const { model, loras, modelAliases, mode, maxTokensDefault, podName, seed } = options;
  const config = engineConfigOf(options);
  const metrics = new VllmMetrics(model, { maxModelLen: options.maxModelLen, maxLoras: config.maxLoras, blockSize: config.blockSize, numGpuBlocks: config.kvCacheSize });
  // Separate streams, so the number of requests (failure draws, replies) does not shift the step-time jitter.
  // One tokenizer for /tokenize, render and the engine's KV blocks, so all three give the same ids.
  const tokenizer = new Tokenizer(undefined, options.charsPerToken);
  const kvEvents = await startKvEvents({ ...options, blockSize: config.blockSize, enablePrefixCaching: config.enablePrefixCaching });
  const engine = new Engine(config, { observer: metrics, random: seededRandom(seed), tokenizer, kvEvents: kvEvents?.listener ?? null });
  const failures = new FailureInjector(options.failureInjectionRate, options.failureTypes, seededRandom(seed ^ 0x5bd1e995));
  // vLLM refuses to start when max_model_len exceeds what the KV cache holds (resolveSimulatorOptions checks it).
  const maxModelLen = options.maxModelLen;
  const created = Math.floor(Date.now() / 1000);
  let closing: Promise<void> | null = null;
  const listener = createRequestListener({
    engine, served: new ServedModels(model, loras, modelAliases, options.loraPaths, options.modelPath), mode, maxTokensDefault, maxModelLen, failures,
    random: seededRandom(seed ^ 0x27d4eb2f), podName, metrics, created,
    task: options.task, apiKeys: new ApiKeyGuard(options.apiKeys), embeddingDimensions: options.embeddingDimensions,
    tokenizer, responses: new ResponseStore(),
    isClosing: () => closing !== null,
  });

  // Responses not yet closed, so close() can wait for them like a draining pod. A count, not a Set of them: a Set
  // with a member per request keeps every request alive through scavenges once its table is old (src/live-list.ts).
  let inFlight = 0;
  let onIdle: (() => void) | null = null;
  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    inFlight++;
    res.once('close', () => {
      if (--inFlight === 0) onIdle?.();
    });
    listener(req, res);
  };
  const h2c = options.h2c ? createH2cServer(handle, () => closing !== null) : undefined;
  const server = h2c?.server ?? createServer(handle);

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  }).catch(async (err: unknown) => {
    await kvEvents?.close();
    throw err;
  });
  const port = (server.address() as AddressInfo).port;
  const hostInUrl = options.host.includes(':') ? `[${options.host}]` : options.host;

  const shutdown = async (): Promise<void> => {
    const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
    if (inFlight > 0) await new Promise<void>((resolve) => (onIdle = resolve));
    // Finished keep-alive connections (HTTP/2 sessions) would otherwise hold server.close() open until they time out.
    if (h2c) h2c.closeSessions();
    else (server as Server).closeAllConnections();
    await stopped;
    engine.close();
    await kvEvents?.close();
  };

  return {
    host: options.host,
    port,
    url: `http://${hostInUrl}:${port}`,
    options,
    kvEvents: kvEvents === null ? null : { endpoint: kvEvents.endpoint, replayEndpoint: kvEvents.replayEndpoint },
    close: () => (closing ??= shutdown()),
    stats: () => ({ running: engine.running, waiting: engine.waiting, totalRequests: engine.submitted }),
  };
}
