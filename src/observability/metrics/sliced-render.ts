/**
 * Renders a prom-client Registry as Prometheus text in slices of the event loop. prom-client's own
 * `metrics()` formats every family inside one macrotask (its awaits are microtasks), so a scrape of a
 * gateway with hundreds of label sets held the request thread for tens of milliseconds in one go
 * (docs/benchmarks.md, "Metrics cost per request"). Here each family's samples are read at once and
 * formatted a chunk at a time by prom-client's own formatter, and once a slice has run `sliceMs` the
 * rest waits for the next event-loop turn, so requests in flight are served between slices. The text is
 * the same as `registry.metrics()`'s.
 */
import { Registry, type Metric, type MetricObjectWithValues, type MetricValue } from 'prom-client';

/** What one render did, for benchmarks and tests. */
export interface RenderSlices {
  /** Event-loop turns the render took (1 = it never yielded). */
  slices: number;
  /** The longest slice, in milliseconds: how long the request thread was held at once. */
  longestMs: number;
}

/** Time a render runs before it lets the event loop serve other work (ms). */
export const DEFAULT_SLICE_MS = 4;
/** Samples formatted between two looks at the clock. */
const CHUNK = 512;

type Values = MetricObjectWithValues<MetricValue<string>>;

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * The exposition text of every family in `registry`, in registration order: {@link renderSlicedBody}'s bytes as a
 * string (tests and benchmarks read it).
 */
export async function renderSliced(registry: Registry, sliceMs = DEFAULT_SLICE_MS, stats?: RenderSlices): Promise<string> {
  return Buffer.concat(await renderSlicedBody(registry, sliceMs, stats)).toString('utf8');
}

/**
 * The exposition's UTF-8 bytes, one buffer per family, encoded within the slices: what the admin listener writes,
 * so a large answer is never flattened and encoded in one go either. A family's samples are all read in one turn
 * (its buckets, sum and count stay consistent); different families may be read in different turns, as Prometheus
 * allows of any scrape. Only the Prometheus text format (the registry's default) is produced.
 */
export async function renderSlicedBody(registry: Registry, sliceMs = DEFAULT_SLICE_MS, stats?: RenderSlices): Promise<Buffer[]> {
  const body: Buffer[] = [];
  let sliceStart = performance.now();
  let slices = 1;
  let longest = 0;
  const pause = async (): Promise<void> => {
    const ran = performance.now() - sliceStart;
    if (ran < sliceMs) return;
    longest = Math.max(longest, ran);
    await nextTurn();
    slices++;
    sliceStart = performance.now();
  };
  // One scratch metric, re-registered per chunk, lends prom-client's formatter to a part of a family.
  const scratch = new Registry();
  let chunk: Values | undefined;
  const lender = { name: '', get: async (): Promise<Values | undefined> => chunk } as unknown as Metric & { name: string };
  for (const { name } of registry.getMetricsAsArray()) {
    const metric = registry.getSingleMetric(name) as unknown as { get(): Promise<Values> | Values; getForPromString?: unknown };
    let text: string;
    if (typeof metric.getForPromString === 'function') {
      // prom-client's own histograms format themselves.
      text = await registry.getSingleMetricAsString(name);
    } else {
      const whole = await metric.get();
      const values = whole.values ?? [];
      lender.name = name;
      text = '';
      for (let i = 0; i === 0 || i < values.length; i += CHUNK) {
        if (i > 0) await pause();
        chunk = { ...whole, values: values.slice(i, i + CHUNK) };
        scratch.clear();
        scratch.registerMetric(lender);
        const lines = await scratch.getSingleMetricAsString(name);
        // Every chunk comes with the family's HELP and TYPE lines; only the first keeps them.
        text += i === 0 ? lines : lines.slice(lines.indexOf('\n', lines.indexOf('\n') + 1));
      }
    }
    body.push(Buffer.from(body.length === 0 ? text : `\n\n${text}`));
    await pause();
  }
  body.push(Buffer.from('\n'));
  longest = Math.max(longest, performance.now() - sliceStart);
  if (stats) {
    stats.slices = slices;
    stats.longestMs = longest;
  }
  return body;
}
