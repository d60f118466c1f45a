/** How the server takes in a request body, chunk by chunk: the JSON parser, the memory budget and the work slice. */
import type { ServerResponse } from 'node:http';
import type { JsonBodyParser } from '../bbr/json-body-parser.js';
import type { BodyBudget } from './body-budget.js';
import type { BodySink } from './read-body.js';
import type { WorkSlice } from './work-slice.js';

/**
 * A sink for readBody: each chunk goes to `parser` (when the body is JSON the gateway reads), its bytes and
 * the parse's estimated memory to a lease of `budget`, held until `res` closes; the body waits when the
 * budget is full or this turn's work slice is spent.
 */
export function bodyIntake(budget: BodyBudget, slice: WorkSlice, res: ServerResponse, parser?: JsonBodyParser): BodySink {
  const lease = budget.open();
  res.once('close', () => lease.release());
  let heap = 0;
  return {
    write(chunk) {
      const started = performance.now();
      let grew = chunk.length;
      if (parser) {
        parser.write(chunk);
        grew += parser.heapEstimate - heap;
        heap = parser.heapEstimate;
      }
      const sliceSpent = slice.spend(performance.now() - started);
      return lease.grow(grew) ?? (sliceSpent ? slice.nextTurn() : undefined);
    },
    end() {
      lease.done();
    },
  };
}
