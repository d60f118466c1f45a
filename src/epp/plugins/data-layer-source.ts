/**
 * llm-d's data-layer plugins (`endpoint-notification-source`, `metrics-data-source`, `core-metrics-extractor`,
 * `models-data-source`, `models-data-extractor`), which its sample configs declare, and its `inflight-load-producer`:
 * infergate's datastore already tells plugins of endpoints coming and going, scrapes `/metrics`, polls `/v1/models`
 * and counts requests in flight itself, so these load, say so once, and do nothing.
 */
import type { PluginFactory } from '../framework/registry.js';
import { noOpPluginFactory } from './no-op-plugin.js';

export const ENDPOINT_NOTIFICATION_SOURCE_TYPE = 'endpoint-notification-source';
export const METRICS_DATA_SOURCE_TYPE = 'metrics-data-source';
export const CORE_METRICS_EXTRACTOR_TYPE = 'core-metrics-extractor';
export const INFLIGHT_LOAD_PRODUCER_TYPE = 'inflight-load-producer';
export const MODELS_DATA_SOURCE_TYPE = 'models-data-source';
export const MODELS_DATA_EXTRACTOR_TYPE = 'models-data-extractor';

const WHY: Record<string, string> = {
  [ENDPOINT_NOTIFICATION_SOURCE_TYPE]: 'pods joining and leaving reach the KV-event plugins from the datastore',
  [METRICS_DATA_SOURCE_TYPE]: 'every endpoint\'s /metrics is scraped by the gateway (--refresh-metrics-interval)',
  [CORE_METRICS_EXTRACTOR_TYPE]: 'vLLM\'s metrics are read by the gateway\'s own scraper',
  [MODELS_DATA_SOURCE_TYPE]: 'every endpoint\'s /v1/models is polled by the gateway (--models-refresh-interval), adapters with their parent',
  [MODELS_DATA_EXTRACTOR_TYPE]: 'what each endpoint serves (models and adapters, with their parent) is kept by the gateway\'s datastore, which served-model-filter and lora-affinity-scorer read',
  [INFLIGHT_LOAD_PRODUCER_TYPE]: 'the gateway counts each endpoint\'s requests in flight itself, from the pick to the end of the response (active-request-scorer, concurrency-detector read that)',
};

/** A factory for one of the types above: any parameters are accepted and ignored, with a note. */
export function dataLayerSourceFactory(type: string): PluginFactory {
  return noOpPluginFactory(type, WHY[type] ?? 'the gateway does this itself');
}
