/**
 * Wraps the OTLP exporter so a collector that cannot be reached is said in the gateway's log (the SDK's own
 * diagnostics are silent by default): the first failure, then at most one line a minute, then the recovery.
 */
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { Logger } from '../../logger.js';

const REPEAT_MS = 60_000;

export class ReportingExporter implements SpanExporter {
  readonly #inner: SpanExporter;
  readonly #url: string;
  /** `OTLP/HTTP` or `OTLP/gRPC`: what the collector must listen for at the URL. */
  readonly #kind: string;
  readonly #log: Logger;
  /** Spans dropped since the last line said so. */
  #dropped = 0;
  #failing = false;
  #lastLine = 0;

  constructor(inner: SpanExporter, url: string, kind: 'OTLP/HTTP' | 'OTLP/gRPC', log: Logger) {
    this.#inner = inner;
    this.#url = url;
    this.#kind = kind;
    this.#log = log;
  }

  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    this.#inner.export(spans, (result) => {
      if (result.code === ExportResultCode.SUCCESS) {
        if (this.#failing) this.#log.info('trace export to the OTLP endpoint works again', { url: this.#url, dropped_spans: this.#dropped });
        this.#failing = false;
        this.#dropped = 0;
      } else {
        this.#dropped += spans.length;
        const now = Date.now();
        if (!this.#failing || now - this.#lastLine >= REPEAT_MS) {
          this.#log.warn(`trace export to the OTLP endpoint failed; spans are dropped until it answers. Check that the collector listens for ${this.#kind} there`, { url: this.#url, error: result.error?.message, dropped_spans: this.#dropped });
          this.#lastLine = now;
          this.#dropped = 0;
        }
        this.#failing = true;
      }
      done(result);
    });
  }

  shutdown(): Promise<void> {
    return this.#inner.shutdown();
  }

  forceFlush(): Promise<void> {
    return this.#inner.forceFlush?.() ?? Promise.resolve();
  }
}
