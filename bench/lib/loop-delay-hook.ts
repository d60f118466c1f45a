/**
 * Loaded into a process under test with `node --import` (see bench/parse-attack.ts): records its event loop's
 * delay from SIGUSR2 on (sent once the process is ready, so start-up does not count) and, as the process exits,
 * writes p50/p99/max in ms to the file named by LOOP_DELAY_FILE. The delay is the process's own view: time its
 * loop was blocked, or the process was not scheduled.
 */
import { writeFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';

const file = process.env.LOOP_DELAY_FILE;
if (file) {
  const h = monitorEventLoopDelay({ resolution: 5 });
  process.on('SIGUSR2', () => {
    h.reset();
    h.enable();
  });
  process.once('exit', () => {
    h.disable();
    const ms = (ns: number): number => Math.round(ns / 1e4) / 100;
    writeFileSync(file, JSON.stringify({ p50: ms(h.percentile(50)), p99: ms(h.percentile(99)), max: ms(h.max) }));
  });
}
