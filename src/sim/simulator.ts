/** Starts a vLLM-compatible simulator on node:http: an Engine that admits requests, behind a vLLM-shaped HTTP API. */
import { createServer } from 'node:http';
import type { ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ReplyMode } from './reply-text.js';
import { Engine } from './engine.js';
import { createRequestListener } from './sim-router.js';
import { VllmMetrics } from './vllm-metrics.js';

/** How to run one simulated vLLM pod. */
export interface SimulatorOptions {
  /** Base model name served. */
  model: string;
  /** LoRA adapter names; each one's `parent` is `model`. */
  loras?: string[];
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 8000; 0 picks an ephemeral port. */
  port?: number;
  /** Sent back as header `x-inference-pod` on every response; '' (the default) sends none. */
  podName?: string;
  /** Default 5: at most this many requests generate at once, the rest wait FIFO. */
  maxNumSeqs?: number;
  /** Time to first token once a slot is free, in milliseconds (default 10). */
  ttftMs?: number;
  /** Inter-token latency in milliseconds (default 2). */
  itlMs?: number;
  /** echo: reply with the last user message or the prompt; random: canned sentences. Default random. */
  mode?: ReplyMode;
  /** Random mode's length when the request has no max_tokens (default 16); echo always echoes the whole input. */
  maxTokensDefault?: number;
}

/** A listening simulator. */
export interface RunningSimulator {
  readonly host: string;
  /** The bound port (the real one when `port` was 0). */
  readonly port: number;
  /** Like `http://127.0.0.2:8000`, no trailing slash. */
  readonly url: string;
  readonly options: Required<SimulatorOptions>;
  /** Stops accepting, lets accepted requests (running and waiting) finish, then resolves; idempotent. */
  close(): Promise<void>;
  stats(): { running: number; waiting: number; totalRequests: number };
}

function nonNegative(name: string, value: number, integer: boolean): number {
  if (!Number.isFinite(value) || value < 0 || (integer && !Number.isInteger(value))) {
    throw new RangeError(`${name} must be a non-negative ${integer ? 'integer' : 'number'}, got ${value}`);
  }
  return value;
}

/** Fills in defaults and rejects options a pod could not run with. */
export function resolveSimulatorOptions(opts: SimulatorOptions): Required<SimulatorOptions> {
  if (typeof opts.model !== 'string' || opts.model === '') throw new TypeError('model must be a non-empty string');
  const loras = [...new Set(opts.loras ?? [])];
  if (loras.some((l) => l === '' || l === opts.model)) {
    throw new TypeError(`LoRA adapter names must be non-empty and differ from the base model: ${loras.join(', ')}`);
  }
  const mode = opts.mode ?? 'random';
  if (mode !== 'echo' && mode !== 'random') throw new TypeError(`mode must be echo or random, got ${String(mode)}`);
  const port = nonNegative('port', opts.port ?? 8000, true);
  if (port > 65535) throw new RangeError(`port must be at most 65535, got ${port}`);
  const maxNumSeqs = nonNegative('maxNumSeqs', opts.maxNumSeqs ?? 5, true);
  if (maxNumSeqs < 1) throw new RangeError('maxNumSeqs must be at least 1');
  const maxTokensDefault = nonNegative('maxTokensDefault', opts.maxTokensDefault ?? 16, true);
  return {
    model: opts.model,
    loras,
    host: opts.host ?? '127.0.0.1',
    port,
    podName: opts.podName ?? '',
    maxNumSeqs,
    ttftMs: nonNegative('ttftMs', opts.ttftMs ?? 10, false),
    itlMs: nonNegative('itlMs', opts.itlMs ?? 2, false),
    mode,
    maxTokensDefault,
  };
}

/** Starts listening; rejects if the address cannot be bound (e.g. EADDRINUSE). */
export async function startSimulator(opts: SimulatorOptions): Promise<RunningSimulator> {
  const options = resolveSimulatorOptions(opts);
  const { model, loras, mode, maxTokensDefault, podName, maxNumSeqs, ttftMs, itlMs } = options;
  const metrics = new VllmMetrics(model, maxNumSeqs, loras.length);
  const engine = new Engine({ maxNumSeqs, ttftMs, itlMs }, metrics);
  const created = Math.floor(Date.now() / 1000);
  let closing: Promise<void> | null = null;
  const listener = createRequestListener({
    engine, model, loras, mode, maxTokensDefault, podName, metrics, created,
    isClosing: () => closing !== null,
  });

  // Every response not yet closed, so close() can wait for them like a draining pod.
  const inFlight = new Set<ServerResponse>();
  let onIdle: (() => void) | null = null;
  const server = createServer((req, res) => {
    inFlight.add(res);
    res.once('close', () => {
      inFlight.delete(res);
      if (inFlight.size === 0) onIdle?.();
    });
    listener(req, res);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const hostInUrl = options.host.includes(':') ? `[${options.host}]` : options.host;

  const shutdown = async (): Promise<void> => {
    const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
    if (inFlight.size > 0) await new Promise<void>((resolve) => (onIdle = resolve));
    // Finished keep-alive connections would otherwise hold server.close() open until they time out.
    server.closeAllConnections();
    await stopped;
    engine.close();
  };

  return {
    host: options.host,
    port,
    url: `http://${hostInUrl}:${port}`,
    options,
    close: () => (closing ??= shutdown()),
    stats: () => ({ running: engine.running, waiting: engine.waiting, totalRequests: engine.submitted }),
  };
}
