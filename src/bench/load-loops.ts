/** The two load shapes: open loop (Poisson arrivals at a rate, not waiting for replies) and closed loop (N workers). */
import type { DispatchGate } from './dispatch-gate.js';
import { exponentialGap } from './sampling.js';

/** Sends request i and resolves when it is finished; must not reject. */
export type Fire = (i: number) => Promise<void>;

/**
 * Starts request i at the i-th arrival of a Poisson process (exponential gaps from `random`), whether or not earlier
 * ones have answered, until `maxRequests` or the gate closes; then waits for those in flight. Arrival times are
 * computed from the start, not from when the previous timer fired, so timer lateness does not lower the rate.
 */
export async function runOpenLoop(o: { rate: number; maxRequests: number; gate: DispatchGate; random: () => number; fire: Fire }): Promise<void> {
  const inFlight = new Set<Promise<void>>();
  let due = performance.now();
  for (let i = 0; i < o.maxRequests && o.gate.isOpen; i++) {
    due += exponentialGap(o.random, o.rate) * 1000;
    const wait = due - performance.now();
    // Timers cannot wait less than ~1 ms; arrivals closer than that go out back to back, at their average rate,
    // one per turn of the event loop: at a rate whose gap is shorter than what starting a request costs, a loop
    // that never yielded sent every --requests at once, and --duration's timer, Ctrl-C and the replies waited
    // for it.
    if (wait >= 1) await o.gate.sleep(wait);
    else await new Promise<void>((resolve) => setImmediate(resolve));
    if (!o.gate.isOpen) break;
    const p = o.fire(i).finally(() => inFlight.delete(p));
    inFlight.add(p);
  }
  o.gate.close();
  await Promise.all(inFlight);
}

/** `concurrency` workers, each sending its next request as soon as its previous one finished. */
export async function runClosedLoop(o: { concurrency: number; maxRequests: number; gate: DispatchGate; fire: Fire }): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (o.gate.isOpen && next < o.maxRequests) {
      const i = next++;
      if (next === o.maxRequests) o.gate.close();
      await o.fire(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(o.concurrency, o.maxRequests) }, worker));
  o.gate.close();
}
