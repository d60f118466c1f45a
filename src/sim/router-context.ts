/** What a simulator request may touch: the router and every route handler get it. */
import type { ApiKeyGuard } from './api-key-guard.js';
import type { AudioDeps } from './audio-handler.js';
import type { PoolingDeps } from './pooling-handler.js';
import type { ResponsesDeps } from './responses-handler.js';
import type { SimTask } from './sim-task.js';
import type { TokenizeDeps } from './tokenize-handler.js';
import type { VllmMetrics } from './vllm-metrics.js';

/** Everything a request may touch. */
export interface RouterContext extends ResponsesDeps, PoolingDeps, TokenizeDeps, AudioDeps {
  readonly podName: string;
  readonly metrics: VllmMetrics;
  /** Unix seconds the simulator started, reported as `created` in the model list. */
  readonly created: number;
  readonly task: SimTask;
  readonly apiKeys: ApiKeyGuard;
  /** True once close() began: new requests on open connections are reset, unprocessed. */
  isClosing(): boolean;
}
