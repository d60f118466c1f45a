/**
 * The process's own health, under the names every Prometheus client library exports (client_golang's process
 * collector, which GIE's and llm-d's Go EPPs serve; prom-client's defaults for Node): CPU, memory, file
 * descriptors and start time, and Node's event-loop delay, heap and garbage collection; and one of infergate's
 * own, the request thread's busy time, whose rate is its utilization.
 *
 * Nothing is recorded on the request path. CPU, memory and descriptors are read at scrape time; the event-loop
 * delay histogram and the collector's pauses are sampled as they happen, from the first scrape on (a gateway
 * nobody scrapes samples nothing) until close(). prom-client's `nodejs_active_*_total` gauges are left out (their
 * `_total` on a gauge breaks `promtool check metrics`), and so are its `nodejs_active_*`: listing every handle
 * at each scrape costs in proportion to the open connections.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { constants, monitorEventLoopDelay, PerformanceObserver, type IntervalHistogram } from 'node:perf_hooks';
import { CollectedFamily, type Emit } from './collected-family.js';
import type { Collectable } from './family.js';
import { HistogramFamily } from './histogram-family.js';

/** prom-client's bounds for `nodejs_gc_duration_seconds`. */
const GC_BUCKETS = [0.001, 0.01, 0.1, 1, 2, 5];
/** How finely the event-loop delay is sampled (ms): prom-client's default. */
const LOOP_RESOLUTION_MS = 10;

const GC_KINDS: Record<number, string> = {
  [constants.NODE_PERFORMANCE_GC_MAJOR]: 'major',
  [constants.NODE_PERFORMANCE_GC_MINOR]: 'minor',
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb',
};

/** `Max open files` of /proc/self/limits (the soft limit), or undefined where there is none. */
export function maxOpenFiles(limitsText: string): number | undefined {
  const m = /^Max open files\s+(\d+)/m.exec(limitsText);
  return m ? Number(m[1]) : undefined;
}

export class ProcessMetrics {
  readonly #startSeconds = Math.round(Date.now() / 1000 - process.uptime());
  readonly #gc = new HistogramFamily({ name: 'nodejs_gc_duration_seconds', help: 'Garbage collection duration by kind, one of major, minor, incremental or weakcb.', labelNames: ['kind'], buckets: GC_BUCKETS });
  #loop: IntervalHistogram | undefined;
  #gcObserver: PerformanceObserver | undefined;
  #closed = false;

