/**
 * The tracing pipeline of one gateway process: a tracer provider of its own (nothing global), spans batched
 * and exported over OTLP (HTTP or gRPC), and the request observer that makes them. Built only when tracing is on.
 */
import type { MeterProvider } from '@opentelemetry/api';
import { BasicTracerProvider, BatchSpanProcessor, type BufferConfig } from '@opentelemetry/sdk-trace-base';
import { OTLPTraceExporter as OtlpJsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as OtlpProtobufExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { OTLPTraceExporter as OtlpGrpcExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { defaultResource, detectResources, envDetector, resourceFromAttributes, type Resource } from '@opentelemetry/resources';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import type { Logger } from '../../logger.js';
import { buildInfo } from '../metrics/info-metrics.js';
import { DroppedSpans } from './dropped-spans.js';
import { ReportingExporter } from './reporting-exporter.js';
import { DEFAULT_TRACES_SAMPLER, TRACES_SAMPLERS, shownUrl, type OtlpProtocol, type TracingConfig } from './tracing-config.js';
import { TracingObserver } from './tracing-observer.js';

/**
 * How long shutdown waits for the last spans to reach the collector: within the 45 s grace period the
 * manifests give (5 s delay + 30 s drain + this), so a collector that is down cannot hold the exit up.
 */
export const SHUTDOWN_EXPORT_TIMEOUT_MS = 5000;

export class Tracing {
  readonly config: TracingConfig;
  /** Register it beside the metrics' observer: it turns each request into spans. */
  readonly observer: TracingObserver;
  /** `service.name` as exported (`OTEL_SERVICE_NAME`, else `infergate`). */
  readonly serviceName: string;
  readonly #provider: BasicTracerProvider;
  readonly #log: Logger;
  /** Spans the batch processor dropped for a full queue, said in the log. */
  readonly #dropped: DroppedSpans;
  #closed: Promise<void> | undefined;

  constructor(config: TracingConfig, log: Logger) {
    this.config = config;
    this.#log = log;
    const resource = tracingResource();
    this.serviceName = String(resource.attributes[ATTR_SERVICE_NAME]);
    const protocol = config.protocol ?? 'http/protobuf';
    const otlp = otlpExporter(protocol, config.url);
    const exporter = new ReportingExporter(otlp, shownUrl(config.url), protocol === 'grpc' ? 'OTLP/gRPC' : 'OTLP/HTTP', log);
    // The batch processor reads OTEL_BSP_*; the provider reads OTEL_TRACES_SAMPLER(_ARG) (default parentbased_always_on).
    this.#dropped = new DroppedSpans(log);
    // `selfObsMeterProvider` is sdk-trace's (experimental) option, which sdk-trace-base's shim passes on without
    // typing it; the package is pinned, and tracing.test.ts fails if an upgrade stops the drops from arriving.
    const bufferConfig: BufferConfig & { selfObsMeterProvider: MeterProvider } = {
      ...(config.scheduleDelayMs !== undefined ? { scheduledDelayMillis: config.scheduleDelayMs } : {}),
      selfObsMeterProvider: this.#dropped.meterProvider(),
    };
    const processor = new BatchSpanProcessor(exporter, bufferConfig);
    this.#provider = new BasicTracerProvider({ resource, spanProcessors: [processor], ...(config.sampler ? { sampler: config.sampler } : {}) });
    this.observer = new TracingObserver(this.#provider.getTracer('infergate', version()));
    log.info(`tracing on: spans are exported over ${protocol === 'grpc' ? 'OTLP/gRPC' : 'OTLP/HTTP'}`, {
      url: shownUrl(config.url),
      protocol,
      from: config.source,
      service: this.serviceName,
      sampler: config.sampler ? config.sampler.toString() : samplerFromEnv(),
    });
  }

  /** Exports every span ended so far. Never rejects: a failed export is already in the log (ReportingExporter). */
  flush(): Promise<void> {
    return this.#provider.forceFlush().catch(() => undefined);
  }

  /**
   * Exports what is left and stops, waiting at most `timeoutMs` (the rest is dropped, and the log says so);
   * later calls wait for the same shutdown. Never rejects, as flush().
   */
  shutdown(timeoutMs = SHUTDOWN_EXPORT_TIMEOUT_MS): Promise<void> {
    this.#closed ??= this.#shutdown(timeoutMs);
    return this.#closed;
  }

  async #shutdown(timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), timeoutMs);
    });
    const done = this.#provider.shutdown().then(
      () => 'done' as const,
      () => 'done' as const,
    );
    const outcome = await Promise.race([done, late]);
    clearTimeout(timer);
    this.#dropped.flush();
    if (outcome === 'late') this.#log.warn(`trace export did not finish within ${timeoutMs} ms of shutdown; the spans not yet exported are dropped`, { url: shownUrl(this.config.url) });
  }
}

/**
 * The exporter for `protocol`. Each reads OTEL_EXPORTER_OTLP_HEADERS, _TIMEOUT, _COMPRESSION and the TLS files
 * itself; over gRPC an `http://` URL is a plain connection and `https://` TLS (OTEL_EXPORTER_OTLP_INSECURE aside).
 */
function otlpExporter(protocol: OtlpProtocol, url: string): OtlpJsonExporter | OtlpProtobufExporter | OtlpGrpcExporter {
  switch (protocol) {
    case 'http/json':
      return new OtlpJsonExporter({ url });
    case 'grpc':
      return new OtlpGrpcExporter({ url });
    case 'http/protobuf':
      return new OtlpProtobufExporter({ url });
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

/** The sampler in force, as the SDK reads OTEL_TRACES_SAMPLER: an unknown name is its default (tracingSettings warned). */
function samplerFromEnv(): string {
  const given = process.env.OTEL_TRACES_SAMPLER?.trim();
  const name = given && (TRACES_SAMPLERS as readonly string[]).includes(given) ? given : DEFAULT_TRACES_SAMPLER;
  const arg = process.env.OTEL_TRACES_SAMPLER_ARG?.trim();
  return arg ? `${name} (${arg})` : name;
}
