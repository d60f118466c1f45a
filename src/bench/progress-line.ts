/** One line of progress for a terminal: counts, in-flight requests and the current completion rate. */
import type { Progress } from './run-bench.js';

export function progressLine(p: Progress): string {
  const fail = p.failures > 0 ? `  failed ${p.failures}` : '';
  return `${p.label}: ${p.elapsedS.toFixed(1)} s  sent ${p.sent}  done ${p.completed}${fail}  in flight ${p.inFlight}  ${p.rps.toFixed(1)} req/s`;
}
