/**
 * The gateway process as the dashboard shows it: how busy the request thread is (the first thing to saturate),
 * the CPU of the whole process, and its memory. Busy time and CPU are measured between two reads at least a
 * second apart (the page polls every second), so nothing runs between polls.
 */
import { performance } from 'node:perf_hooks';

export interface ProcessState {
  /** Share of time the request thread's event loop was running, 0-1, over `overSeconds`. */
  threadBusy: number;
  /** CPU time of the whole process (all threads) per second, in cores, over the same interval. */
  cpuCores: number;
  /** The interval measured: since the previous measurement, or since the process started. */
  overSeconds: number;
  rssBytes: number;
  heapUsedBytes: number;
  uptimeSeconds: number;
}

/** Reads less than this apart reuse the last measurement: a short interval would say little. */
const MIN_INTERVAL_MS = 1000;

export class ProcessView {
  #elu = performance.eventLoopUtilization();
  #cpu = process.cpuUsage();
  #at = performance.now();
  #last: Pick<ProcessState, 'threadBusy' | 'cpuCores' | 'overSeconds'>;

  constructor() {
    // Until a second has passed: the whole life of the process so far.
    const cpu = this.#cpu;
    const up = Math.max(process.uptime(), 1e-3);
    this.#last = { threadBusy: this.#elu.utilization, cpuCores: (cpu.user + cpu.system) / 1e6 / up, overSeconds: up };
  }

  read(): ProcessState {
    const now = performance.now();
    if (now - this.#at >= MIN_INTERVAL_MS) {
      const elu = performance.eventLoopUtilization(this.#elu);
      const cpu = process.cpuUsage(this.#cpu);
      const seconds = (now - this.#at) / 1000;
      this.#last = { threadBusy: elu.utilization, cpuCores: (cpu.user + cpu.system) / 1e6 / seconds, overSeconds: seconds };
      this.#elu = performance.eventLoopUtilization();
      this.#cpu = process.cpuUsage();
      this.#at = now;
    }
    const m = process.memoryUsage();
    return { ...this.#last, rssBytes: m.rss, heapUsedBytes: m.heapUsed, uptimeSeconds: process.uptime() };
  }
}
