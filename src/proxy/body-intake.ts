/** How the server takes in a request body, chunk by chunk: the JSON parser, the memory budget and the work slice. */
import type { ServerResponse } from 'node:http';
import type { JsonBodyReader } from '../bbr/json-body-reader.js';
import type { BodyBudget } from './body-budget.js';
import type { BodySink } from './read-body.js';
import type { WorkSlice } from './work-slice.js';

/**
 * A sink for readBody: each chunk goes to `parser` (when the body is JSON the gateway reads), its bytes and
 * the parse's estimated memory to a lease of `budget`, held until `res` closes. A chunk that finds the work
 * slice spent is parsed when the slice lets this body go on; when the budget is full, the body waits for it,
 * then for its turn.
 */
export function bodyIntake(budget: BodyBudget, slice: WorkSlice, res: ServerResponse, parser?: JsonBodyReader): BodySink {
  const lease = budget.open();
  // The response is this request's alone and closes once: a plain listener, no once-wrapper.
  res.on('close', lease.release);
  let heap = 0;
  const take = (chunk: Buffer): Promise<void> | undefined => {
    const started = performance.now();
    let grew = chunk.length;
    if (parser) {
      parser.write(chunk);
      grew += parser.heapEstimate - heap;
      heap = parser.heapEstimate;
    }
    slice.add(performance.now() - started);
    return lease.grow(grew)?.then(() => slice.resume());
  };
  return {
    write: (chunk) => (slice.spent ? slice.resume().then(() => take(chunk)) : take(chunk)),
    arrived: () => lease.done(),
  };
}

/**
 * The intake of a JSON body whose Content-Length says it is small enough for the quick parse
 * (QUICK_JSON_MAX_BYTES): the reader only keeps its chunks, so there is no parse work to slice, and a body this
 * small never waits for the budget, so its bytes are counted at once, with no lease, until `res` closes.
 */
export function smallBodyIntake(budget: BodyBudget, res: ServerResponse, reader: JsonBodyReader, bytes: number): BodySink {
  res.on('close', budget.hold(bytes));
  return reader;
}
