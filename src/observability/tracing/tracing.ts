/**
 * The tracing pipeline of one gateway process: a tracer provider of its own (nothing global), spans batched
 * and exported over OTLP/HTTP, and the request observer that makes them. Built only when tracing is on.
 */
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { defaultResource, detectResources, envDetector, resourceFromAttributes, type Resource } from '@opentelemetry/resources';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import type { Logger } from '../logger.js';
import { buildInfo } from '../metrics/info-metrics.js';
import { ReportingExporter } from './reporting-exporter.js';
import type { TracingConfig } from './tracing-config.js';
import { TracingObserver } from './tracing-observer.js';

export class Tracing {
  readonly config: TracingConfig;
  /** Register it beside the metrics' observer: it turns each request into spans. */
  readonly observer: TracingObserver;
  /** `service.name` as exported (`OTEL_SERVICE_NAME`, else `infergate`). */
  readonly serviceName: string;
  readonly #provider: BasicTracerProvider;
  #closed: Promise<void> | undefined;

  constructor(config: TracingConfig, log: Logger) {
    this.config = config;
    const resource = tracingResource();
    this.serviceName = String(resource.attributes[ATTR_SERVICE_NAME]);
    // The exporter reads OTEL_EXPORTER_OTLP_HEADERS, _TIMEOUT, _COMPRESSION and the TLS files itself.
    const exporter = new ReportingExporter(new OTLPTraceExporter({ url: config.url }), config.url, log);
    // The batch processor reads OTEL_BSP_*; the provider reads OTEL_TRACES_SAMPLER(_ARG) (default parentbased_always_on).
    const processor = new BatchSpanProcessor(exporter, config.scheduleDelayMs !== undefined ? { scheduledDelayMillis: config.scheduleDelayMs } : {});
    this.#provider = new BasicTracerProvider({ resource, spanProcessors: [processor], ...(config.sampler ? { sampler: config.sampler } : {}) });
    this.observer = new TracingObserver(this.#provider.getTracer('infergate', version()));
    log.info('tracing on: spans are exported over OTLP/HTTP', {
      url: config.url,
      from: config.source,
      service: this.serviceName,
      sampler: config.sampler ? config.sampler.toString() : samplerFromEnv(),
    });
  }

  /** Exports every span ended so far. Never rejects: a failed export is already in the log (ReportingExporter). */
  flush(): Promise<void> {
    return this.#provider.forceFlush().catch(() => undefined);
  }

  /** Exports what is left and stops; later calls wait for the same shutdown. Never rejects, as flush(). */
  shutdown(): Promise<void> {
    this.#closed ??= this.#provider.shutdown().catch(() => undefined);
    return this.#closed;
  }
}

function version(): string {
  const ref = buildInfo().buildRef;
  return ref.startsWith('v') ? ref.slice(1) : ref;
}

/** The SDK's defaults, then infergate's name and version, then OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES over them. */
function tracingResource(): Resource {
  return defaultResource()
    .merge(resourceFromAttributes({ [ATTR_SERVICE_NAME]: 'infergate', [ATTR_SERVICE_VERSION]: version() }))
    .merge(detectResources({ detectors: [envDetector] }));
}

function samplerFromEnv(): string {
  const name = process.env.OTEL_TRACES_SAMPLER?.trim() || 'parentbased_always_on';
  const arg = process.env.OTEL_TRACES_SAMPLER_ARG?.trim();
  return arg ? `${name} (${arg})` : name;
}