  /** Every family, for GatewayMetrics to register. */
  families(): Collectable[] {
    const collected = (name: string, help: string, type: 'gauge' | 'counter', collect: (emit: Emit) => void, labelNames?: string[]): CollectedFamily =>
      new CollectedFamily({ name, help, type, ...(labelNames ? { labelNames } : {}), collect: (emit) => {
        this.#sample();
        collect(emit);
      } });
    const cpu = (read: (u: NodeJS.CpuUsage) => number) => (emit: Emit) => emit(read(process.cpuUsage()) / 1e6);
    const loop = (read: (h: IntervalHistogram) => number) => (emit: Emit) => {
      if (this.#loop && this.#loop.count > 0) emit(read(this.#loop) / 1e9);
    };
    const v = process.versions.node.split('.');
    return [
      collected('process_cpu_user_seconds_total', 'Total user CPU time spent in seconds.', 'counter', cpu((u) => u.user)),
      collected('process_cpu_system_seconds_total', 'Total system CPU time spent in seconds.', 'counter', cpu((u) => u.system)),
      collected('process_cpu_seconds_total', 'Total user and system CPU time spent in seconds.', 'counter', cpu((u) => u.user + u.system)),
      // Not a standard name: the request thread is what saturates first (docs/benchmarks.md), and its busy time is
      // the signal for that; rate() of it is the event loop's utilization, 1 when the thread has no idle time left.
      collected('infergate_event_loop_busy_seconds_total', "Time the request thread's event loop spent running (not waiting for I/O), in seconds; its rate is the thread's utilization, 1 when saturated.", 'counter', (emit) => emit(performance.eventLoopUtilization().active / 1000)),
      collected('process_start_time_seconds', 'Start time of the process since unix epoch in seconds.', 'gauge', (emit) => emit(this.#startSeconds)),
      collected('process_resident_memory_bytes', 'Resident memory size in bytes.', 'gauge', (emit) => emit(process.memoryUsage.rss())),
      collected('process_open_fds', 'Number of open file descriptors.', 'gauge', (emit) => {
        const n = openFds();
        if (n !== undefined) emit(n);
      }),
      collected('process_max_fds', 'Maximum number of open file descriptors.', 'gauge', (emit) => {
        const n = maxFds();
        if (n !== undefined) emit(n);
      }),
      collected('nodejs_heap_size_total_bytes', 'Process heap size from Node.js in bytes.', 'gauge', (emit) => emit(process.memoryUsage().heapTotal)),
      collected('nodejs_heap_size_used_bytes', 'Process heap size used from Node.js in bytes.', 'gauge', (emit) => emit(process.memoryUsage().heapUsed)),
      collected('nodejs_external_memory_bytes', 'Node.js external memory size in bytes.', 'gauge', (emit) => emit(process.memoryUsage().external)),
      collected('nodejs_version_info', 'Node.js version info.', 'gauge', (emit) => emit(1, process.version, v[0] ?? '', v[1] ?? '', v[2] ?? ''), ['version', 'major', 'minor', 'patch']),
      collected('nodejs_eventloop_lag_min_seconds', 'The minimum recorded event loop delay since the last scrape.', 'gauge', loop((h) => h.min)),
      collected('nodejs_eventloop_lag_max_seconds', 'The maximum recorded event loop delay since the last scrape.', 'gauge', loop((h) => h.max)),
      collected('nodejs_eventloop_lag_mean_seconds', 'The mean of the recorded event loop delays since the last scrape.', 'gauge', loop((h) => h.mean)),
      collected('nodejs_eventloop_lag_stddev_seconds', 'The standard deviation of the recorded event loop delays since the last scrape.', 'gauge', loop((h) => h.stddev)),
      collected('nodejs_eventloop_lag_p50_seconds', 'The 50th percentile of the recorded event loop delays since the last scrape.', 'gauge', loop((h) => h.percentile(50))),
      collected('nodejs_eventloop_lag_p90_seconds', 'The 90th percentile of the recorded event loop delays since the last scrape.', 'gauge', loop((h) => h.percentile(90))),
      // The last of the loop families: the window restarts once it has been read.
      collected('nodejs_eventloop_lag_p99_seconds', 'The 99th percentile of the recorded event loop delays since the last scrape.', 'gauge', (emit) => {
        loop((h) => h.percentile(99))(emit);
        this.#loop?.reset();
      }),
      this.#gc,
    ];
  }

  /** Stops the samplers; later scrapes read CPU and memory only. */
  close(): void {
    this.#closed = true;
    this.#loop?.disable();
    this.#gcObserver?.disconnect();
  }

  /** Starts the samplers at the first scrape. */
  #sample(): void {
    if (this.#loop || this.#closed) return;
    this.#loop = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
    this.#loop.enable();
    this.#gcObserver = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        const kind = GC_KINDS[(e as unknown as { detail?: { kind?: number } }).detail?.kind ?? -1] ?? 'unknown';
        this.#gc.series(kind).observe(e.duration / 1000);
      }
    });
    this.#gcObserver.observe({ entryTypes: ['gc'] });
  }
}

/** Descriptors open now (Linux: /proc/self/fd, less the one reading it), or undefined where /proc is absent. */
function openFds(): number | undefined {
  try {
    return readdirSync('/proc/self/fd').length - 1;
  } catch {
    return undefined;
  }
}

let maxFdsRead = false;
let maxFdsValue: number | undefined;

/** The soft limit, read once: Node raises it to the hard limit at startup, and nothing changes it later. */
function maxFds(): number | undefined {
  if (!maxFdsRead) {
    maxFdsRead = true;
    try {
      maxFdsValue = maxOpenFiles(readFileSync('/proc/self/limits', 'utf8'));
    } catch {
      maxFdsValue = undefined;
    }
  }
  return maxFdsValue;
}
