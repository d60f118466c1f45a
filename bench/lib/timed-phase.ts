/** One phase of a benchmark: `concurrency` workers in a closed loop, bounded by a request count and a time, each request timed. */

/** Runs `run` until `maxRequests` have started or `maxMs` has passed; the latencies are in ms, in the order requests ended. */
export async function timedPhase(run: () => Promise<void>, concurrency: number, maxRequests: number, maxMs: number): Promise<{ latencies: number[]; wallMs: number }> {
  const latencies: number[] = [];
  const start = performance.now();
  let issued = 0;
  const worker = async (): Promise<void> => {
    while (issued < maxRequests && performance.now() - start < maxMs) {
      issued++;
      const t = performance.now();
      await run();
      latencies.push(performance.now() - t);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { latencies, wallMs: performance.now() - start };
}
