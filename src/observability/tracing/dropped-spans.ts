/**
 * Says in the gateway's log when the batch span processor drops spans because its queue is full
 * (`OTEL_BSP_MAX_QUEUE_SIZE`, 2048 by default): a collector slower than the traffic, or one that does not answer
 * while the exporter waits out its timeout. The SDK only counts these drops in its self-observability metric
 * `otel.sdk.processor.span.processed` (attribute `error.type: queue_full`) and in a diagnostics line that is
 * silent by default, so without this an operator sees traces go missing with no reason given.
 */
import { createNoopMeter, type Attributes, type Counter, type Meter, type MeterProvider, type MetricOptions } from '@opentelemetry/api';
import type { Logger } from '../../logger.js';

const REPEAT_MS = 60_000;
/** The value of `error.type` the SDK gives a span it dropped for a full queue. */
const QUEUE_FULL = 'queue_full';

export class DroppedSpans {
  readonly #log: Logger;
  readonly #now: () => number;
  /** Spans dropped since the last line said so. */
  #unsaid = 0;
  #total = 0;
  #lastLine = -Infinity;

  constructor(log: Logger, now: () => number = Date.now) {
    this.#log = log;
    this.#now = now;
  }

  /** Every span dropped for a full queue since the start. */
  get total(): number {
    return this.#total;
  }

  /**
   * The meter provider to give the batch processor as `selfObsMeterProvider`: its span counter reports drops
   * here; every other instrument is the API's no-op.
   */
  meterProvider(): MeterProvider {
    const noop = createNoopMeter();
    const count = (n: number): void => this.#dropped(n);
    const meter: Meter = Object.assign(Object.create(noop) as Meter, {
      createCounter<A extends Attributes>(name: string, options?: MetricOptions): Counter<A> {
        const inner = noop.createCounter<A>(name, options);
        return { add: (n: number, attrs?: A) => (attrs?.['error.type'] === QUEUE_FULL ? count(n) : inner.add(n, attrs)) };
      },
    });
    return { getMeter: () => meter };
  }

  /** Says what the last line has not said yet (at shutdown, so the count is not lost). */
  flush(): void {
    if (this.#unsaid > 0) this.#say();
  }

  #dropped(n: number): void {
    this.#unsaid += n;
    this.#total += n;
    // The first drop is said at once, then at most one line a minute, each with the count since the last.
    if (this.#now() - this.#lastLine >= REPEAT_MS) this.#say();
  }

  #say(): void {
    this.#log.warn('trace spans dropped: the span export queue was full (OTEL_BSP_MAX_QUEUE_SIZE, default 2048); the collector takes spans slower than the gateway makes them, or does not answer', {
      dropped_spans: this.#unsaid,
      dropped_total: this.#total,
    });
    this.#unsaid = 0;
    this.#lastLine = this.#now();
  }
}
